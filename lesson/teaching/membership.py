"""A learner's place in the running class, and the hooks the quiz and demo pages call.

The membership is kept in the learner's own storage (``app.storage.user['class']``: the class id, their random
learner id, the name they go by); the class's state is the store's (:mod:`lesson.teaching.store`). With no store
configured (self-study, the UI tests) or no membership, every hook does nothing: the app works as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from lesson.rules.classroom import (
    CLASS_ID,
    LEARNER_ID,
    ClassAttempt,
    ClassClosed,
    ClassFull,
    ClassroomRejected,
    LearnerRemoved,
    NicknameRejected,
)
from lesson.rules.join_rate import JoinRate
from lesson.rules.progress import DemoRun, SubmittedAttempt, state_from_store
from lesson.storage.learner_store import MEMBERSHIP_KEY
from lesson.teaching.class_watch import ClassWatch
from lesson.teaching.store import ClassStore
from lesson.teaching.store_redis import UNAVAILABLE as UNAVAILABLE_NOTE
from lesson.teaching.store_redis import ClassStoreUnavailable
from lesson.teaching.write_back import WriteBack

log = logging.getLogger(__name__)

STORE_KEY = MEMBERSHIP_KEY
#: What the learner reads when their graded attempt waits for the class store (an outage): it is not lost.
KEPT_FOR_THE_BOARD = (
    'Your result is saved. The class board cannot be reached right now, so your attempt waits on this server and '
    'reaches the board by itself once the board is back.'
)
#: What the learner reads when they submit after the teacher started a new class: kept, and offered to the new one.
KEPT_FOR_THE_NEW_CLASS = (
    'Your result is saved. Your class has ended and your teacher started a new one: join it with the link at the '
    'top of this page, and this attempt counts there.'
)
#: Both notes say the attempt is kept, not refused: the page shows them as news, not as a warning.
KEPT_NOTES = frozenset({KEPT_FOR_THE_BOARD, KEPT_FOR_THE_NEW_CLASS})
#: In the membership's entry of the learner's storage: numbers of attempts graded after their class ended, counted
#: when they join the next (their own history keeps the attempts themselves).
PENDING_KEY = 'pending'
#: Kept at most: the class counts only a few attempts per learner anyway.
MAX_PENDING = 10


@dataclass(frozen=True)
class Membership:
    class_id: str
    learner_id: str
    name: str


@dataclass(frozen=True)
class JoinLimits:
    """``--joins-per-minute-per-address`` and ``--learners-per-address`` (0: no limit)."""

    per_minute_per_address: int = 30
    learners_per_address: int = 60


TOO_FAST = 'Too many joins from your network in the last minute; wait a moment and press Join again.'


class _Active:
    """The store the app was built with (one per process); None until :func:`use_store`."""

    store: ClassStore | None = None
    write_back: WriteBack | None = None
    watch: ClassWatch | None = None
    limits = JoinLimits()
    rate = JoinRate(JoinLimits().per_minute_per_address)


def source_tag(class_id: str, address: str) -> str:
    """What the class keeps of where a learner joined from: enough to count learners per address within this
    class, not the address itself."""
    return hashlib.sha256(f'{class_id}|{address}'.encode()).hexdigest()[:16]


def use_store(store: ClassStore | None, limits: JoinLimits | None = None) -> None:
    _Active.store = store
    _Active.limits = limits or JoinLimits()
    _Active.rate = JoinRate(_Active.limits.per_minute_per_address)
    _Active.write_back = None if store is None else WriteBack(store)
    _Active.watch = None if store is None else ClassWatch(store)


def class_watch() -> ClassWatch | None:
    """Tells open pages when the teacher starts a new class (None without a store)."""
    return _Active.watch


def write_back() -> WriteBack | None:
    """The attempts waiting for the class store during an outage (None without a store)."""
    return _Active.write_back


def active_store() -> ClassStore | None:
    return _Active.store


def membership(user_store: Mapping[str, Any]) -> Membership | None:
    """The learner's membership as stored, or None (absent or not in the shape this app writes)."""
    raw = user_store.get(STORE_KEY)
    if not isinstance(raw, Mapping):
        return None
    class_id, learner_id, name = raw.get('class_id'), raw.get('learner_id'), raw.get('name')
    if not (isinstance(class_id, str) and CLASS_ID.match(class_id)):
        return None
    if not (isinstance(learner_id, str) and LEARNER_ID.match(learner_id)) or not isinstance(name, str):
        return None
    return Membership(class_id, learner_id, name)


def learner_id_for(user_store: Mapping[str, Any]) -> str:
    """The learner's id: kept across classes (the same browser is the same learner), made on first join."""
    raw = user_store.get(STORE_KEY)
    if isinstance(raw, Mapping) and isinstance(raw.get('learner_id'), str) and LEARNER_ID.match(raw['learner_id']):
        return str(raw['learner_id'])
    return secrets.token_urlsafe(12)


async def join(user_store: MutableMapping[str, Any], nickname: str | None, address: str = '') -> Membership:
    """Join the running class; raises ClassroomRejected (no class, full, bad nickname) and keeps nothing then.

    Attempts the learner submitted after their previous class ended (:data:`PENDING_KEY`) count for this one.
    """
    member, _ = await _join(user_store, nickname, address)
    return member


async def rejoin(user_store: MutableMapping[str, Any], address: str = '') -> tuple[Membership, int]:
    """Join the running class under the name the learner had in their previous one (one click after a reset);
    returns the membership and how many kept attempts now count. Raises ClassroomRejected as :func:`join` does."""
    member = membership(user_store)
    if member is not None and (current := await _current()) is not None and current == member.class_id:
        return member, 0  # in it already (a second click, another tab)
    try:
        return await _join(user_store, member.name if member is not None else None, address)
    except NicknameRejected:  # e.g. their 'Learner 7' (a reserved form) or a name someone took meanwhile
        return await _join(user_store, None, address)


async def _current() -> str | None:
    store = active_store()
    current = None if store is None else await store.current()
    return None if current is None else current.id


async def _join(user_store: MutableMapping[str, Any], nickname: str | None, address: str) -> tuple[Membership, int]:
    """The join from ``address``: at most so many a minute and so many present from one address; a join refused
    for want of room (full, those limits, removed by the teacher) is counted for the board."""
    store = active_store()
    current = None if store is None else await store.current()
    if store is None or current is None:
        raise ClassClosed('No class is running right now; you can still study on your own.')
    try:
        if address and not _Active.rate.allow(address, time.monotonic()):
            raise ClassFull(TOO_FAST)
        tag = source_tag(current.id, address) if address else ''
        learner = await store.join(
            current.id, learner_id_for(user_store), nickname, tag, _Active.limits.learners_per_address
        )
    except (ClassFull, LearnerRemoved):
        with contextlib.suppress(ClassroomRejected):
            await store.refuse_join(current.id)
        raise
    kept = Membership(current.id, learner.id, learner.name)
    pending = pending_attempts(user_store)
    user_store[STORE_KEY] = {'class_id': kept.class_id, 'learner_id': kept.learner_id, 'name': kept.name}
    return kept, await _count_kept(user_store, store, kept, pending)


def pending_attempts(user_store: Mapping[str, Any]) -> list[int]:
    """Numbers of the learner's attempts graded after their class ended, waiting for the next class."""
    entry = user_store.get(STORE_KEY)
    raw = entry.get(PENDING_KEY) if isinstance(entry, Mapping) else None
    if not isinstance(raw, list):
        return []
    return [n for n in raw if isinstance(n, int) and not isinstance(n, bool) and n > 0][-MAX_PENDING:]


def _keep_for_next_class(user_store: MutableMapping[str, Any], number: int) -> None:
    pending = [n for n in pending_attempts(user_store) if n != number]
    entry = user_store.get(STORE_KEY)
    user_store[STORE_KEY] = {
        **(entry if isinstance(entry, Mapping) else {}),
        PENDING_KEY: [*pending, number][-MAX_PENDING:],
    }


async def _count_kept(user_store: Mapping[str, Any], store: ClassStore, member: Membership, numbers: list[int]) -> int:
    """Count the learner's kept attempts ``numbers`` (from their own history) for ``member``'s class; how many
    counted. Those refused (e.g. over the class's limit) stay the learner's own, as in self-study."""
    if not numbers:
        return 0
    own = {attempt.number: attempt for attempt in state_from_store(user_store).attempts}
    counted = 0
    for number in numbers:
        if (attempt := own.get(number)) is None:
            continue
        try:
            await store.record_attempt(member.class_id, _class_attempt(member, attempt))
        except ClassroomRejected as refused:  # e.g. the class's limit on attempts: it stays the learner's own
            log.info('kept attempt %d not counted for the new class: %s', number, refused)
            continue
        counted += 1
    return counted


def _class_attempt(member: Membership, attempt: SubmittedAttempt) -> ClassAttempt:
    return ClassAttempt(
        member.learner_id, attempt.number, attempt.submitted_at, attempt.score, attempt.total, dict(attempt.answers)
    )


async def leave(user_store: MutableMapping[str, Any]) -> None:
    member = membership(user_store)
    store = active_store()
    if member is not None and store is not None:
        with contextlib.suppress(ClassroomRejected):  # a class that has ended is left already
            await store.leave(member.class_id, member.learner_id)
    if isinstance(raw := user_store.get(STORE_KEY), Mapping):
        # the id stays (the same learner next time), and so do attempts kept for the next class
        user_store[STORE_KEY] = {'learner_id': raw.get('learner_id'), PENDING_KEY: raw.get(PENDING_KEY, [])}


async def count_attempt(user_store: MutableMapping[str, Any], attempt: SubmittedAttempt) -> str | None:
    """Count a graded attempt for the learner's class; returns what to tell the learner when it was not counted
    now: one of :data:`KEPT_NOTES` when it is kept to be counted later (the store is away: written back by itself;
    the class has ended: counted when the learner joins the new one), else why it was refused."""
    member = membership(user_store)
    store = active_store()
    if member is None or store is None:
        return None
    counted = _class_attempt(member, attempt)
    try:
        await store.record_attempt(member.class_id, counted)
    except ClassStoreUnavailable:
        waiting = _Active.write_back
        if waiting is not None and waiting.keep(member.class_id, counted):
            return KEPT_FOR_THE_BOARD
        return UNAVAILABLE_NOTE
    except ClassClosed:  # the teacher started a new class: kept for it, offered with one link (lesson/pages)
        _keep_for_next_class(user_store, attempt.number)
        return KEPT_FOR_THE_NEW_CLASS
    except ClassroomRejected as refused:  # the page logs it, throttled per address (an outsider can repeat it)
        return str(refused)
    return None


async def count_demo_run(user_store: Mapping[str, Any], run: DemoRun) -> None:
    member = membership(user_store)
    store = active_store()
    if member is None or store is None:
        return
    try:
        await store.record_demo_run(member.class_id, member.learner_id, run)
    except ClassroomRejected as refused:  # a reset class: the run stays the learner's own, as in self-study
        log.info('demo run not counted for a class: %s', refused)
