"""The one door to a learner's own storage: NiceGUI's per-browser store (files, or Redis behind a proxy)."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from nicegui import app

#: The learner's dark-mode choice (every page's header binds its switch to it).
DARK_MODE_KEY = 'dark_mode'
#: The learner's place in the running class (:mod:`lesson.teaching.membership`).
MEMBERSHIP_KEY = 'class'
#: What every page writes for a learner who changed nothing (the dark-mode switch's binding stores its initial
#: value): storage holding only this is not worth a file or a Redis key.
NOTHING_TO_KEEP: Mapping[str, Any] = {DARK_MODE_KEY: False}


def learner_store() -> MutableMapping[str, Any]:
    """This browser's storage, as the rules in :mod:`lesson.rules.progress` read and write it."""
    return app.storage.user


def worth_keeping(data: Mapping[str, Any], defaults: Mapping[str, Any] = NOTHING_TO_KEEP) -> bool:
    """Whether a learner's storage holds anything beyond what a learner who did nothing has."""
    return any(key not in defaults or defaults[key] != value for key, value in data.items())
