"""Learner progress files that survive damage (without ``--redis-url``).

An unreadable file is kept aside (renamed, never overwritten), logged at WARNING and the learner told on their
next visit; writes are atomic (:class:`lesson.storage.nicegui_storage.LearnerFile`); a file is made only when a
learner has something to keep, and files untouched for ``--forget-after-days`` are deleted. The decisions are
plain functions over paths (:func:`keep_aside`, :func:`expired`, :func:`forget_abandoned`, ...); :func:`install`
wires them into NiceGUI, which only it imports (the rules test without it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lesson.config import Config

log = logging.getLogger(__name__)

USER_FILE_GLOB = 'storage-user-*.json'
UNREADABLE_MARK = '.unreadable-'
TOLD_SUFFIX = '.told'
#: How often abandoned progress is looked for, besides at start-up.
SWEEP_INTERVAL_S = 3600.0


def parse_progress(text: str) -> dict[str, Any]:
    """The stored JSON object; raises ValueError when the text is not one (truncated, garbled, a list...)."""
    from nicegui import json as nicegui_json  # the module NiceGUI itself reads these files with

    data = nicegui_json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f'expected a JSON object, found {type(data).__name__}')
    return data


def keep_aside(path: Path, now: datetime) -> Path:
    """Rename an unreadable file to ``<name>.unreadable-<UTC time>[-n]``, never over an existing file."""
    stamp = now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')
    for attempt in range(1000):
        target = path.with_name(f'{path.name}{UNREADABLE_MARK}{stamp}' + (f'-{attempt}' if attempt else ''))
        try:
            os.link(path, target)  # unlike rename, link refuses to replace an existing file
        except FileExistsError:
            continue
        path.unlink()
        # its age for --forget-after-days counts from now, not from its last good write
        os.utime(target)
        return target
    raise FileExistsError(f'no free name to keep {path} aside')


def session_id_of(path: Path) -> str | None:
    """``storage-user-<id>.json[.unreadable-...]`` -> ``<id>``."""
    name = path.name.split(UNREADABLE_MARK)[0]
    if name.startswith('storage-user-') and name.endswith('.json'):
        return name.removeprefix('storage-user-').removesuffix('.json')
    return None


@dataclass
class ProgressNotices:
    """Learners whose progress file could not be read and who have not been told yet, by session id."""

    pending: dict[str, Path] = field(default_factory=dict)

    def add(self, kept: Path) -> None:
        if session_id := session_id_of(kept):
            self.pending[session_id] = kept

    def load(self, folder: Path) -> None:
        """Kept-aside files nobody was told about yet (e.g. the app restarted before the learner came back)."""
        for kept in sorted(folder.glob(f'storage-user-*.json{UNREADABLE_MARK}*')):
            if not kept.name.endswith(TOLD_SUFFIX):
                self.add(kept)

    def take(self, session_id: str) -> Path | None:
        """The kept-aside file to tell this learner about, marked as told (renamed ``.told``), or None."""
        kept = self.pending.pop(session_id, None)
        if kept is None:
            return None
        told = kept.with_name(kept.name + TOLD_SUFFIX)
        with contextlib.suppress(OSError):  # already swept or renamed: telling matters more than the mark
            if not told.exists():
                kept.rename(told)
        return kept


NOTICES = ProgressNotices()
LOST_PROGRESS_MESSAGE = (
    'Your earlier progress could not be read, so you are starting afresh. The damaged file was kept for your teacher.'
)


def check_progress_file(path: Path, notices: ProgressNotices, now: datetime | None = None) -> dict[str, Any]:
    """Read one learner's progress; an unreadable file is kept aside, logged and queued for the learner."""
    try:
        return parse_progress(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:  # JSON errors are ValueErrors, UnicodeDecodeError too
        kept = keep_aside(path, now or datetime.now(UTC))
        notices.add(kept)
        log.warning(
            'progress file %s could not be read (%s); kept as %s, the learner starts afresh and is told',
            path,
            str(error)[:200],
            kept.name,
        )
        return {}


def check_all_progress(folder: Path, notices: ProgressNotices) -> int:
    """At start-up: every unreadable progress file is found now, logged by name, not when its learner returns."""
    unreadable = 0
    for path in sorted(folder.glob(USER_FILE_GLOB)):
        try:
            parse_progress(path.read_text(encoding='utf-8'))
        except FileNotFoundError:
            continue
        except (OSError, ValueError):
            check_progress_file(path, notices)
            unreadable += 1
    notices.load(folder)
    return unreadable


def expired(paths: Iterable[Path], now_s: float, max_age_s: float) -> list[Path]:
    """The learner files (progress or kept aside) untouched for longer than ``max_age_s``; 0 keeps everything."""
    if max_age_s <= 0:
        return []
    old = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if now_s - path.stat().st_mtime > max_age_s:
                old.append(path)
    return old


def forget_abandoned(folder: Path, max_age_s: float, in_use: Iterable[str] = ()) -> list[Path]:
    """Delete progress untouched for ``max_age_s`` (learners in ``in_use`` are kept); returns what went."""
    keep = set(in_use)
    candidates = [path for path in folder.glob('storage-user-*') if session_id_of(path) not in keep]
    gone = []
    for path in expired(candidates, time.time(), max_age_s):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            gone.append(path)
    if gone:
        log.info('forgot %d learner progress files untouched for %g days', len(gone), max_age_s / 86400)
    return gone


def read_learner_file(path: Path) -> dict[str, Any]:
    return check_progress_file(path, NOTICES)


def _tell_learner(client: Any) -> None:
    """On a learner's next visit: say once that their unreadable progress was kept aside."""
    from nicegui import ui

    with contextlib.suppress(Exception):  # a client without a session (no cookie) has nothing to be told
        session_id = client.request.session.get('id')
        if session_id and NOTICES.take(session_id):
            with client:
                ui.notify(
                    LOST_PROGRESS_MESSAGE, type='warning', timeout=0, close_button='OK', position='top', multi_line=True
                )


async def sweep_forever(folder: Path, max_age_s: float) -> None:
    from lesson.storage import nicegui_storage

    while True:
        in_use = nicegui_storage.learners_in_memory()  # learners loaded right now are never swept
        await asyncio.to_thread(forget_abandoned, folder, max_age_s, in_use)
        await asyncio.sleep(SWEEP_INTERVAL_S)


def install(config: Config) -> None:
    """Learner files by these rules (unless Redis keeps progress), checked now, swept hourly; call once, after the
    storage folder is set, before ``ui.run``."""
    from nicegui import app, background_tasks

    from lesson.storage import nicegui_storage

    folder = nicegui_storage.storage_folder()
    if not config.redis_url:

        def learner_file(storage_id: str) -> nicegui_storage.LearnerFile:
            checked = nicegui_storage.is_learner_storage(storage_id)
            kind = nicegui_storage.CheckedLearnerFile if checked else nicegui_storage.LearnerFile
            return kind(folder / f'storage-{storage_id}.json', read_learner_file)

        nicegui_storage.use_persistent_dicts(learner_file)
    if unreadable := check_all_progress(folder, NOTICES):
        log.warning('%d unreadable progress file(s) in %s were kept aside; see the lines above', unreadable, folder)
    app.on_connect(_tell_learner)
    max_age_s = config.forget_after_days * 86400
    if max_age_s > 0:
        app.on_startup(
            lambda: background_tasks.create(sweep_forever(folder, max_age_s), name='forget abandoned progress')
        )
