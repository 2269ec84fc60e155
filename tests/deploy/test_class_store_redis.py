"""The Redis class store against a real redis-server: two stores stand for two app processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from lesson.config import Config
from lesson.rules.classroom import ClassAttempt, ClassClosed, ClassFull, DemoTotals, Learner
from lesson.rules.progress import DemoRun
from lesson.rules.quiz import grade
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz
from lesson.teaching.store import AttemptRecorded, ClassEvent, ClassStarted, DemoRunRecorded, LearnerJoined
from lesson.teaching.store_redis import (
    ClassStoreUnavailable,
    RedisClassStore,
    event_from_json,
    event_to_json,
    open_class_store,
)

from ..support.deployment import RedisServer
from ..support.waiting import wait_until_async

CONTENT = bundled_content_dir()
QUIZ = load_quiz(CONTENT, load_lesson(CONTENT).anchors)
RIGHT = {q.id: q.correct_option.id for q in QUIZ.questions}
CLASS_ID = '20260131-120000-abcdef'


def graded(learner_id: str, number: int = 1) -> ClassAttempt:
    result = grade(QUIZ, RIGHT)
    return ClassAttempt(learner_id, number, datetime.now(UTC), result.score, result.total, RIGHT)


def seconds_apart(start: datetime = datetime(2026, 1, 31, 12, tzinfo=UTC)) -> Callable[[], datetime]:
    """A clock a second later at each reading: class ids and the listing's order carry the second."""
    seconds = count()
    return lambda: start + timedelta(seconds=next(seconds))


async def subscribed(store: RedisClassStore) -> None:
    """Until this store's subscription to the class events is made (Redis counts it)."""

    async def counted() -> bool:
        [(_, subscribers)] = await store.redis.pubsub_numsub(store._channel)
        return subscribers > 0

    await wait_until_async(counted, 5, 'the class events subscription')


async def next_event(events: object, timeout_s: float = 2.0) -> ClassEvent:
    return await asyncio.wait_for(events.__anext__(), timeout_s)  # type: ignore[attr-defined]


class Board:
    """A subscriber that keeps reading, as a teacher's board does."""

    def __init__(self, store: RedisClassStore) -> None:
        self.events: asyncio.Queue[ClassEvent] = asyncio.Queue()
        self.task = asyncio.ensure_future(self._read(store))

    async def _read(self, store: RedisClassStore) -> None:
        async for event in store.subscribe():
            await self.events.put(event)

    async def next(self) -> ClassEvent:
        return await asyncio.wait_for(self.events.get(), 2.0)


def test_events_survive_the_wire() -> None:
    at = datetime(2026, 1, 31, 12, tzinfo=UTC)
    for event in (
        ClassStarted(CLASS_ID, 1.5),
        LearnerJoined(CLASS_ID, 2.0, Learner('learner-0001', 1, 'Ada', at)),
        AttemptRecorded(CLASS_ID, 3.0, graded('learner-0001')),
        DemoRunRecorded(CLASS_ID, 4.0, 'learner-0001', DemoTotals(1, 2, 3, 4, 5)),
    ):
        assert event_from_json(event_to_json(event)) == event
    with pytest.raises(ValueError):
        event_from_json(f'{{"type": "Nope", "class_id": "{CLASS_ID}", "at_ms": 1}}')


def test_the_configuration_chooses_the_store(tmp_path) -> None:
    assert type(open_class_store(Config(data_dir=tmp_path), QUIZ)).__name__ == 'FileClassStore'
    store = open_class_store(Config(data_dir=tmp_path, redis_url='redis://127.0.0.1:1/0', max_learners=7), QUIZ)
    assert isinstance(store, RedisClassStore) and store.max_learners == 7


async def test_two_processes_share_one_class_and_its_events(redis_server: RedisServer) -> None:
    teacher_side, student_side = (RedisClassStore(redis_server.url, QUIZ, max_learners=3) for _ in range(2))
    board = Board(teacher_side)
    await subscribed(teacher_side)
    klass = await teacher_side.start_class()
    assert isinstance(await board.next(), ClassStarted)

    started = time.time() * 1000
    learner = await student_side.join(klass.id, 'learner-0001', 'Ada')
    joined = await board.next()
    assert isinstance(joined, LearnerJoined) and joined.learner == learner and joined.at_ms >= started
    await student_side.record_attempt(klass.id, graded('learner-0001'))
    recorded = await board.next()
    assert isinstance(recorded, AttemptRecorded) and recorded.attempt.score == len(QUIZ.questions)
    await student_side.record_demo_run(klass.id, 'learner-0001', DemoRun(10, 5, 5, 1000, 400.0, 20, 1.0))
    assert isinstance(await board.next(), DemoRunRecorded)

    seen = await teacher_side.current()
    assert seen is not None and len(seen.attempts) == 1 and seen.demo_totals.poll_requests == 10
    assert (kept := seen.learner('learner-0001')) is not None and kept.nickname == learner.nickname == 'Ada'
    assert [info.id for info in await teacher_side.classes()] == [klass.id]
    await teacher_side.close()
    await board.task
    await student_side.close()


async def test_changes_at_once_from_two_processes_lose_nothing(redis_server: RedisServer) -> None:
    one, two = (RedisClassStore(redis_server.url, QUIZ, max_learners=200) for _ in range(2))
    klass = await one.start_class()
    ids = [f'learner-{k:04d}' for k in range(40)]
    await asyncio.gather(*((one if k % 2 else two).join(klass.id, i, None) for k, i in enumerate(ids)))
    await asyncio.gather(*((two if k % 2 else one).record_attempt(klass.id, graded(i)) for k, i in enumerate(ids)))
    kept = await one.current()
    assert kept is not None
    assert sorted(learner.id for learner in kept.learners) == ids
    assert sorted(learner.number for learner in kept.learners) == list(range(1, 41))
    assert sorted(attempt.learner_id for attempt in kept.attempts) == ids
    await one.close()
    await two.close()


async def test_one_processs_changes_at_once_go_in_rounds_instead_of_conflicting(redis_server: RedisServer) -> None:
    """200 submits at once on one instance made it read, rule on and write the whole class thousands of times (the
    board behind HAProxy never showed them all: benchmarks/moment_deploy.py); in rounds, no change is made twice and
    the changes that arrive together share one read and one write."""
    store = RedisClassStore(redis_server.url, QUIZ, max_learners=200)
    klass = await store.start_class()
    ids = [f'learner-{k:04d}' for k in range(60)]
    await asyncio.gather(*(store.join(klass.id, i, None) for i in ids))
    await asyncio.gather(*(store.record_attempt(klass.id, graded(i)) for i in ids))
    kept = await store.current()
    assert kept is not None and len(kept.attempts) == 60
    assert [learner.number for learner in kept.learners] == list(range(1, 61))
    assert store.conflicts == 0
    assert store.changes.changes == 120 and store.changes.rounds <= 10
    await store.close()


async def test_refusals_in_a_round_are_their_callers_alone(redis_server: RedisServer) -> None:
    store = RedisClassStore(redis_server.url, QUIZ, max_learners=5)
    klass = await store.start_class()
    ids = [f'learner-{k:04d}' for k in range(12)]
    outcomes = await asyncio.gather(*(store.join(klass.id, i, None) for i in ids), return_exceptions=True)
    assert [type(outcome) for outcome in outcomes] == [Learner] * 5 + [ClassFull] * 7  # in the order they came
    kept = await store.current()
    assert kept is not None and [learner.id for learner in kept.learners] == ids[:5]
    await store.close()


async def test_refusals_change_nothing(redis_server: RedisServer) -> None:
    store = RedisClassStore(redis_server.url, QUIZ, max_learners=1, clock=seconds_apart())
    with pytest.raises(ClassClosed):
        await store.join(CLASS_ID, 'learner-0001', None)
    old = await store.start_class()
    await store.join(old.id, 'learner-0001', 'Ada')
    with pytest.raises(ClassFull):
        await store.join(old.id, 'learner-0002', None)
    new = await store.start_class()
    with pytest.raises(ClassClosed):
        await store.record_attempt(old.id, graded('learner-0001'))
    kept = await store.read(old.id)
    assert kept is not None and kept.attempts == () and len(kept.learners) == 1
    assert [(info.id, info.current) for info in await store.classes()] == [(new.id, True), (old.id, False)]
    assert await store.read('not-an-id') is None
    await store.close()


async def test_redis_away_refuses_with_a_message_and_events_resume(redis_server: RedisServer) -> None:
    store = RedisClassStore(redis_server.url, QUIZ, unavailable_after_s=0.5)
    klass = await store.start_class()
    await store.join(klass.id, 'learner-0001', 'Ada')
    events = store.subscribe()
    assert isinstance(events, AsyncGenerator)  # closed at the end, as a board's page closes it
    waiting = asyncio.ensure_future(next_event(events, 30))
    await subscribed(store)

    redis_server.stop()
    began = time.monotonic()
    with pytest.raises(ClassStoreUnavailable, match='cannot be reached right now'):
        await store.record_attempt(klass.id, graded('learner-0001'))
    assert time.monotonic() - began < 5

    redis_server.start()  # same port, same append-only file
    # the subscription is made again and every subscriber is told to read the class again
    assert type(await waiting) is ClassEvent
    await store.record_attempt(klass.id, graded('learner-0001'))
    kept = await store.current()
    assert kept is not None and kept.id == klass.id and len(kept.attempts) == 1
    assert kept.learner('learner-0001') is not None  # written before the outage, kept by Redis's own file
    await events.aclose()
    await store.close()
