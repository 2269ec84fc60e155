"""The one door to a learner's own storage: NiceGUI's per-browser store (files, or Redis behind a proxy)."""

from collections.abc import MutableMapping
from typing import Any

from nicegui import app


def learner_store() -> MutableMapping[str, Any]:
    """This browser's storage, as the rules in :mod:`lesson.rules.progress` read and write it."""
    return app.storage.user
