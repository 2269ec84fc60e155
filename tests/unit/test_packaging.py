"""A regular install ships every package of the source tree (pyproject lists them by hand, because content/ is
mapped into the package as lesson._content): a new sub-package left off the list works in a checkout and breaks
only after `pip install`, so the list is checked here, in milliseconds, instead of by the slow install test alone."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def source_packages() -> set[str]:
    return {
        '.'.join(init.parent.relative_to(REPO).parts)
        for top in ('lesson', 'demos')
        for init in (REPO / top).rglob('__init__.py')
        if '__pycache__' not in init.parts
    }


def test_pyproject_lists_every_package_of_the_source_tree() -> None:
    listed = set(tomllib.loads((REPO / 'pyproject.toml').read_text())['tool']['setuptools']['packages'])
    assert source_packages() - listed == set(), 'add these to [tool.setuptools] packages in pyproject.toml'
    assert listed - source_packages() == {'lesson._content'}, 'pyproject lists packages the tree does not have'
