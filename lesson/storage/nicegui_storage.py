"""Every reach into NiceGUI's storage internals, in one module, checked against the NiceGUI versions we support.

NiceGUI makes each storage dict (``app.storage.user``, tab and general storage) through the private static method
``Storage._create_persistent_dict``; the app replaces it (:func:`use_persistent_dicts`) to make learner files that
survive damage (:class:`LearnerFile`) or Redis dicts that survive an outage
(:class:`lesson.storage.redis_learner_dict.ResilientRedisDict`). Those two subclass NiceGUI's persistent dicts and
use some of their private attributes: :data:`INTERNALS` names every one, :func:`missing_internals` says which an
installed NiceGUI lacks, and a test runs it against the installed version so an upgrade that moves them fails
there, by name, instead of in a class.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
from collections.abc import Callable, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from nicegui import app, background_tasks, core
from nicegui.persistence import FilePersistentDict, PersistentDict, RedisPersistentDict
from nicegui.persistence.serialization import dumps
from nicegui.storage import TAB_PREFIX, TTL_BUFFER_SECONDS, USER_PREFIX, Storage

from lesson.storage.atomic_files import write_atomically
from lesson.storage.learner_schema import CheckedWrites
from lesson.storage.learner_store import worth_keeping

log = logging.getLogger(__name__)

#: The NiceGUI versions whose storage internals :data:`INTERNALS` was checked against (pyproject.toml pins the same).
SUPPORTED = ((3, 18), (4, 0))
SUPPORTED_TEXT = '>=3.18,<4'
#: What the app touches beyond NiceGUI's public API: class attributes and methods, constructor parameters, and the
#: attributes an instance has once made (checked on an instance by the test).
INTERNALS: Mapping[type, tuple[str, ...]] = {
    Storage: ('_create_persistent_dict', 'redis_url', 'redis_key_prefix', 'path'),
    FilePersistentDict: ('initialize', 'initialize_sync', 'backup'),
    RedisPersistentDict: ('initialize', 'initialize_sync', '_start_listening', 'publish', 'close'),
}
CONSTRUCTOR_PARAMETERS: Mapping[type, tuple[str, ...]] = {
    FilePersistentDict: ('filepath', 'encoding', 'indent'),
    RedisPersistentDict: ('url', 'id', 'key_prefix', 'ttl'),
}
INSTANCE_ATTRIBUTES: Mapping[type, tuple[str, ...]] = {
    FilePersistentDict: ('filepath', 'encoding', 'indent'),
    RedisPersistentDict: (
        'url',
        '_redis_client_params',
        'redis_client',
        'pubsub',
        'key_prefix',
        'key',
        'ttl',
        '_listener_task',
    ),
}
#: What ``Storage()`` has once made (the learners whose storage is loaded right now).
STORAGE_ATTRIBUTES = ('_users', 'max_tab_storage_age', 'general')

PersistentDictFactory = Callable[[str], PersistentDict]


def nicegui_version() -> tuple[int, ...]:
    return tuple(int(part) for part in version('nicegui').split('.')[:2] if part.isdigit())


def missing_internals() -> list[str]:
    """The internals in :data:`INTERNALS` and :data:`CONSTRUCTOR_PARAMETERS` this NiceGUI lacks (empty: none)."""
    missing: list[str] = []
    for owner, names in INTERNALS.items():
        missing += [f'{owner.__qualname__}.{name}' for name in names if not hasattr(owner, name)]
    for owner, names in CONSTRUCTOR_PARAMETERS.items():
        parameters = inspect.signature(owner).parameters
        missing += [f'{owner.__qualname__}({name}=...)' for name in names if name not in parameters]
    return missing


def use_persistent_dicts(factory: PersistentDictFactory) -> None:
    """The one patch: NiceGUI makes every storage dict with ``factory`` from now on."""
    if missing := missing_internals():
        raise RuntimeError(
            f'NiceGUI {version("nicegui")} lacks storage internals this app relies on ({", ".join(missing)}); '
            f'install a NiceGUI {SUPPORTED_TEXT}'
        )
    if not SUPPORTED[0] <= nicegui_version() < SUPPORTED[1]:
        log.warning(
            'NiceGUI %s is outside %s, the versions this app was tested with', version('nicegui'), SUPPORTED_TEXT
        )
    Storage._create_persistent_dict = staticmethod(factory)  # type: ignore[method-assign,assignment]


def storage_folder() -> Path:
    return Storage.path


def learners_in_memory() -> list[str]:
    """Session ids of the learners whose storage is loaded right now."""
    return list(app.storage._users)


def is_learner_storage(storage_id: str) -> bool:
    """Whether a storage dict is a learner's own (``app.storage.user``), as NiceGUI names them."""
    return storage_id.startswith(USER_PREFIX)


def is_learner_key(key: str, key_prefix: str) -> bool:
    """Whether a Redis key holds a learner's own storage (not a tab's, not the general one)."""
    return key.startswith(key_prefix + USER_PREFIX)


def tab_ttl_s(storage_id: str) -> int | None:
    """NiceGUI's expiry for a tab's storage in Redis (none for others), as its own factory computes it."""
    return int(app.storage.max_tab_storage_age + TTL_BUFFER_SECONDS) if storage_id.startswith(TAB_PREFIX) else None


def use_redis(url: str, key_prefix: str, factory: PersistentDictFactory) -> None:
    """Keep every storage dict in Redis, made by ``factory``: NiceGUI's own switch (``Storage.redis_url``, what
    ``NICEGUI_REDIS_URL`` would set), then the storage made again so that nothing of it is left in files."""
    Storage.redis_url = url
    Storage.redis_key_prefix = key_prefix
    use_persistent_dicts(factory)
    app.storage = Storage()
    app.storage.general.initialize_sync()


def serialized(data: Mapping[str, Any], name: str, *, indent: bool = False) -> str:
    """The text NiceGUI stores for ``data`` (its own JSON, which knows dates and such)."""
    return dumps(data, name, indent=indent)


class LearnerFile(FilePersistentDict):
    """NiceGUI's file-backed storage that survives damage and leaves nothing behind for a learner who did nothing.

    ``read`` loads a file (an unreadable one is kept aside by :func:`lesson.storage.learner_files.read_learner_file`);
    writes are atomic (:func:`write_atomically`).
    """

    def __init__(self, filepath: Path, read: Callable[[Path], dict[str, Any]]) -> None:
        self.read = read
        super().__init__(filepath, encoding='utf-8')

    async def initialize(self) -> None:
        self.update(await asyncio.to_thread(self._load))

    def initialize_sync(self) -> None:
        self.update(self._load())

    def _load(self) -> dict[str, Any]:
        data = self.read(self.filepath)
        if data:
            # a visit counts as use for --forget-after-days even when the learner changes nothing
            with contextlib.suppress(OSError):
                os.utime(self.filepath)
        return data

    def backup(self) -> None:
        # No file for a learner with nothing to keep: a cookie-less visit must not leave one behind.
        if not self.filepath.exists() and not worth_keeping(self):
            return
        if core.is_loop_running():
            background_tasks.create_lazy(self._write_later(), name=self.filepath.stem)
        else:
            self._write()

    def _write(self) -> None:
        if not self:
            self.filepath.unlink(missing_ok=True)
            return
        self.filepath.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(
            self.filepath, serialized(self, str(self.filepath), indent=self.indent), self.encoding or 'utf-8'
        )

    @background_tasks.await_on_shutdown
    async def _write_later(self) -> None:
        # one worker-thread call from open to rename, so a cancellation never strands a half-written file
        await asyncio.to_thread(self._write)


class CheckedLearnerFile(CheckedWrites, LearnerFile):
    """A learner's file: writes checked against what the app writes (:mod:`lesson.storage.learner_schema`)."""
