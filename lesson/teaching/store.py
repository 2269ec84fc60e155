"""Where class state lives: one small interface (:class:`ClassStore`), files in the data directory by default.

The rules are :mod:`lesson.rules.classroom`'s (pure); a store only keeps
:class:`~lesson.rules.classroom.Class` values, makes
each change atomic, and tells subscribers what changed. A Redis store (several app processes, issue 14) implements
the same Protocol in its own module; the pages only ever see ``ClassStore``.

Events are notifications, not the state: a subscriber reads the class again (``read``) when one arrives, so an
event it missed (a slow board, a Redis reconnect) costs a redraw, never a wrong figure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from lesson.rules import classroom
from lesson.rules.classroom import (
    CLASS_ENDED,
    CLASS_ID,
    Class,
    ClassAttempt,
    ClassClosed,
    ClassInfo,
    DemoTotals,
    Learner,
)
from lesson.rules.progress import DemoRun
from lesson.rules.quiz import Quiz
from lesson.storage.atomic_files import write_atomically

log = logging.getLogger(__name__)

#: Events a subscriber may have waiting; beyond, the oldest are dropped (it rereads the class anyway).
SUBSCRIBER_QUEUE = 256

T = TypeVar('T')


# -- events --------------------------------------------------------------------------------------------------


def now_ms() -> float:
    return time.time() * 1000


@dataclass(frozen=True)
class ClassEvent:
    """Something changed in a class. ``at_ms``: the server's clock (epoch ms) when the change was asked for,
    e.g. when a learner's submission reached the app; the board measures its push delay from it."""

    class_id: str
    at_ms: float


@dataclass(frozen=True)
class ClassStarted(ClassEvent):
    pass


@dataclass(frozen=True)
class LearnerJoined(ClassEvent):
    learner: Learner


@dataclass(frozen=True)
class LearnerLeft(ClassEvent):
    learner_id: str


@dataclass(frozen=True)
class JoinRefused(ClassEvent):
    refused_joins: int  # the class's count, after this one


@dataclass(frozen=True)
class AttemptRecorded(ClassEvent):
    attempt: ClassAttempt


@dataclass(frozen=True)
class DemoRunRecorded(ClassEvent):
    learner_id: str
    totals: DemoTotals  # the class's, after this run


class Subscribers:
    """This process's subscribers to class events, each with a bounded queue of its own."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[ClassEvent | None]] = set()

    def __len__(self) -> int:
        return len(self._queues)

    def send(self, event: ClassEvent | None) -> None:
        """``event`` to every subscriber; None ends every subscription (the store closes)."""
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()  # the oldest goes: the subscriber rereads the class anyway
            queue.put_nowait(event)

    async def events(self, joined: Callable[[], None] = lambda: None) -> AsyncIterator[ClassEvent]:
        """One subscription, from its first iteration until it is closed or the store is; ``joined`` is called
        once its queue is in (the Redis store then makes sure its one subscription to Redis runs)."""
        queue: asyncio.Queue[ClassEvent | None] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self._queues.add(queue)
        joined()
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            self._queues.discard(queue)


class ClassChanges(ABC):
    """The changes of :class:`ClassStore`: which pure rule of :mod:`lesson.rules.classroom` each applies and which
    event it publishes, once for every store. A store says how a rule is applied to the current class atomically
    and durably (:meth:`_apply`) and how an event reaches the subscribers (:meth:`_publish`)."""

    quiz: Quiz
    clock: Callable[[], datetime]

    @abstractmethod
    async def _apply(self, class_id: str, rule: Callable[[Class], tuple[Class, T]]) -> tuple[Class, T]:
        """``rule`` applied to the current class, kept; raises ``ClassClosed`` for any other id."""

    @abstractmethod
    async def _publish(self, event: ClassEvent) -> None: ...

    async def join(
        self, class_id: str, learner_id: str, nickname: str | None, source: str = '', max_per_source: int = 0
    ) -> Learner:
        at_ms = now_ms()
        _, learner = await self._apply(
            class_id,
            lambda klass: classroom.join(klass, learner_id, nickname, self.clock(), source, max_per_source),
        )
        await self._publish(LearnerJoined(class_id, at_ms, learner))
        return learner

    async def leave(self, class_id: str, learner_id: str) -> None:
        at_ms = now_ms()
        await self._apply(class_id, lambda klass: (classroom.leave(klass, learner_id), None))
        await self._publish(LearnerLeft(class_id, at_ms, learner_id))

    async def remove(self, class_id: str, learner_id: str) -> None:
        at_ms = now_ms()
        await self._apply(class_id, lambda klass: (classroom.remove(klass, learner_id), None))
        await self._publish(LearnerLeft(class_id, at_ms, learner_id))

    async def refuse_join(self, class_id: str) -> None:
        at_ms = now_ms()
        klass, _ = await self._apply(class_id, lambda klass: (classroom.refuse_join(klass), None))
        await self._publish(JoinRefused(class_id, at_ms, klass.refused_joins))

    async def record_attempt(self, class_id: str, attempt: ClassAttempt) -> None:
        at_ms = attempt.submitted_at.timestamp() * 1000
        await self._apply(class_id, lambda klass: (classroom.record_attempt(klass, attempt, self.quiz), None))
        await self._publish(AttemptRecorded(class_id, at_ms, attempt))

    async def record_demo_run(self, class_id: str, learner_id: str, run: DemoRun) -> None:
        at_ms = now_ms()
        klass, _ = await self._apply(
            class_id, lambda klass: (classroom.record_demo_run(klass, learner_id, run, self.clock()), None)
        )
        await self._publish(DemoRunRecorded(class_id, at_ms, learner_id, klass.demo_totals))


# -- the interface -------------------------------------------------------------------------------------------


class ClassStore(Protocol):
    """Class state behind one interface. Every implementation guarantees:

    * **One current class** (or none before the first start). Only the current class accepts changes: ``join``,
      ``leave``, ``record_attempt`` and ``record_demo_run`` for any other id raise
      :class:`~lesson.rules.classroom.ClassClosed` and change nothing (a learner still on a reset class).
    * **Atomic, checked changes**: each mutating call applies the pure rule of :mod:`lesson.rules.classroom` to the
      class as it is stored now and keeps the whole result, or raises :class:`~lesson.rules.classroom.ClassroomRejected`
      (or a subclass) and keeps nothing. Two calls at once (also from two processes) never lose one another's
      change.
    * **Durable before it returns**: once a call returned, the change survives a restart of the app (and of
      every app process).
    * **Events after the change**: a call that changed something publishes one event (the dataclasses above) to
      every subscriber, in every process, after the change is durable. Delivery is best effort and in order per
      publisher; subscribers read the state again with ``read``.
    * **Bounded**: a class holds at most its ``max_learners`` (``ClassFull`` beyond).
    """

    async def current(self) -> Class | None:
        """The class that is running now, or ``None`` before the first ``start_class``."""
        ...

    async def start_class(self) -> Class:
        """Start a new, empty class and make it current (the teacher's reset). Earlier classes stay readable."""
        ...

    async def classes(self) -> list[ClassInfo]:
        """Every class kept, newest first."""
        ...

    async def read(self, class_id: str) -> Class | None:
        """The class with this id, or ``None`` (unknown or malformed id: never an exception)."""
        ...

    async def join(
        self, class_id: str, learner_id: str, nickname: str | None, source: str = '', max_per_source: int = 0
    ) -> Learner:
        """Add the learner to the current class, or bring them back with the new nickname (at most
        ``max_per_source`` present from ``source``: :func:`lesson.rules.classroom.join`)."""
        ...

    async def leave(self, class_id: str, learner_id: str) -> None: ...

    async def remove(self, class_id: str, learner_id: str) -> None:
        """The teacher's removal: the learner is gone and may not join this class again."""
        ...

    async def refuse_join(self, class_id: str) -> None:
        """Count a refused join for the board."""
        ...

    async def record_attempt(self, class_id: str, attempt: ClassAttempt) -> None:
        """Count a graded attempt of a learner who joined; the same attempt number twice is refused."""
        ...

    async def record_demo_run(self, class_id: str, learner_id: str, run: DemoRun) -> None:
        """Add a demo run summary (the page sends a growing one per run; only growth is added)."""
        ...

    def subscribe(self) -> AsyncIterator[ClassEvent]:
        """Events of every class from now on, until the iterator is closed (``aclose``) or the store is."""
        ...

    async def close(self) -> None: ...


# -- files in the data directory -----------------------------------------------------------------------------


def new_class_id(at: datetime) -> str:
    return f'{at:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}'


class FileClassStore(ClassChanges):
    """:class:`ClassStore` on JSON files: ``DATA_DIR/classes/<id>.json`` and ``classes/current`` (the id).

    One app process owns the directory; the current class is kept in memory and written whole after changes
    (at 200 learners with a few attempts each, some 100 KB; a write takes milliseconds, off the event loop), several
    changes made meanwhile in one write (:meth:`_change`).
    """

    def __init__(
        self,
        data_dir: Path,
        quiz: Quiz,
        *,
        max_learners: int = classroom.DEFAULT_MAX_LEARNERS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = data_dir / 'classes'
        self.directory.mkdir(parents=True, exist_ok=True)
        self.quiz = quiz
        self.max_learners = max_learners
        self.clock = clock
        self._lock = asyncio.Lock()  # one start_class at a time
        self._switching = False
        self._version = 0  # changes made to the current class so far
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []  # changes not yet on disk, by version
        self._writer: asyncio.Task[None] | None = None
        self._subscribers = Subscribers()
        self._current: Class | None = self._load_current()
        # a thread of its own: the class's group commits must not queue behind a whole class's learner-file writes
        # in the default pool (200 submits at once put 200 of those there), or the board waits for all of them
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix='class store')

    # -- reading -----------------------------------------------------------------------------------------------

    def _path(self, class_id: str) -> Path:
        return self.directory / f'{class_id}.json'

    def _load(self, class_id: str) -> Class | None:
        if not CLASS_ID.match(class_id):
            return None
        try:
            return classroom.class_from_json(json.loads(self._path(class_id).read_text(encoding='utf-8')))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning('class file %s cannot be read (%s); it is left as it is and not shown', class_id, error)
            return None

    def _load_current(self) -> Class | None:
        try:
            class_id = (self.directory / 'current').read_text(encoding='utf-8').strip()
        except FileNotFoundError:
            return None
        return self._load(class_id)

    async def current(self) -> Class | None:
        return self._current

    async def read(self, class_id: str) -> Class | None:
        if self._current is not None and class_id == self._current.id:
            return self._current
        return await asyncio.to_thread(self._load, class_id)

    async def classes(self) -> list[ClassInfo]:
        def listing() -> list[ClassInfo]:
            found = []
            for path in self.directory.glob('*.json'):
                klass = self._current if self._current and path.stem == self._current.id else self._load(path.stem)
                if klass is not None:
                    current = self._current is not None and klass.id == self._current.id
                    found.append(
                        ClassInfo(klass.id, klass.started_at, len(klass.learners), len(klass.attempts), current)
                    )
            return sorted(found, key=lambda info: info.started_at, reverse=True)

        return await asyncio.to_thread(listing)

    # -- changing ----------------------------------------------------------------------------------------------

    def _write_class(self, klass: Class) -> None:
        write_atomically(self._path(klass.id), json.dumps(classroom.class_to_json(klass), ensure_ascii=False))

    async def _change(self, klass: Class) -> None:
        """Make ``klass`` (the current class with one checked change) current; return once it is on disk.

        Group commit: the changes made while a write is under way go to disk together in the next one, so thirty
        submissions at once cost a few writes instead of thirty in a row, each waiting for the event loop between
        the page renders. Readers see a change at once (the board may show it a few ms before it is durable); the
        caller hears only once it is durable, or gets the write's error with the change undone.
        """
        loop = asyncio.get_running_loop()
        self._current = klass
        self._version += 1
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append((self._version, waiter))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_pending(), name='class store writer')
        await waiter

    async def _write_pending(self) -> None:
        while self._waiters:
            version, klass = self._version, self._current
            assert klass is not None
            try:
                await asyncio.get_running_loop().run_in_executor(self._disk, self._write_class, klass)
            except OSError as error:
                log.warning('class %s could not be written (%s); its unwritten changes are undone', klass.id, error)
                self._current = await asyncio.to_thread(self._load, klass.id)
                failed, self._waiters = self._waiters, []
                for _, waiter in failed:
                    if not waiter.done():
                        waiter.set_exception(error)
                return
            written = [waiter for number, waiter in self._waiters if number <= version]
            self._waiters = [(number, waiter) for number, waiter in self._waiters if number > version]
            for waiter in written:
                if not waiter.done():
                    waiter.set_result(None)

    async def start_class(self) -> Class:
        at_ms = now_ms()
        async with self._lock:
            self._switching = True  # changes to the old class are refused from now on (see _open)
            try:
                while self._writer is not None and not self._writer.done():
                    await asyncio.shield(self._writer)  # the old class's last changes reach its file first
                started = self.clock()
                klass = Class(new_class_id(started), started, self.max_learners)
                await asyncio.get_running_loop().run_in_executor(self._disk, self._write_class, klass)
                await asyncio.to_thread(write_atomically, self.directory / 'current', klass.id)
                self._current = klass
            finally:
                self._switching = False
        await self._publish(ClassStarted(klass.id, at_ms))
        return klass

    def _open(self, class_id: str) -> Class:
        if self._switching or self._current is None or self._current.id != class_id:
            raise ClassClosed(CLASS_ENDED)
        return self._current

    async def _apply(self, class_id: str, rule: Callable[[Class], tuple[Class, T]]) -> tuple[Class, T]:
        klass, result = rule(self._open(class_id))
        await self._change(klass)
        return klass, result

    # -- events ------------------------------------------------------------------------------------------------

    async def _publish(self, event: ClassEvent) -> None:
        self._subscribers.send(event)

    def subscribe(self) -> AsyncIterator[ClassEvent]:
        return self._subscribers.events()

    async def close(self) -> None:
        self._subscribers.send(None)
        self._disk.shutdown(wait=False)  # a write under way finishes; none starts after
