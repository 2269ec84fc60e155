"""The board's shared moments reach every instance through a real redis-server (lesson/teaching/class_moments.py):
three relays stand for three app instances, each with its own echo process (a recording stand-in here)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from itertools import count
from typing import Any

import pytest

from lesson.teaching.class_moments import RedisMoments

from ..support.deployment import RedisServer
from ..support.waiting import wait_until_async

PREFIXES = count()


class RecordingEcho:
    """An echo process's control channel that keeps every command; unreachable while ``down``."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []
        self.down = False

    async def command(self, command: dict[str, Any], timeout_s: float = 5.0) -> dict[str, Any]:
        if self.down:
            raise ConnectionRefusedError('echo process not listening yet')
        self.commands.append(command)
        return {'ok': True, 'sessions': 0}


Instance = tuple[RedisMoments, RecordingEcho]


@pytest.fixture
async def instances(redis_server: RedisServer) -> AsyncGenerator[Callable[[], Instance]]:
    prefix = f'test-moments-{next(PREFIXES)}:'
    made: list[RedisMoments] = []

    def start() -> Instance:
        echo = RecordingEcho()
        relay = RedisMoments(redis_server.url, echo, prefix=prefix)
        relay.start()
        made.append(relay)
        return relay, echo

    yield start
    for relay in made:
        await relay.close()


async def listening(*relays: RedisMoments) -> None:
    """Until each relay has subscribed and joined the moments under way."""
    await asyncio.wait_for(asyncio.gather(*(relay.ready.wait() for relay in relays)), 5)


async def test_a_class_link_reaches_every_instance_once_and_later_ones_too(
    instances: Callable[[], Instance],
) -> None:
    (teacher, teachers_echo), (other, others_echo) = instances(), instances()
    await listening(teacher, other)

    link = {'do': 'class_link', 'profile': '3g'}
    reply = await teacher.send(link)
    assert reply == {'ok': True, 'sessions': 0, 'other_instances': 1}
    await wait_until_async(lambda: bool(others_echo.commands), 5, 'the other instance never heard it')
    assert others_echo.commands == [link] and teachers_echo.commands == [link]  # carried out once on each

    # An instance that starts while the class is on 3G joins it, its echo process still starting.
    _, lates_echo = instances()
    lates_echo.down = True
    await asyncio.sleep(0.3)
    lates_echo.down = False
    await wait_until_async(lambda: bool(lates_echo.commands), 10, 'the late instance never joined')
    assert lates_echo.commands == [link]

    # Ended: every instance hears it, and one starting afterwards has nothing to join.
    assert (await teacher.send({'do': 'class_link', 'profile': None}))['other_instances'] == 2
    await wait_until_async(lambda: len(lates_echo.commands) == 2, 5, 'the end never came')
    assert others_echo.commands[-1] == {'do': 'class_link', 'profile': None}
    after, afters_echo = instances()
    await listening(after)
    await asyncio.sleep(0.3)
    assert afters_echo.commands == []


async def test_every_instance_starts_the_class_feed_with_one_seed(instances: Callable[[], Instance]) -> None:
    (teacher, teachers_echo), (other, others_echo) = instances(), instances()
    await listening(teacher, other)
    start = {'do': 'class_feed', 'action': 'start', 'rate_per_s': 2.0, 'session_ids': None}
    await teacher.send(start)
    await wait_until_async(lambda: bool(others_echo.commands), 5, 'the other instance never heard it')
    (here,), (there,) = teachers_echo.commands, others_echo.commands
    assert here == there and isinstance(here['seed'], int)


async def test_with_redis_gone_the_teachers_own_instance_still_does_it(
    instances: Callable[[], Instance], redis_server: RedisServer
) -> None:
    teacher, echo = instances()
    redis_server.stop()
    reply = await teacher.send({'do': 'restart', 'seconds': 4})
    assert reply == {'ok': True, 'sessions': 0, 'other_instances': None}
    assert echo.commands == [{'do': 'restart', 'seconds': 4}]
