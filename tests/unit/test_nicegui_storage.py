"""The NiceGUI storage internals the app adapts (lesson/storage/nicegui_storage.py), checked against the installed
NiceGUI: an upgrade that moves any of them fails here, naming what moved, instead of losing learner progress."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from nicegui import app
from nicegui.persistence import FilePersistentDict, RedisPersistentDict

from lesson.storage import nicegui_storage
from lesson.storage.nicegui_storage import (
    INSTANCE_ATTRIBUTES,
    STORAGE_ATTRIBUTES,
    SUPPORTED,
    SUPPORTED_TEXT,
    LearnerFile,
    missing_internals,
    nicegui_version,
)

ROOT = Path(__file__).resolve().parents[2]
UPGRADE = (
    'read NiceGUI storage.py and persistence/ against lesson/storage/nicegui_storage.py (INTERNALS, the two dict '
    'classes), then widen SUPPORTED there and the pin in pyproject.toml'
)


def test_the_installed_nicegui_is_a_supported_one() -> None:
    installed = version('nicegui')
    assert SUPPORTED[0] <= nicegui_version() < SUPPORTED[1], f'NiceGUI {installed} is not {SUPPORTED_TEXT}: {UPGRADE}'


def test_pyproject_pins_the_range_the_adapter_supports() -> None:
    pin = re.search(r'"nicegui\[redis\]([^"]*)"', (ROOT / 'pyproject.toml').read_text(encoding='utf-8'))
    assert pin is not None and pin.group(1) == SUPPORTED_TEXT


def test_every_storage_internal_the_app_touches_is_there() -> None:
    assert missing_internals() == [], f'NiceGUI {version("nicegui")} moved storage internals: {UPGRADE}'


def test_the_dicts_have_the_attributes_the_subclasses_use(tmp_path: Path) -> None:
    made = {
        FilePersistentDict: FilePersistentDict(tmp_path / 'storage-user-x.json', encoding='utf-8'),
        # no connection is made until the dict is used
        RedisPersistentDict: RedisPersistentDict(url='redis://127.0.0.1:1/0', id='user-x', key_prefix='test:'),
    }
    missing = [
        f'{owner.__qualname__}().{name}'
        for owner, instance in made.items()
        for name in INSTANCE_ATTRIBUTES[owner]
        if not hasattr(instance, name)
    ]
    missing += [f'app.storage.{name}' for name in STORAGE_ATTRIBUTES if not hasattr(app.storage, name)]
    assert missing == [], f'NiceGUI {version("nicegui")} moved storage internals: {UPGRADE}'


def test_a_learner_file_is_written_whole_only_when_there_is_something_to_keep(tmp_path: Path) -> None:
    path = tmp_path / 'storage-user-x.json'
    learner = LearnerFile(path, read=lambda _path: {})
    learner['dark_mode'] = False  # what every page writes: not worth a file
    assert not path.exists()
    learner['quiz'] = {'attempts': []}
    assert path.read_text(encoding='utf-8') == nicegui_storage.serialized(learner, str(path))
