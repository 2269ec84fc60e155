"""Learner progress in Redis (``--redis-url``): NiceGUI's own Redis storage, made to lose nothing when Redis goes.

NiceGUI keeps ``app.storage.user`` in Redis when ``Storage.redis_url`` is set (``NICEGUI_REDIS_URL``), so any
instance behind the proxy finds a learner's progress. Its :class:`RedisPersistentDict` writes each change once
and forgets it when Redis is away (the task fails, the change stays only in that process's memory and is written
with the next change, if there is one); a learner whose storage could not be read at all starts from ``{}`` and
the next write would replace their whole history with it. Here a class's progress must survive a Redis restart:

* **A change is written until it is written**: a failed write is retried (backing off to a few seconds) for as
  long as the process lives; the learner's page keeps working from memory meanwhile.
* **A learner whose progress could not be read is never written over**: their dict keeps their new changes and
  reads Redis again until it answers, then merges (quiz attempts made meanwhile are added after the stored ones,
  :func:`merge_learner_data`) and writes the result.
* **Changes from other instances** keep arriving after a Redis restart (the subscription is made again).
* **Said out loud**: one WARNING when Redis becomes unreachable and one INFO line when it is back (with the writes
  that were waiting), from a one-second health check as well as from the writes themselves; a process that
  stops with changes still unwritten saves them as JSON files in the data directory and logs where.

The app sets this up from its :class:`~lesson.config.Config` (:func:`use_redis`), before any page is served; no
environment variable is read. Without ``--redis-url`` nothing here runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lesson.config import Config
from lesson.rules.progress import STORE_KEY, QuizState, state_from_store, state_to_store

log = logging.getLogger(__name__)

#: Prefix of every key the app keeps in Redis (NiceGUI's storage under ``nicegui:``, classes under ``class:``).
KEY_PREFIX = 'websocket-lesson:'
NICEGUI_KEY_PREFIX = KEY_PREFIX + 'nicegui:'
#: Retry delays after a failed Redis call: from a quarter second, doubling, to at most this many seconds.
RETRY_FIRST_S = 0.25
RETRY_MAX_S = 4.0
#: How often the health check pings Redis (so an outage is logged even while nobody writes).
HEALTH_CHECK_INTERVAL_S = 1.0
#: Where a stopping process saves changes Redis never took (inside the data directory).
UNWRITTEN_DIR = 'unwritten-redis'


def redacted(url: str) -> str:
    """The URL without its password, for log lines."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ''
    netloc = f'{parts.username or ""}:***@{host}' + (f':{parts.port}' if parts.port else '')
    return urlunsplit(parts._replace(netloc=netloc))


def retry_delays(first_s: float = RETRY_FIRST_S, max_s: float = RETRY_MAX_S) -> Callable[[], float]:
    """A function giving the next wait: first_s, 2 first_s, ... up to max_s."""
    attempt = 0

    def next_delay() -> float:
        nonlocal attempt
        attempt += 1
        return min(max_s, first_s * 2 ** (attempt - 1))

    return next_delay


# -- merging what a learner did while their stored progress could not be read --------------------------------


def merge_quiz(stored: QuizState, local: QuizState) -> QuizState:
    """The stored history, then the attempts made while it could not be read, numbered after it.

    ``local`` began from nothing (its storage could not be loaded), so its attempts are newer than every stored
    one. An attempt already stored (same time and answers, e.g. written by a retry) is not added twice.
    """
    attempts = list(stored.attempts)
    known = {(a.submitted_at, tuple(sorted(a.answers.items()))) for a in attempts}
    number = max((a.number for a in attempts), default=0)
    for attempt in local.attempts:
        if (attempt.submitted_at, tuple(sorted(attempt.answers.items()))) in known:
            continue
        number += 1
        attempts.append(replace(attempt, number=number))
    current = local.current if local.current is not None and local.current.answers else stored.current
    if local.attempts and local.current is None:
        current = None  # the learner's last act was a submission: show its result, as their page did
    if current is not None and current.number <= number:
        current = replace(current, number=number + 1)
    return QuizState(current, tuple(attempts))


def merge_learner_data(stored: Mapping[str, Any], local: Mapping[str, Any]) -> dict[str, Any]:
    """A learner's storage as Redis had it, with what they changed while it could not be read on top.

    Quiz progress is merged (:func:`merge_quiz`); any other key takes the newer, local value.
    """
    merged = {**stored, **local}
    if STORE_KEY in stored and STORE_KEY in local:
        merged[STORE_KEY] = state_to_store(merge_quiz(state_from_store(stored), state_from_store(local)))
    return merged


# -- saying when Redis goes and comes back ---------------------------------------------------------------------


@dataclass
class RedisHealth:
    """Whether Redis answered last time anyone asked; logs each change of state once."""

    url: str
    reachable: bool = True
    since: float = field(default_factory=time.monotonic)
    #: Learner dicts with changes Redis has not taken yet (their keys).
    waiting: set[str] = field(default_factory=set)

    def down(self, error: BaseException) -> None:
        if self.reachable:
            self.reachable, self.since = False, time.monotonic()
            log.warning(
                'Redis at %s is unreachable (%s: %s): pages keep being served, learner progress changes are kept '
                'in memory and written when it is back',
                redacted(self.url),
                type(error).__name__,
                str(error)[:200],
            )

    _back: asyncio.Event | None = None

    async def pause(self, seconds: float) -> None:
        """Wait before the next try: ``seconds``, or less when the health check sees Redis come back."""
        if self._back is None:
            self._back = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._back.wait(), seconds)

    def up(self) -> None:
        if not self.reachable:
            if self._back is not None:
                self._back.set()  # every waiting write and reader tries again now
                self._back = None
            self.reachable = True
            log.info(
                'Redis at %s is reachable again after %.1f s; %d learner(s) with changes waiting are being written',
                redacted(self.url),
                time.monotonic() - self.since,
                len(self.waiting),
            )
            self.since = time.monotonic()


HEALTH: RedisHealth | None = None


def _health() -> RedisHealth:
    assert HEALTH is not None, 'use_redis() sets up the health record first'
    return HEALTH


# -- the learner's dict ----------------------------------------------------------------------------------------


def resilient_dict_class(data_dir: Path, user_ttl_s: int | None) -> type:
    """NiceGUI's RedisPersistentDict with the rules above (a factory: NiceGUI is imported only when serving)."""
    from nicegui import background_tasks, core
    from nicegui import json as nicegui_json
    from nicegui.persistence import RedisPersistentDict
    from nicegui.persistence.serialization import dumps
    from nicegui.storage import USER_PREFIX

    from lesson.web.hardening import nothing_to_keep, worth_keeping

    defaults = nothing_to_keep()

    def _decoded(raw: bytes | str | None) -> dict[str, Any]:
        if not raw:
            return {}
        data = nicegui_json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        return data if isinstance(data, dict) else {}

    class ResilientRedisDict(RedisPersistentDict):
        def __init__(self, **kwargs: Any) -> None:
            self.loaded = False
            self.dirty = False
            self._applying = False  # stored or remote data being applied: not a change of ours to write
            self.stored = False  # whether Redis holds this key (a visitor who changed nothing gets none)
            self._recovering: asyncio.Task[None] | None = None
            super().__init__(**kwargs)
            if self.key.startswith(self.key_prefix + USER_PREFIX) and user_ttl_s:
                # --forget-after-days: Redis deletes progress untouched that long (each write and visit renews it)
                self.ttl = user_ttl_s

        # -- loading --

        def _take(self, raw: bytes | str | None) -> None:
            stored = _decoded(raw)
            self.stored = self.stored or bool(raw)
            self.loaded = True
            if self.dirty:  # changes made before the stored data could be read: merge, then write the result
                merged = merge_learner_data(stored, dict(self))
                with self._quietly():
                    self.update(merged)
                self.publish()
            else:
                with self._quietly():
                    self.update(stored)

        @contextlib.contextmanager
        def _quietly(self) -> Any:
            """Apply stored or remote data without writing it straight back."""
            self._applying = True
            try:
                yield
            finally:
                self._applying = False

        async def initialize(self) -> None:
            try:
                raw = await self._read()
            except Exception as error:
                _health().down(error)
                self._recover_later()
                return
            self._take(raw)
            if raw:  # a visitor with nothing stored (a health check, a first page load) costs one GET, no subscription
                self._start_listening()

        def initialize_sync(self) -> None:
            from redis import Redis

            try:
                with Redis.from_url(self.url, **self._redis_client_params) as client:
                    raw = client.get(self.key)
            except Exception as error:
                _health().down(error)
                self._recover_later()
                return
            self._take(raw)
            if raw:  # a visitor with nothing stored (a health check, a first page load) costs one GET, no subscription
                self._start_listening()

        async def _read(self) -> Any:
            """The stored value; a visit renews the expiry of progress (--forget-after-days counts from it)."""
            if self.ttl and self.key.startswith(self.key_prefix + USER_PREFIX):
                return await self.redis_client.getex(self.key, ex=self.ttl)
            return await self.redis_client.get(self.key)

        def _recover_later(self) -> None:
            async def recover() -> None:
                next_delay = retry_delays()
                while True:
                    await _health().pause(next_delay())
                    try:
                        raw = await self._read()
                    except Exception as error:
                        _health().down(error)
                        continue
                    _health().up()
                    self._take(raw)
                    self._listen()
                    return

            def start() -> None:
                self._recovering = background_tasks.create(recover(), name=f'redis-recover-{self.key}')

            if core.is_loop_running():
                start()
            else:
                core.app.on_startup(start)

        # -- listening to other instances --

        def _start_listening(self) -> None:
            if core.is_loop_running():
                self._listen()
            else:
                core.app.on_startup(self._listen)

        def _listen(self) -> None:
            if self._listener_task is None or self._listener_task.done():
                self._listener_task = background_tasks.create(self._listen_forever(), name=f'redis-listen-{self.key}')

        async def _listen_forever(self) -> None:
            next_delay = retry_delays()
            resubscribed = False
            while True:
                try:
                    await self.pubsub.subscribe(self.key + 'changes')
                    if resubscribed and not self.dirty:
                        # what other instances wrote while we were cut off
                        raw = await self.redis_client.get(self.key)
                        self._apply_remote(_decoded(raw))
                    next_delay = retry_delays()
                    async for message in self.pubsub.listen():
                        if message['type'] == 'message':
                            self._apply_remote(_decoded(message['data']))
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    _health().down(error)
                    with contextlib.suppress(Exception):
                        await self.pubsub.aclose()
                    self.pubsub = self.redis_client.pubsub()
                    resubscribed = True
                    await _health().pause(next_delay())

        def _apply_remote(self, new_data: dict[str, Any]) -> None:
            if new_data == self or self.dirty:
                return  # our own write coming back, or ours is newer and on its way
            with self._quietly():
                for key in set(self) - new_data.keys():
                    del self[key]
                self.update(new_data)

        # -- writing --

        def publish(self) -> None:
            if self._applying:
                return
            if not self.stored and not worth_keeping(self, defaults):
                return  # nothing a learner did: no key (every cookie-less visit would otherwise leave one)
            if not self.loaded:
                # Not read yet (Redis was away when the learner arrived): never write over their history.
                self.dirty = True
                _health().waiting.add(self.key)
                return
            self.dirty = True
            _health().waiting.add(self.key)
            self._start_listening()
            background_tasks.create_lazy_or_defer(self._write_until_written(), name=f'redis-{self.key}')

        async def _write_until_written(self) -> None:
            next_delay = retry_delays()
            while self.dirty:
                data = dumps(self, self.key)
                try:
                    pipeline = self.redis_client.pipeline()
                    pipeline.set(self.key, data, ex=self.ttl)
                    pipeline.publish(self.key + 'changes', data)
                    await pipeline.execute()
                except Exception as error:
                    _health().down(error)
                    await _health().pause(next_delay())
                    continue
                _health().up()
                self.stored = True
                if dumps(self, self.key) == data:  # nothing changed while it was being written
                    self.dirty = False
                    _health().waiting.discard(self.key)

        async def close(self) -> None:
            if self._recovering is not None:
                self._recovering.cancel()
            if self.dirty:
                await self._last_write()
            await super().close()

        async def _last_write(self) -> None:
            """Stopping with a change Redis has not taken: one more try, else a file, never a silent loss."""
            data = dumps(self, self.key)
            try:
                if self.loaded:
                    await asyncio.wait_for(self.redis_client.set(self.key, data, ex=self.ttl), 2.0)
                    return
            except Exception:
                pass
            folder = data_dir / UNWRITTEN_DIR
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f'{self.key.replace(":", "_")}.json'
            path.write_text(data, encoding='utf-8')
            log.warning(
                'stopping with learner changes Redis did not take (%s): saved in %s; '
                'merge them back with redis-cli SET if the learner needs them',
                self.key,
                path,
            )

    return ResilientRedisDict


async def watch_health(url: str, interval_s: float = HEALTH_CHECK_INTERVAL_S) -> None:
    """Ping Redis every ``interval_s`` so that an outage is logged when it begins, not at the next write."""
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        while True:
            try:
                await client.ping()
            except Exception as error:
                _health().down(error)
            else:
                _health().up()
            await asyncio.sleep(interval_s)
    finally:
        await client.aclose()


def use_redis(config: Config) -> None:
    """Keep NiceGUI's storage (learner progress, tab storage) in Redis; call before any page is served.

    Sets NiceGUI's own switch (``Storage.redis_url``, what ``NICEGUI_REDIS_URL`` would set) from the app's
    configuration and makes the storage again, so nothing of it is left in files.
    """
    global HEALTH
    from nicegui import app, background_tasks
    from nicegui.storage import TAB_PREFIX, TTL_BUFFER_SECONDS, Storage

    url = config.redis_url
    assert url, 'only called with --redis-url'
    HEALTH = RedisHealth(url)
    learner_dict = resilient_dict_class(config.data_dir, int(config.forget_after_days * 86400) or None)

    def create_persistent_dict(storage_id: str) -> Any:
        ttl = int(app.storage.max_tab_storage_age + TTL_BUFFER_SECONDS) if storage_id.startswith(TAB_PREFIX) else None
        return learner_dict(url=url, id=storage_id, key_prefix=NICEGUI_KEY_PREFIX, ttl=ttl)

    Storage.redis_url = url
    Storage.redis_key_prefix = NICEGUI_KEY_PREFIX
    Storage._create_persistent_dict = staticmethod(create_persistent_dict)  # type: ignore[method-assign,assignment]
    app.storage = Storage()
    app.storage.general.initialize_sync()
    app.on_startup(lambda: background_tasks.create(watch_health(url), name='redis health check'))
    log.info('learner progress is kept in Redis at %s', redacted(url))
