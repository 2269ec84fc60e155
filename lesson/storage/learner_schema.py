"""What a learner's own storage may hold: the keys the app writes, each of its type, a bounded size per learner.

NiceGUI writes whatever a bound element's value becomes, and a browser sets that value by a socket.io event: the
header's Dark switch is bound to ``dark_mode``, so a script could store a 900 KB string there from as many cookie
jars as it likes (40 jars wrote 40 files of 900 KB in 8 s, kept 90 days). Here every write the pages make to a
learner's storage is checked first (:class:`CheckedWrites`); a refused one is dropped and said in one WARNING a
minute with the count. Loading stored data and merging another instance's changes (``update``) are not writes
from a browser and pass as they are.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from lesson.rules.progress import DEMO_RUN_KEY
from lesson.rules.progress import STORE_KEY as QUIZ_KEY
from lesson.storage.learner_store import DARK_MODE_KEY, MEMBERSHIP_KEY

log = logging.getLogger(__name__)

#: Bytes of JSON one learner's storage may hold: a quiz history of 50 attempts is about 20 KB.
MAX_LEARNER_BYTES = 256 * 1024
#: Seconds between two warnings about refused writes (the refusals in between are counted in the next one).
WARN_EVERY_S = 60.0


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_object(value: object) -> bool:
    return isinstance(value, Mapping)


#: Every key the app writes to a learner's storage, and the type its value must have. A new key is added here.
KEYS: Mapping[str, Callable[[object], bool]] = {
    DARK_MODE_KEY: _is_bool,
    QUIZ_KEY: _is_object,
    DEMO_RUN_KEY: _is_object,
    MEMBERSHIP_KEY: _is_object,
}


def _size(value: object) -> int:
    try:
        return len(json.dumps(value, default=str, separators=(',', ':')))
    except (TypeError, ValueError):
        return MAX_LEARNER_BYTES + 1  # not JSON: cannot be stored anyway


def refusal(store: Mapping[str, Any], key: object, value: object) -> str | None:
    """Why ``store[key] = value`` must not happen (a few words, no value quoted), or None."""
    if not isinstance(key, str) or key not in KEYS:
        return 'a key the app does not write'
    if not KEYS[key](value):
        return f'a {type(value).__name__} for {key!r}'
    others = sum(_size(kept) for name, kept in store.items() if name != key)
    if others + _size(value) > MAX_LEARNER_BYTES:
        return f'more than {MAX_LEARNER_BYTES // 1024} KiB for one learner'
    return None


class RefusalLog:
    """One WARNING per :data:`WARN_EVERY_S` about refused writes, counting those it did not log one for."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.unsaid = 0
        self.said_at = -float('inf')

    def refused(self, why: str) -> None:
        self.unsaid += 1
        if self.clock() - self.said_at >= WARN_EVERY_S:
            log.warning(
                "learner storage: refused a write (%s), %d refused since the last warning: only the app's own "
                'keys, types and up to %d KiB per learner are kept',
                why,
                self.unsaid,
                MAX_LEARNER_BYTES // 1024,
            )
            self.said_at = self.clock()
            self.unsaid = 0


REFUSALS = RefusalLog()


class CheckedWrites(dict[str, Any]):
    """Put before a NiceGUI persistent dict class: its ``[]=`` and ``setdefault`` writes pass :func:`refusal`."""

    def __setitem__(self, key: str, value: Any) -> None:
        if (why := refusal(self, key, value)) is not None:
            REFUSALS.refused(why)
            return
        super().__setitem__(key, value)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self and (why := refusal(self, key, default)) is not None:
            REFUSALS.refused(why)
            return default
        return super().setdefault(key, default)
