"""Learner progress in Redis (``--redis-url``), made to lose nothing when Redis goes: NiceGUI's
:class:`RedisPersistentDict` with the rules of :mod:`lesson.storage.redis_storage`, one dict per learner or tab.

* a change is written until it is written (retried, backing off, for as long as the process lives);
* storage that could not be read is never written over: it keeps the learner's new changes, reads again until
  Redis answers, merges (:func:`lesson.storage.redis_storage.merge_learner_data`) and writes the result;
* changes from other instances keep arriving after a Redis restart (the subscription is made again);
* a process that stops with changes Redis never took saves them as a JSON file and says where.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nicegui import background_tasks, core
from nicegui import json as nicegui_json
from nicegui.persistence import RedisPersistentDict

from lesson.config import Config
from lesson.storage.learner_schema import CheckedWrites
from lesson.storage.learner_store import worth_keeping
from lesson.storage.nicegui_storage import is_learner_key, is_learner_storage, serialized, tab_ttl_s
from lesson.storage.nicegui_storage import use_redis as use_redis_dicts
from lesson.storage.redis_storage import (
    NICEGUI_KEY_PREFIX,
    RedisHealth,
    merge_learner_data,
    redacted,
    retry_delays,
    watch_health,
)

log = logging.getLogger(__name__)

#: Where a stopping process saves changes Redis never took (inside the data directory).
UNWRITTEN_DIR = 'unwritten-redis'


@dataclass(frozen=True)
class RedisDictSettings:
    health: RedisHealth
    #: Where unwritten changes go when the process stops (see :data:`UNWRITTEN_DIR`).
    data_dir: Path
    #: --forget-after-days in seconds: Redis deletes progress untouched that long; None keeps it.
    user_ttl_s: int | None


def decoded(raw: bytes | str | None) -> dict[str, Any]:
    """A stored or published value as a dict (``{}`` for nothing or anything but a JSON object)."""
    if not raw:
        return {}
    data = nicegui_json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    return data if isinstance(data, dict) else {}


def _when_running(start: Callable[[], None]) -> None:
    """Start now when the event loop runs, else when the app starts."""
    if core.is_loop_running():
        start()
    else:
        core.app.on_startup(start)


class ResilientRedisDict(RedisPersistentDict):
    def __init__(self, *, settings: RedisDictSettings, **kwargs: Any) -> None:
        self.settings = settings
        self.health = settings.health
        self.loaded = False
        self.dirty = False
        self._applying = False  # stored or remote data being applied: not a change of ours to write
        self.stored = False  # whether Redis holds this key (a visitor who changed nothing gets none)
        self._recovering: asyncio.Task[None] | None = None
        super().__init__(**kwargs)
        if self.is_learner and settings.user_ttl_s:
            # --forget-after-days: Redis deletes progress untouched that long (each write and visit renews it)
            self.ttl = settings.user_ttl_s

    @property
    def is_learner(self) -> bool:
        return is_learner_key(self.key, self.key_prefix)

    # -- loading --

    def _take(self, raw: bytes | str | None) -> None:
        stored = decoded(raw)
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
    def _quietly(self) -> Iterator[None]:
        """Apply stored or remote data without writing it straight back."""
        self._applying = True
        try:
            yield
        finally:
            self._applying = False

    def _loaded(self, raw: bytes | str | None) -> None:
        self._take(raw)
        if raw:  # a visitor with nothing stored (a health check, a first page load) costs one GET, no subscription
            self._start_listening()

    async def initialize(self) -> None:
        try:
            raw = await self._read()
        except Exception as error:
            self._unreadable(error)
            return
        self._loaded(raw)

    def initialize_sync(self) -> None:
        from redis import Redis

        try:
            with Redis.from_url(self.url, **self._redis_client_params) as client:
                raw = client.get(self.key)
        except Exception as error:
            self._unreadable(error)
            return
        self._loaded(raw)

    async def _read(self) -> Any:
        """The stored value; a visit renews the expiry of progress (--forget-after-days counts from it)."""
        if self.ttl and self.is_learner:
            return await self.redis_client.getex(self.key, ex=self.ttl)
        return await self.redis_client.get(self.key)

    def _unreadable(self, error: BaseException) -> None:
        self.health.down(error)

        def start() -> None:
            self._recovering = background_tasks.create(self._recover(), name=f'redis-recover-{self.key}')

        _when_running(start)

    async def _recover(self) -> None:
        next_delay = retry_delays()
        while True:
            await self.health.pause(next_delay())
            try:
                raw = await self._read()
            except Exception as error:
                self.health.down(error)
                continue
            self.health.up()
            self._take(raw)
            self._listen()
            return

    # -- listening to other instances --

    def _start_listening(self) -> None:
        _when_running(self._listen)

    def _listen(self) -> None:
        if self._listener_task is None or self._listener_task.done():
            self._listener_task = background_tasks.create(self._listen_forever(), name=f'redis-listen-{self.key}')

    async def _listen_forever(self) -> None:
        next_delay = retry_delays()
        resubscribed = False
        while True:
            try:
                await self._subscribe(catch_up=resubscribed)
                next_delay = retry_delays()
                await self._follow_changes()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.health.down(error)
                with contextlib.suppress(Exception):
                    await self.pubsub.aclose()
                self.pubsub = self.redis_client.pubsub()
                resubscribed = True
                await self.health.pause(next_delay())

    async def _subscribe(self, *, catch_up: bool) -> None:
        await self.pubsub.subscribe(self.key + 'changes')
        if catch_up and not self.dirty:
            # what other instances wrote while we were cut off
            self._apply_remote(decoded(await self.redis_client.get(self.key)))

    async def _follow_changes(self) -> None:
        async for message in self.pubsub.listen():
            if message['type'] == 'message':
                self._apply_remote(decoded(message['data']))

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
        if not self.stored and not worth_keeping(self):
            return  # nothing a learner did: no key (every cookie-less visit would otherwise leave one)
        self.dirty = True
        self.health.waiting.add(self.key)
        if not self.loaded:
            return  # not read yet (Redis was away when the learner arrived): never write over their history
        self._start_listening()
        background_tasks.create_lazy_or_defer(self._write_until_written(), name=f'redis-{self.key}')

    async def _write_until_written(self) -> None:
        next_delay = retry_delays()
        while self.dirty:
            data = serialized(self, self.key)
            try:
                await self._write(data)
            except Exception as error:
                self.health.down(error)
                await self.health.pause(next_delay())
                continue
            self.health.up()
            self.stored = True
            if serialized(self, self.key) == data:  # nothing changed while it was being written
                self.dirty = False
                self.health.waiting.discard(self.key)

    async def _write(self, data: str) -> None:
        pipeline = self.redis_client.pipeline()
        pipeline.set(self.key, data, ex=self.ttl)
        pipeline.publish(self.key + 'changes', data)
        await pipeline.execute()

    async def close(self) -> None:
        if self._recovering is not None:
            self._recovering.cancel()
        if self.dirty:
            await self._last_write()
        await super().close()

    async def _last_write(self) -> None:
        """Stopping with a change Redis has not taken: one more try, else a file, never a silent loss."""
        data = serialized(self, self.key)
        try:
            if self.loaded:
                await asyncio.wait_for(self.redis_client.set(self.key, data, ex=self.ttl), 2.0)
                return
        except Exception:
            pass
        folder = self.settings.data_dir / UNWRITTEN_DIR
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f'{self.key.replace(":", "_")}.json'
        path.write_text(data, encoding='utf-8')
        log.warning(
            'stopping with learner changes Redis did not take (%s): saved in %s; '
            'merge them back with redis-cli SET if the learner needs them',
            self.key,
            path,
        )


class CheckedRedisDict(CheckedWrites, ResilientRedisDict):
    """A learner's Redis dict: writes checked against what the app writes (:mod:`lesson.storage.learner_schema`)."""


def use_redis(config: Config) -> None:
    """Keep NiceGUI's storage (learner progress, tab storage) in Redis; call before any page is served."""
    from nicegui import app

    url = config.redis_url
    assert url, 'only called with --redis-url'
    health = RedisHealth(url)
    settings = RedisDictSettings(health, config.data_dir, int(config.forget_after_days * 86400) or None)

    def learner_dict(storage_id: str) -> ResilientRedisDict:
        ttl = tab_ttl_s(storage_id)
        kind = CheckedRedisDict if is_learner_storage(storage_id) else ResilientRedisDict
        return kind(url=url, id=storage_id, key_prefix=NICEGUI_KEY_PREFIX, ttl=ttl, settings=settings)

    use_redis_dicts(url, NICEGUI_KEY_PREFIX, learner_dict)
    app.on_startup(lambda: background_tasks.create(watch_health(health), name='redis health check'))
    log.info('learner progress is kept in Redis at %s', redacted(url))
