"""The board's shared moments reach every instance: the class feed, the class link and the outage, over Redis.

Each app instance has its own echo process, and a moment is a command to an echo process's ``/control``
(:class:`~lesson.teaching.access.EchoControl`). With one instance the teacher's command goes there and that is all
(:class:`LocalMoments`). Behind a proxy (``--redis-url``) students are spread over instances, so a moment carried
out only on the teacher's would reach a fraction of the class. :class:`RedisMoments` carries it out on the
teacher's own instance first (the board shows that reply, as before), then publishes it once; every other
instance's listener hands it to its own echo process. The moments that last (the class feed, the class link) are
also kept under a key, so an instance that starts or reconnects later joins the one under way: nobody who opens
a demo page on a fresh instance is left out.

The class feed is started with one seed for every instance, so each echo process's ticker makes the same prices at
the same moments (:class:`demos.protocol.feed.PriceFeed` draws its prices and its timing from the seed): the whole
class sees the same updates, as it does on one instance, give or take the milliseconds a message takes to arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from typing import Any, Protocol

from redis.asyncio import Redis

from lesson.storage.redis_storage import KEY_PREFIX, retry_delays
from lesson.teaching.access import EchoControl
from lesson.teaching.store_redis import UNREACHABLE

log = logging.getLogger(__name__)

MOMENTS_PREFIX = KEY_PREFIX + 'moments:'
#: The commands every instance carries out; those that last are kept for instances that come later.
RELAYED = frozenset({'class_feed', 'class_link', 'restart'})
LASTING = frozenset({'class_feed', 'class_link'})
#: A forgotten class link or feed ends with the teaching day, like the teacher's cookie.
LASTING_FOR_S = 12 * 3600
#: How long a listener keeps trying its own echo process (it may still be starting when the instance does).
ECHO_PATIENCE_S = 20.0


class Control(Protocol):
    async def command(self, command: dict[str, Any], timeout_s: float = 5.0) -> dict[str, Any]: ...


def ends(command: dict[str, Any]) -> bool:
    """Whether ``command`` ends a lasting moment (its key is then deleted rather than kept)."""
    if command.get('do') == 'class_feed':
        return command.get('action') == 'stop'
    return command.get('do') == 'class_link' and command.get('profile') is None


def with_seed(command: dict[str, Any]) -> dict[str, Any]:
    """A class feed's start with the seed every instance's ticker shares (other commands as they are)."""
    if command.get('do') == 'class_feed' and command.get('action') == 'start' and 'seed' not in command:
        return {**command, 'seed': secrets.randbits(32)}
    return command


def moment_from_json(text: str) -> tuple[str, dict[str, Any]]:
    """The sending instance and its command; ValueError (or KeyError/TypeError) for anything else."""
    message = json.loads(text)
    sender, command = message['from'], message['command']
    if not isinstance(sender, str) or not isinstance(command, dict) or command.get('do') not in RELAYED:
        raise ValueError('not a moment')
    return sender, command


class LocalMoments:
    """One instance: the teacher's own echo process is the whole class's."""

    def __init__(self, control: Control) -> None:
        self.control = control

    async def send(self, command: dict[str, Any]) -> dict[str, Any]:
        return await self.control.command(with_seed(command))

    def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisMoments:
    """Several instances: a moment carried out here, then on every other instance through one Redis channel.

    Args:
        url: The Redis that the class store uses.
        control: This instance's echo process.
        prefix: Where the channel and the lasting moments' keys live (tests use their own).
    """

    def __init__(self, url: str, control: Control, *, prefix: str = MOMENTS_PREFIX) -> None:
        self.control = control
        self.prefix = prefix
        self.instance = secrets.token_hex(8)
        self.redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10)
        self._listener: asyncio.Task[None] | None = None
        #: Set once this instance listens and has joined the moments under way.
        self.ready = asyncio.Event()

    @property
    def channel(self) -> str:
        return self.prefix + 'events'

    def _key(self, do: str) -> str:
        return self.prefix + do

    async def send(self, command: dict[str, Any]) -> dict[str, Any]:
        """This instance's reply, with ``other_instances``: how many others heard it (None: Redis unreachable)."""
        command = with_seed(command)
        reply = await self.control.command(command)
        if not reply.get('ok') or command.get('do') not in RELAYED:
            return reply
        message = json.dumps({'from': self.instance, 'command': command})
        try:
            if command['do'] in LASTING:
                if ends(command):
                    await self.redis.delete(self._key(command['do']))
                else:
                    await self.redis.set(self._key(command['do']), message, ex=LASTING_FOR_S)
            heard = await self.redis.publish(self.channel, message)
        except UNREACHABLE as error:
            log.warning('class moments: %s not passed on to other instances (%s)', command['do'], type(error).__name__)
            return {**reply, 'other_instances': None}
        return {**reply, 'other_instances': max(0, int(heard) - 1)}

    def start(self) -> None:
        """Listen for the other instances' moments (call inside the running loop, at start-up)."""
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen(), name='class moments from Redis')

    async def _listen(self) -> None:
        next_delay = retry_delays()
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                # subscribed first, then read: a moment sent in between is heard twice at worst (the echo process
                # takes a class link or a class feed with the same seed twice as once), never missed
                await self._join_lasting()
                self.ready.set()
                next_delay = retry_delays()
                async for message in pubsub.listen():
                    if message.get('type') == 'message':
                        await self._heard(message['data'])
            except asyncio.CancelledError:
                raise
            except UNREACHABLE as error:
                log.warning('class moments: not hearing other instances, Redis unreachable (%s)', type(error).__name__)
                await asyncio.sleep(next_delay())
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _join_lasting(self) -> None:
        for do in sorted(LASTING):
            kept = await self.redis.get(self._key(do))
            if kept is not None:
                await self._heard(kept)

    async def _heard(self, data: bytes | str) -> None:
        try:
            sender, command = moment_from_json(data.decode() if isinstance(data, bytes) else data)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
            log.warning('class moments: a message that is not one was ignored (%s)', error)
            return
        if sender == self.instance:  # carried out when it was sent (an instance id lives as long as its process)
            return
        await self._carry_out(command)

    async def _carry_out(self, command: dict[str, Any]) -> None:
        """On this instance's echo process, waiting for it while it starts; a refusal is logged, not retried."""
        next_delay = retry_delays(0.2, 2.0)
        deadline = asyncio.get_running_loop().time() + ECHO_PATIENCE_S
        while True:
            try:
                reply = await self.control.command(command)
                break
            except (OSError, TimeoutError) as error:
                if asyncio.get_running_loop().time() > deadline:
                    log.warning('class moments: %s not carried out, echo unreachable (%s)', command['do'], error)
                    return
                await asyncio.sleep(next_delay())
        if not reply.get('ok'):
            log.warning('class moments: the echo server refused %s: %s', command['do'], reply.get('error'))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.redis.aclose()


def open_moments(redis_url: str | None, control: EchoControl) -> LocalMoments | RedisMoments:
    return RedisMoments(redis_url, control) if redis_url else LocalMoments(control)
