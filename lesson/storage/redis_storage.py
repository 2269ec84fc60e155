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

This module holds those rules (retry delays, the merge, the health record); the dict that follows them is
:class:`lesson.storage.redis_learner_dict.ResilientRedisDict`, which the app sets up from its
:class:`~lesson.config.Config` (:func:`lesson.storage.redis_learner_dict.use_redis`) before any page is served; no
environment variable is read. Without ``--redis-url`` nothing here runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lesson.rules.progress import STORE_KEY, QuizState, state_from_store, state_to_store
from lesson.storage.redis_urls import redacted as redacted  # where the stores and tests look for it

log = logging.getLogger(__name__)

#: Prefix of every key the app keeps in Redis (NiceGUI's storage under ``nicegui:``, classes under ``class:``).
KEY_PREFIX = 'websocket-lesson:'
NICEGUI_KEY_PREFIX = KEY_PREFIX + 'nicegui:'
#: Retry delays after a failed Redis call: from a quarter second, doubling, to at most this many seconds.
RETRY_FIRST_S = 0.25
RETRY_MAX_S = 4.0
#: How often the health check pings Redis (so an outage is logged even while nobody writes).
HEALTH_CHECK_INTERVAL_S = 1.0


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


async def watch_health(health: RedisHealth, interval_s: float = HEALTH_CHECK_INTERVAL_S) -> None:
    """Ping Redis every ``interval_s`` so that an outage is logged when it begins, not at the next write."""
    from redis.asyncio import Redis

    client = Redis.from_url(health.url, socket_connect_timeout=2, socket_timeout=2)
    try:
        while True:
            try:
                await client.ping()
            except Exception as error:
                health.down(error)
            else:
                health.up()
            await asyncio.sleep(interval_s)
    finally:
        await client.aclose()
