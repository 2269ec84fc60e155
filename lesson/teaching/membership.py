"""A learner's place in the running class, and the hooks the quiz and demo pages call.

The membership is kept in the learner's own storage (``app.storage.user['class']``: the class id, their random
learner id, the name they go by); the class's state is the store's (:mod:`lesson.teaching.store`). With no store
configured (self-study, the UI tests) or no membership, every hook does nothing: the app works as before.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from lesson.rules.classroom import CLASS_ENDED, CLASS_ID, LEARNER_ID, ClassAttempt, ClassClosed, ClassroomRejected
from lesson.rules.progress import DemoRun, SubmittedAttempt
from lesson.storage.learner_store import MEMBERSHIP_KEY
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


@dataclass(frozen=True)
class Membership:
    class_id: str
    learner_id: str
    name: str


class _Active:
    """The store the app was built with (one per process); None until :func:`use_store`."""

    store: ClassStore | None = None
    write_back: WriteBack | None = None


def use_store(store: ClassStore | None) -> None:
    _Active.store = store
    _Active.write_back = None if store is None else WriteBack(store)


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


async def join(user_store: MutableMapping[str, Any], nickname: str | None) -> Membership:
    """Join the running class; raises ClassroomRejected (no class, full, bad nickname) and keeps nothing then."""
    store = active_store()
    current = None if store is None else await store.current()
    if store is None or current is None:
        raise ClassClosed('No class is running right now; you can still study on your own.')
    learner = await store.join(current.id, learner_id_for(user_store), nickname)
    kept = Membership(current.id, learner.id, learner.name)
    user_store[STORE_KEY] = {'class_id': kept.class_id, 'learner_id': kept.learner_id, 'name': kept.name}
    return kept


async def leave(user_store: MutableMapping[str, Any]) -> None:
    member = membership(user_store)
    store = active_store()
    if member is not None and store is not None:
        with contextlib.suppress(ClassroomRejected):  # a class that has ended is left already
            await store.leave(member.class_id, member.learner_id)
    if isinstance(raw := user_store.get(STORE_KEY), Mapping):
        user_store[STORE_KEY] = {'learner_id': raw.get('learner_id')}  # the id stays: the same learner next time


async def refusal_before_submit(user_store: Mapping[str, Any]) -> str | None:
    """Why a quiz submission must be refused whole (the learner's class was reset), or None to go on."""
    member = membership(user_store)
    store = active_store()
    if member is None or store is None:
        return None
    try:
        current = await store.current()
    except ClassStoreUnavailable:
        return None  # the store is away: grade and keep the attempt; count_attempt writes it back later
    return None if current is not None and current.id == member.class_id else CLASS_ENDED


async def count_attempt(user_store: Mapping[str, Any], attempt: SubmittedAttempt) -> str | None:
    """Count a graded attempt for the learner's class; returns what to tell the learner when it was not counted
    now (:data:`KEPT_FOR_THE_BOARD` when it waits for a store that is away, to be written back by itself)."""
    member = membership(user_store)
    store = active_store()
    if member is None or store is None:
        return None
    counted = ClassAttempt(
        member.learner_id, attempt.number, attempt.submitted_at, attempt.score, attempt.total, dict(attempt.answers)
    )
    try:
        await store.record_attempt(member.class_id, counted)
    except ClassStoreUnavailable:
        waiting = _Active.write_back
        if waiting is not None and waiting.keep(member.class_id, counted):
            return KEPT_FOR_THE_BOARD
        return UNAVAILABLE_NOTE
    except ClassroomRejected as refused:
        log.warning('class attempt not counted: %s', refused)
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
