"""The file class store: atomic, durable, one current class, events after each change."""

import asyncio
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest

from lesson.rules.classroom import Class, ClassAttempt, ClassClosed, ClassFull, NicknameRejected
from lesson.rules.progress import STORE_KEY as QUIZ_KEY
from lesson.rules.progress import DemoRun, QuizState, SubmittedAttempt, state_to_store
from lesson.rules.quiz import grade
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz
from lesson.teaching import membership
from lesson.teaching.store import (
    AttemptRecorded,
    ClassEvent,
    ClassStarted,
    ClassStore,
    DemoRunRecorded,
    FileClassStore,
    LearnerJoined,
    write_atomically,
)

from ..support.waiting import wait_until_async

CONTENT = bundled_content_dir()
QUIZ = load_quiz(CONTENT, load_lesson(CONTENT).anchors)
RIGHT = {q.id: q.correct_option.id for q in QUIZ.questions}


def graded(learner_id: str, number: int = 1) -> ClassAttempt:
    result = grade(QUIZ, RIGHT)
    return ClassAttempt(learner_id, number, datetime.now(UTC), result.score, result.total, RIGHT)


def graded_own(number: int) -> SubmittedAttempt:
    """The attempt as the learner's own progress keeps it."""
    result = grade(QUIZ, RIGHT)
    return SubmittedAttempt(number, 0, datetime.now(UTC), result.score, result.total, RIGHT)


def store_in(path: Path, max_learners: int = 200) -> ClassStore:
    return FileClassStore(path, QUIZ, max_learners=max_learners)


def seconds_apart(start: datetime = datetime(2026, 1, 31, 12, tzinfo=UTC)) -> Callable[[], datetime]:
    """A clock a second later at each reading: class ids and the listing's order carry the second."""
    seconds = count()
    return lambda: start + timedelta(seconds=next(seconds))


async def test_no_class_runs_until_one_is_started(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    assert await store.current() is None and await store.classes() == []
    with pytest.raises(ClassClosed):
        await store.join('20260131-120000-abcdef', 'learner-0001', None)


async def test_a_class_survives_a_new_store_on_the_same_directory(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    klass = await store.start_class()
    await store.join(klass.id, 'learner-0001', 'Ada')
    await store.record_attempt(klass.id, graded('learner-0001'))
    await store.record_demo_run(klass.id, 'learner-0001', DemoRun(10, 5, 5, 1000, 400.0, 20, 1.0))
    again = store_in(tmp_path)  # what a restart does
    current = await again.current()
    assert current is not None and current == await store.current()
    assert [learner.name for learner in current.learners] == ['Ada']
    assert current.attempts[0].score == len(QUIZ.questions)
    assert current.demo_totals.poll_requests == 10


async def test_a_reset_closes_the_old_class_and_keeps_it_listed(tmp_path: Path) -> None:
    store = FileClassStore(tmp_path, QUIZ, clock=seconds_apart())
    old = await store.start_class()
    await store.join(old.id, 'learner-0001', 'Ada')
    new = await store.start_class()
    with pytest.raises(ClassClosed):
        await store.record_attempt(old.id, graded('learner-0001'))
    with pytest.raises(ClassClosed):
        await store.join(old.id, 'learner-0002', None)
    kept = await store.read(old.id)
    assert kept is not None and kept.attempts == () and len(kept.learners) == 1
    listing = await store.classes()
    assert [(info.id, info.current, info.learners) for info in listing] == [(new.id, True, 0), (old.id, False, 1)]


async def test_a_late_submission_is_kept_and_counts_once_the_learner_joins_the_new_class(tmp_path: Path) -> None:
    """A learner still on a reset class: their graded attempt is kept (their own storage) and offered to the new
    class; one rejoin, under their name, counts it there. Nothing reaches the old class."""
    store = FileClassStore(tmp_path, QUIZ, clock=seconds_apart())
    before = membership.active_store()
    membership.use_store(store)
    try:
        old = await store.start_class()
        learner: dict[str, object] = {}
        await membership.join(learner, 'Ada')
        new = await store.start_class()  # the teacher's reset
        own = graded_own(2)
        learner[QUIZ_KEY] = state_to_store(QuizState(None, (own,)))  # as the quiz page keeps the learner's history
        assert await membership.count_attempt(learner, own) == membership.KEPT_FOR_THE_NEW_CLASS
        assert membership.pending_attempts(learner) == [2]
        member, counted = await membership.rejoin(learner)
        assert (member.class_id, member.name, counted) == (new.id, 'Ada', 1)
        assert membership.pending_attempts(learner) == []
        kept = await store.read(new.id)
        assert kept is not None and [(a.number, a.score) for a in kept.attempts] == [(2, own.score)]
        ended = await store.read(old.id)
        assert ended is not None and ended.attempts == ()
        assert await membership.rejoin(learner) == (member, 0)  # a second click changes nothing
    finally:
        membership.use_store(before)


async def test_refused_changes_leave_the_files_untouched(tmp_path: Path) -> None:
    store = store_in(tmp_path, max_learners=1)
    klass = await store.start_class()
    await store.join(klass.id, 'learner-0001', 'Ada')
    path = tmp_path / 'classes' / f'{klass.id}.json'
    before = path.read_bytes()
    with pytest.raises(ClassFull):
        await store.join(klass.id, 'learner-0002', None)
    with pytest.raises(NicknameRejected):
        await store.join(klass.id, 'learner-0001', 'x' * 25)
    assert path.read_bytes() == before


async def test_unknown_or_forged_ids_read_as_none(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    assert await store.read('../../storage_secret') is None
    assert await store.read('20260131-120000-abcdef') is None


async def test_a_damaged_class_file_is_skipped_not_fatal(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    klass = await store.start_class()
    (tmp_path / 'classes' / f'{klass.id}.json').write_text('{not json', encoding='utf-8')
    assert await store_in(tmp_path).current() is None


async def test_subscribers_hear_each_change_in_order(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    heard: list[ClassEvent] = []

    async def listen() -> None:
        async for event in store.subscribe():
            heard.append(event)

    listener = asyncio.create_task(listen())
    await wait_until_async(lambda: store._subscribers, 2, 'the listener subscribed')  # type: ignore[attr-defined]
    klass = await store.start_class()
    await store.join(klass.id, 'learner-0001', None)
    attempt = graded('learner-0001')
    await store.record_attempt(klass.id, attempt)
    await store.record_demo_run(klass.id, 'learner-0001', DemoRun(10, 5, 5, 1000, None, 20, None))
    await store.close()
    await asyncio.wait_for(listener, 2)
    assert [type(event) for event in heard] == [ClassStarted, LearnerJoined, AttemptRecorded, DemoRunRecorded]
    assert isinstance(heard[2], AttemptRecorded) and heard[2].at_ms == attempt.submitted_at.timestamp() * 1000


async def test_concurrent_joins_lose_nothing(tmp_path: Path) -> None:
    store = store_in(tmp_path)
    klass = await store.start_class()
    await asyncio.gather(*(store.join(klass.id, f'learner-{n:04d}', None) for n in range(30)))
    current = store_in(tmp_path)
    stored = await current.current()
    assert stored is not None and sorted(learner.number for learner in stored.learners) == list(range(1, 31))


def test_atomic_write_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / 'x.json'
    write_atomically(path, json.dumps({'a': 1}))
    write_atomically(path, json.dumps({'a': 2}), mode=0o600)
    assert json.loads(path.read_text()) == {'a': 2}
    assert os.listdir(tmp_path) == ['x.json']


async def test_changes_made_during_a_write_share_the_next_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileClassStore(tmp_path, QUIZ)
    klass = await store.start_class()
    writes = 0
    write = store._write_class

    def counted(value: Class) -> None:
        nonlocal writes
        writes += 1
        write(value)

    monkeypatch.setattr(store, '_write_class', counted)
    await asyncio.gather(*(store.join(klass.id, f'learner-{n:04d}', None) for n in range(30)))
    assert writes < 30
    stored = await FileClassStore(tmp_path, QUIZ).current()
    assert stored is not None and len(stored.learners) == 30


async def test_a_failed_write_undoes_the_change_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileClassStore(tmp_path, QUIZ)
    klass = await store.start_class()
    await store.join(klass.id, 'learner-0001', 'Ada')

    def full_disk(value: Class) -> None:
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(store, '_write_class', full_disk)
    with pytest.raises(OSError):
        await store.join(klass.id, 'learner-0002', 'Bob')
    current = await store.current()
    assert current is not None and [learner.name for learner in current.learners] == ['Ada']


async def test_a_reset_writes_the_old_class_whole_first(tmp_path: Path) -> None:
    store = FileClassStore(tmp_path, QUIZ)
    old = await store.start_class()
    joins = [asyncio.create_task(store.join(old.id, f'learner-{n:04d}', None)) for n in range(10)]
    await wait_until_async(
        lambda: store._writer is not None, 2, 'the joins are being written'
    )  # the reset comes mid-write
    await store.start_class()
    await asyncio.gather(*joins)
    kept = await FileClassStore(tmp_path, QUIZ).read(old.id)
    assert kept is not None and len(kept.learners) == 10
