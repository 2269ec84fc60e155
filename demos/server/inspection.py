"""The inspection stream, ``/inspect?session=ID``: what only the server sees, sent straight to the learner's page.

A page's own sockets tell it what the browser saw; the bytes on the wire as the server's sockets counted them, the
frames as the server read them and the handshake as it arrived are known only here. One WebSocket per page carries
them, so nothing per update travels through the page server. The same socket carries the page's commands for its
session (start the feed, close the echo connections with a code, ...), each answered with a ``reply``.

What the server sends (JSON text messages, see ``docs/echo-protocol.md``):

* ``counts``: the session's feed state and its lanes' counters, when they changed, at most every ``period_s``;
* ``frames``: new entries of the echo lane's frame log (the newest :data:`FRAMES_PER_MESSAGE`, and how many were
  left out);
* ``handshake``: the latest echo handshake, with ``Sec-WebSocket-Accept`` worked out again
  (:mod:`demos.protocol.handshake`);
* ``reading``: the echo connections stopped (``paused: true``) or started again reading, with the server's time;
* ``reply``: the answer to a command, with the command's ``id``.

Parsing a command is pure (:func:`parse_command`); :class:`InspectionStream` only moves messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from demos.protocol.feed import epoch_ms
from demos.protocol.handshake import GUID, HandshakeError, check_handshake
from demos.protocol.limits import MessageRateLimiter
from demos.server.break_it import CLOSE_CODES, MAX_PAUSE_S
from demos.server.session_links import choose_link, parse_link_command
from demos.server.sessions import DemoSession

log = logging.getLogger(__name__)

#: How often the stream looks for news. Four times a second keeps the figures live without a message per update.
DEFAULT_PERIOD_S = 0.25
#: Frames sent in one message at most: a burst logs a hundred at once; the newest of them are enough to look at.
FRAMES_PER_MESSAGE = 40
#: The feed rates a page may ask for, per second.
MIN_RATE_PER_S, MAX_RATE_PER_S = 0.1, 100.0
#: How long a page may take the echo server down for.
MIN_DOWNTIME_S, MAX_DOWNTIME_S = 0.5, 10.0

ACTIONS = frozenset(
    {'start', 'stop', 'reset', 'rate', 'close_echo', 'drop_echo', 'ping_echo', 'pause_echo', 'restart', 'link'}
)


class CommandError(ValueError):
    """A command the stream does not take; the reason goes back to the page in the reply."""


@dataclass(frozen=True, slots=True)
class Command:
    """One command of a page: what to do, with its checked arguments."""

    id: int | None
    action: str
    rate_per_s: float | None = None
    code: int | None = None
    seconds: float | None = None
    #: ``link``: the command as sent; checked when carried out, so a mistyped figure is answered, not fatal.
    arguments: dict[str, Any] | None = None


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CommandError(f'"{name}" is a number')
    if not low <= value <= high:
        raise CommandError(f'"{name}" is from {low:g} to {high:g}')
    return float(value)


def parse_command(message: str | bytes) -> Command:
    """Read one command, e.g. ``{"id": 3, "do": "start", "rate_per_s": 5}``.

    Raises:
        CommandError: with a reason, for anything that is not a known command with valid arguments.
    """
    if not isinstance(message, str):
        raise CommandError('commands are JSON text messages')
    try:
        command = json.loads(message)
    except (ValueError, RecursionError) as error:
        raise CommandError('commands are JSON objects') from error
    if not isinstance(command, dict):
        raise CommandError('commands are JSON objects')
    command_id = command.get('id')
    if command_id is not None and (isinstance(command_id, bool) or not isinstance(command_id, int)):
        raise CommandError('"id" is an integer')
    action = command.get('do')
    if action not in ACTIONS:
        raise CommandError(f'"do" is one of {", ".join(sorted(ACTIONS))}')
    match action:
        case 'start' if command.get('rate_per_s') is None:
            return Command(command_id, action)
        case 'start' | 'rate':
            return Command(
                command_id,
                action,
                rate_per_s=_number(command.get('rate_per_s'), 'rate_per_s', MIN_RATE_PER_S, MAX_RATE_PER_S),
            )
        case 'close_echo':
            code = command.get('code', 1000)
            if code not in CLOSE_CODES or isinstance(code, bool):
                raise CommandError(f'"code" is one of {", ".join(map(str, sorted(CLOSE_CODES)))}')
            return Command(command_id, action, code=int(code))
        case 'pause_echo':
            return Command(command_id, action, seconds=_number(command.get('seconds'), 'seconds', 0.1, MAX_PAUSE_S))
        case 'link':
            return Command(command_id, action, arguments=command)
        case 'restart':
            return Command(
                command_id, action, seconds=_number(command.get('seconds'), 'seconds', MIN_DOWNTIME_S, MAX_DOWNTIME_S)
            )
    return Command(command_id, action)


def handshake_message(session: DemoSession) -> dict[str, Any] | None:
    """The session's latest echo handshake with its accept key worked out again, or None before the first."""
    handshake = session.last_handshake
    if handshake is None:
        return None
    message: dict[str, Any] = {'type': 'handshake', **handshake.as_dict()}
    try:
        check = check_handshake(handshake.request_headers, handshake.response_headers)
    except HandshakeError as error:
        message['check'] = {'error': str(error)}
    else:
        message['check'] = {
            'key': check.key,
            'guid': GUID,
            'key_with_guid': check.key_with_guid,
            'sha1_hex': check.sha1_hex,
            'expected_accept': check.expected_accept,
            'server_accept': check.server_accept,
            'matches': check.matches,
        }
    return message


def counts_message(session: DemoSession) -> dict[str, Any]:
    snapshot = session.snapshot()
    del snapshot['last_handshake'], snapshot['frame_log_next']
    return {'type': 'counts', **snapshot}


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(',', ':'))


class InspectionStream:
    """Serves one ``/inspect`` connection of ``session`` until it closes.

    Args:
        connection: The accepted WebSocket.
        session: The demo session it inspects.
        limiter: The connection's message rate limit (commands count like any message).
        restart: Takes the whole echo server down for some seconds, or None when learners may not (a class
            shares one server).
        period_s: How often to look for news.
    """

    def __init__(
        self,
        connection: ServerConnection,
        session: DemoSession,
        limiter: MessageRateLimiter,
        *,
        restart: Callable[[float], Awaitable[None]] | None,
        period_s: float = DEFAULT_PERIOD_S,
    ) -> None:
        self.connection = connection
        self.session = session
        self.limiter = limiter
        self.restart = restart
        self.period_s = period_s
        self._outbox: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_counts = ''
        self._next_frame = session.frame_log.next_index if session.watching_frames else 0
        self._handshake_at: float | None = None

    async def serve(self) -> None:
        session = self.session
        session.watch_frames()
        session.inspectors.add(self.connection)
        session.reading_listeners.add(self._reading_changed)
        sender = asyncio.get_running_loop().create_task(self._send_news())
        try:
            async for message in self.connection:
                if not self.limiter.allow():
                    await self._refuse(f'too many messages: at most {self.limiter.rate_per_s:g} per second')
                    return
                try:
                    command = parse_command(message)
                except CommandError as error:
                    await self._refuse(str(error))
                    return
                session.touch()
                self._spawn(self._run(command))
        finally:
            session.inspectors.discard(self.connection)
            session.reading_listeners.discard(self._reading_changed)
            sender.cancel()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _refuse(self, reason: str) -> None:
        what = f'closed {getattr(self.connection, "client", "?")} on /inspect: {reason} (1008)'
        if (report := getattr(self.connection, 'report_drop', None)) is not None:
            report('inspect refused', what)  # a client can repeat it: once a minute per address
        else:
            log.warning('echo server: %s', what)
        await self.connection.close(CloseCode.POLICY_VIOLATION, reason[:120])

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        # Commands that take seconds (a pause, a ping, a restart) must not hold up the next command or the news.
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _post(self, message: dict[str, Any]) -> None:
        self._outbox.append(message)
        self._wake.set()

    def _reading_changed(self, paused: bool) -> None:
        self._post({'type': 'reading', 'paused': paused, 'at': epoch_ms()})

    async def _run(self, command: Command) -> None:
        reply: dict[str, Any] = {'type': 'reply', 'id': command.id, 'do': command.action, 'ok': True}
        try:
            reply.update(await self._perform(command))
        except (CommandError, ValueError) as error:
            reply.update(ok=False, error=str(error))
        self._post(reply)

    async def _perform(self, command: Command) -> dict[str, Any]:
        session = self.session
        match command.action:
            case 'start':
                session.start(command.rate_per_s)
            case 'stop':
                session.stop()
            case 'reset':
                session.reset()
                self._next_frame = 0
            case 'rate':
                assert command.rate_per_s is not None
                session.set_rate(command.rate_per_s)
            case 'close_echo':
                assert command.code is not None
                return {
                    'connections': await session.close_echo(command.code, f'closed with {command.code} from the page')
                }
            case 'drop_echo':
                return {'connections': await session.drop_echo()}
            case 'ping_echo':
                return {'round_trips_ms': await session.ping_echo()}
            case 'pause_echo':
                assert command.seconds is not None
                return {'connections': await session.pause_echo_reading(command.seconds)}
            case 'link':
                assert command.arguments is not None
                return choose_link(session, parse_link_command(command.arguments))
            case 'restart':
                if self.restart is None:
                    raise CommandError('switched off: this server is shared by a class')
                assert command.seconds is not None
                # The restart closes this very connection (1001): the reply may never arrive, and need not.
                self._post(
                    {'type': 'reply', 'id': command.id, 'do': 'restart', 'ok': True, 'down_for_s': command.seconds}
                )
                await asyncio.sleep(0.05)
                await self.restart(command.seconds)
        return {}

    async def _send_news(self) -> None:
        try:
            while True:
                for message in self._news():
                    await self.connection.send(_dumps(message))
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.period_s)
        except ConnectionClosed:
            return

    def _news(self) -> list[dict[str, Any]]:
        session = self.session
        news, self._outbox = self._outbox, []
        counts = counts_message(session)
        encoded = _dumps(counts)
        if encoded != self._last_counts:
            self._last_counts = encoded
            news.insert(0, counts)
        entries = session.frame_log.entries(self._next_frame)
        if session.frame_log.next_index < self._next_frame:  # the log was cleared (a reset)
            entries = session.frame_log.entries(0)
        if entries:
            self._next_frame = entries[-1]['index'] + 1
            shown = entries[-FRAMES_PER_MESSAGE:]
            news.append({'type': 'frames', 'entries': shown, 'left_out': len(entries) - len(shown)})
        handshake = session.last_handshake
        if handshake is not None and handshake.at != self._handshake_at:
            self._handshake_at = handshake.at
            if (message := handshake_message(session)) is not None:
                news.append(message)
        return news
