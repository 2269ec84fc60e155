"""The code's own hygiene, checked with the suite (so CI checks it too): formatting, lint and types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, '-m', *command], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    'command',
    [
        pytest.param(('ruff', 'format', '--check', '.'), id='ruff format'),
        pytest.param(('ruff', 'check', '.'), id='ruff check'),
        pytest.param(('mypy', 'lesson', 'demos', 'tests', 'benchmarks'), id='mypy'),
    ],
)
def test_the_code_passes(command: tuple[str, ...]) -> None:
    result = run(*command)
    assert result.returncode == 0, f'{" ".join(command)}:\n{result.stdout}{result.stderr}'
