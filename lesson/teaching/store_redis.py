""":class:`~lesson.teaching.store.ClassStore` on Redis: one class state for every app instance behind the proxy.

Chosen with ``--redis-url`` (:func:`open_class_store`); without it the file store, as before. The rules are
:mod:`lesson.rules.classroom`'s, the guarantees the Protocol's:

* **Atomic across processes**: a change reads the class under ``WATCH``, applies the pure rule and writes it in a
  ``MULTI``; when another process changed the class in between, Redis refuses the write and the change is made
  again on the new state (optimistic locking), so two submissions at once never lose one another. Within one
  process the changes go in rounds (:mod:`lesson.teaching.group_commit`): those that arrive together are ruled on
  one read of the class and kept with one write.
* **Durable before it returns**: the write has been acknowledged by Redis (run it with ``appendonly yes`` so a
  Redis restart keeps it: deploy/ does).
* **Events: publish once, every process fans out** (the pattern of websockets' ``docs/topics/broadcast.rst`` and
  python-socketio's Redis manager): a change is published once on one channel; each process holds one
  subscription and hands each event to its own subscribers (its teacher boards). ``at_ms`` travels with the event,
  so a board on another instance still measures the delay from the learner's submission.
* **Redis away**: a change is retried for a few seconds, then refused with :class:`ClassStoreUnavailable` (a
  :class:`~lesson.rules.classroom.ClassroomRejected`: the page shows its message, nothing is half-kept; the learner's
  own progress keeps the attempt, see :mod:`lesson.storage.redis_storage`). The subscription is made again when Redis is
  back, and subscribers get a bare :class:`~lesson.teaching.store.ClassEvent` so they read the class again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from lesson.config import Config
from lesson.rules import classroom
from lesson.rules.classroom import (
    CLASS_ENDED,
    CLASS_ID,
    Class,
    ClassAttempt,
    ClassClosed,
    ClassInfo,
    ClassroomRejected,
    DemoTotals,
    Learner,
)
from lesson.rules.quiz import Quiz
from lesson.storage.redis_storage import KEY_PREFIX, redacted, retry_delays
from lesson.teaching.group_commit import GroupCommit, Outcome, Rule
from lesson.teaching.store import (
    AttemptRecorded,
    ClassChanges,
    ClassEvent,
    ClassStarted,
    ClassStore,
    DemoRunRecorded,
    FileClassStore,
    JoinRefused,
    LearnerJoined,
    LearnerLeft,
    Subscribers,
    new_class_id,
    now_ms,
)

log = logging.getLogger(__name__)

CLASS_PREFIX = KEY_PREFIX + 'class:'
#: How long a change waits for an unreachable Redis before it is refused.
UNAVAILABLE_AFTER_S = 3.0
#: Times a change is made again when other processes keep changing the class under it.
MAX_CONFLICTS = 50
UNAVAILABLE = (
    'The class cannot be reached right now (its shared store is restarting), so this did not reach the class board; '
    'your own result is kept. Try again in a moment.'
)
#: What Redis being away raises (the class moments' relay catches the same).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
T = TypeVar('T')


def _text(raw: object) -> str | None:
    """A Redis answer as text (None for a missing key)."""
    if isinstance(raw, bytes):
        return raw.decode()
    return raw if isinstance(raw, str) else None


class ClassStoreUnavailable(ClassroomRejected):
    """Redis did not answer in time: the change was not made (and the caller is told so)."""


def _ruled(klass: Class, rules: Sequence[Rule]) -> tuple[list[Outcome], Class]:
    """Each rule's outcome, and the class after them all. A rule that raises (a refusal, or a fault of its own) is
    that change's outcome alone: the next rule goes on from the class as the one before left it."""
    outcomes: list[Outcome] = []
    for rule in rules:
        try:
            klass, result = rule(klass)
        except Exception as refused:  # one learner's change must not take the moment's others with it
            outcomes.append(refused)
        else:
            outcomes.append((klass, result))
    return outcomes, klass


# -- events on the wire --------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _learner_to_json(class_id: str, learner: Learner) -> dict[str, Any]:
    item: dict[str, Any] = classroom.class_to_json(Class(class_id, _EPOCH, learners=(learner,)))['learners'][0]
    return item


def _attempt_to_json(class_id: str, attempt: ClassAttempt) -> dict[str, Any]:
    item: dict[str, Any] = classroom.class_to_json(Class(class_id, _EPOCH, attempts=(attempt,)))['attempts'][0]
    return item


def _one_class(class_id: str, learners: list[Any], attempts: list[Any]) -> Class:
    raw = {'id': class_id, 'started_at': _EPOCH.isoformat(), 'max_learners': 1, 'learners': learners}
    return classroom.class_from_json({**raw, 'attempts': attempts})


def event_to_json(event: ClassEvent) -> str:
    data: dict[str, Any] = {'type': type(event).__name__, 'class_id': event.class_id, 'at_ms': event.at_ms}
    if isinstance(event, LearnerJoined):
        data['learner'] = _learner_to_json(event.class_id, event.learner)
    elif isinstance(event, LearnerLeft):
        data['learner_id'] = event.learner_id
    elif isinstance(event, JoinRefused):
        data['refused_joins'] = event.refused_joins
    elif isinstance(event, AttemptRecorded):
        data['attempt'] = _attempt_to_json(event.class_id, event.attempt)
    elif isinstance(event, DemoRunRecorded):
        data['learner_id'] = event.learner_id
        data['totals'] = vars(event.totals)
    return json.dumps(data)


def event_from_json(text: str) -> ClassEvent:
    """The event as published; raises ValueError (or KeyError/TypeError) on anything else."""
    data = json.loads(text)
    class_id, at_ms, kind = str(data['class_id']), float(data['at_ms']), data['type']
    if not CLASS_ID.match(class_id):
        raise ValueError(f'not a class id: {class_id!r}')
    if kind == 'ClassStarted':
        return ClassStarted(class_id, at_ms)
    if kind == 'LearnerJoined':
        return LearnerJoined(class_id, at_ms, _one_class(class_id, [data['learner']], []).learners[0])
    if kind == 'LearnerLeft':
        return LearnerLeft(class_id, at_ms, str(data['learner_id']))
    if kind == 'JoinRefused':
        return JoinRefused(class_id, at_ms, int(data['refused_joins']))
    if kind == 'AttemptRecorded':
        return AttemptRecorded(class_id, at_ms, _one_class(class_id, [], [data['attempt']]).attempts[0])
    if kind == 'DemoRunRecorded':
        totals = DemoTotals(**{name: int(data['totals'][name]) for name in DemoTotals.__dataclass_fields__})
        return DemoRunRecorded(class_id, at_ms, str(data['learner_id']), totals)
    raise ValueError(f'unknown event type {kind!r}')


# -- the store -----------------------------------------------------------------------------------------------


class RedisClassStore(ClassChanges):
    """:class:`~lesson.teaching.store.ClassStore` in Redis: ``class:<id>`` (the class as JSON), ``class:current``
    (the id), ``class:index`` (ids by start time) and the channel ``class:events``."""

    def __init__(
        self,
        url: str,
        quiz: Quiz,
        *,
        max_learners: int = classroom.DEFAULT_MAX_LEARNERS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        prefix: str = CLASS_PREFIX,
        unavailable_after_s: float = UNAVAILABLE_AFTER_S,
    ) -> None:
        self.url = url
        self.quiz = quiz
        self.max_learners = max_learners
        self.clock = clock
        self.prefix = prefix
        self.unavailable_after_s = unavailable_after_s
        self.redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10)
        self._subscribers = Subscribers()
        self._listener: asyncio.Task[None] | None = None
        self._closed = False
        # This process's changes go in rounds, one at a time, each with all the changes that waited for it: under
        # WATCH, N changes at once from one process would have N - 1 of them read, rule on and write the whole class
        # again (200 submits in one moment: thousands of rounds, and the board never caught up), and one write per
        # change cost an encode of the whole class each. Conflicts are left only between processes.
        self.changes = GroupCommit(self._round)
        #: Rounds made again because another process changed the class first (a figure for tests and benchmarks).
        self.conflicts = 0
        # Each change reads the class back as Redis holds it; most often that is what this process wrote last, and
        # parsing it again was half a change's time (2.4 of 5 ms with 200 learners and their attempts).
        self._last_seen: tuple[str, Class] | None = None

    @property
    def _current_key(self) -> str:
        return self.prefix + 'current'

    @property
    def _index_key(self) -> str:
        return self.prefix + 'index'

    @property
    def _channel(self) -> str:
        return self.prefix + 'events'

    def _key(self, class_id: str) -> str:
        return self.prefix + class_id

    async def _patiently(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run one Redis exchange, retrying while Redis is unreachable, for at most ``unavailable_after_s``."""
        deadline = time.monotonic() + self.unavailable_after_s
        next_delay = retry_delays(0.1, 1.0)
        while True:
            try:
                return await call()
            except UNREACHABLE as error:
                wait = min(next_delay(), deadline - time.monotonic())
                if wait <= 0:
                    log.warning(
                        'class store: Redis at %s unreachable (%s); the change was refused and the learner told',
                        redacted(self.url),
                        type(error).__name__,
                    )
                    raise ClassStoreUnavailable(UNAVAILABLE) from error
                await asyncio.sleep(wait)

    # -- reading -----------------------------------------------------------------------------------------------

    def _parse(self, class_id: str, raw: object) -> Class | None:
        text = _text(raw)
        if text is None:
            return None
        if self._last_seen is not None and self._last_seen[0] == text:
            return self._last_seen[1]  # what this process last read or wrote, byte for byte: not parsed again
        try:
            klass = classroom.class_from_json(json.loads(text))
        except (ValueError, KeyError, TypeError) as error:
            log.warning('class %s in Redis cannot be read (%s); it is left as it is and not shown', class_id, error)
            return None
        self._last_seen = (text, klass)  # a Class is immutable: it can be handed out again
        return klass

    def _encoded(self, klass: Class) -> str:
        """The class as stored, remembered (a hit needs Redis to hold these very bytes, so a write that lost a
        race costs nothing)."""
        text = json.dumps(classroom.class_to_json(klass), ensure_ascii=False)
        self._last_seen = (text, klass)
        return text

    async def current(self) -> Class | None:
        async def get() -> Class | None:
            class_id = _text(await self.redis.get(self._current_key))
            return await self.read(class_id) if class_id else None

        return await self._patiently(get)

    async def read(self, class_id: str) -> Class | None:
        if not CLASS_ID.match(class_id):
            return None
        raw = await self._patiently(lambda: self.redis.get(self._key(class_id)))
        return self._parse(class_id, raw)

    async def classes(self) -> list[ClassInfo]:
        async def listing() -> list[ClassInfo]:
            ids = [_text(raw) or '' for raw in await self.redis.zrevrange(self._index_key, 0, -1)]
            current = _text(await self.redis.get(self._current_key))
            raws = await self.redis.mget([self._key(class_id) for class_id in ids]) if ids else []
            found = []
            for class_id, raw in zip(ids, raws, strict=True):
                klass = self._parse(class_id, raw)
                if klass is not None:
                    is_current = current == klass.id
                    found.append(
                        ClassInfo(klass.id, klass.started_at, len(klass.learners), len(klass.attempts), is_current)
                    )
            return found

        return await self._patiently(listing)

    # -- changing ----------------------------------------------------------------------------------------------

    async def start_class(self) -> Class:
        at_ms = now_ms()
        started = self.clock()
        klass = Class(new_class_id(started), started, self.max_learners)

        async def keep() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(self._key(klass.id), self._encoded(klass))
                pipe.set(self._current_key, klass.id)
                pipe.zadd(self._index_key, {klass.id: started.timestamp()})
                await pipe.execute()

        await self._patiently(keep)
        await self._publish(ClassStarted(klass.id, at_ms))
        return klass

    async def _apply(self, class_id: str, rule: Callable[[Class], tuple[Class, T]]) -> tuple[Class, T]:
        return await self.changes.apply(class_id, rule)

    async def _round(self, class_id: str, rules: Sequence[Rule]) -> list[Outcome]:
        """The rules applied in order to the class as Redis holds it, kept with one write, atomically against every
        other process."""

        async def attempt() -> list[Outcome] | None:
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(self._current_key, self._key(class_id))
                    if _text(await pipe.get(self._current_key)) != class_id:
                        raise ClassClosed(CLASS_ENDED)
                    klass = self._parse(class_id, await pipe.get(self._key(class_id)))
                    if klass is None:
                        raise ClassClosed(CLASS_ENDED)
                    outcomes, changed = _ruled(klass, rules)
                    if changed is not klass:  # every change refused: nothing to write
                        pipe.multi()
                        pipe.set(self._key(class_id), self._encoded(changed))
                        await pipe.execute()
                except WatchError:
                    self.conflicts += 1
                    return None  # another process changed it first: make the changes again on its result
                return outcomes

        for _ in range(MAX_CONFLICTS):
            done = await self._patiently(attempt)
            if done is not None:
                return done
        raise ClassStoreUnavailable(UNAVAILABLE)

    # -- events ------------------------------------------------------------------------------------------------

    async def _publish(self, event: ClassEvent) -> None:
        """Once, to every process (best effort: the change is already kept; a lost event costs a redraw)."""
        try:
            await self.redis.publish(self._channel, event_to_json(event))
        except UNREACHABLE as error:
            log.warning('class store: event %s not published (%s)', type(event).__name__, type(error).__name__)

    async def _listen(self) -> None:
        """This process's one subscription; made again after Redis comes back."""
        next_delay = retry_delays()
        cut_off = False
        while not self._closed:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                if cut_off:
                    log.info('class store: subscribed to class events again')
                    current = _text(await self.redis.get(self._current_key))
                    # events may have been missed: every board reads the class again
                    self._subscribers.send(ClassEvent(current or '', now_ms()))
                    cut_off = False
                next_delay = retry_delays()
                async for message in pubsub.listen():
                    if message.get('type') != 'message':
                        continue
                    try:
                        self._subscribers.send(event_from_json(_text(message['data']) or ''))
                    except (ValueError, KeyError, TypeError) as error:
                        log.warning('class store: an event that is not one was ignored (%s)', error)
            except asyncio.CancelledError:
                raise
            except UNREACHABLE as error:
                if not cut_off:
                    log.warning('class store: class events cut off, Redis unreachable (%s)', type(error).__name__)
                cut_off = True
                await asyncio.sleep(next_delay())
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def subscribe(self) -> AsyncIterator[ClassEvent]:
        return self._subscribers.events(joined=self._listening)

    def _listening(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen(), name='class events from Redis')

    async def close(self) -> None:
        self._closed = True
        await self.changes.close()
        self._subscribers.send(None)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.redis.aclose()


def open_class_store(config: Config, quiz: Quiz) -> ClassStore:
    """The class store this configuration asks for: Redis with ``--redis-url``, else files in the data directory
    (each bounded by ``--max-learners``)."""
    if config.redis_url:
        return RedisClassStore(config.redis_url, quiz, max_learners=config.max_learners)
    return FileClassStore(config.data_dir, quiz, max_learners=config.max_learners)
