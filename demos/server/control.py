"""The app's control channel to the echo process: a WebSocket at ``/control`` for the teacher's shared moments.

Only the app may use it. It presents ``X-Lesson-Control: AT_MS.NONCE.SIGNATURE``, the HMAC-SHA256 of
``control:AT_MS:NONCE`` with the key it already shares with the echo process (:mod:`demos.protocol.session_ids`),
checked in constant time; the time must be within :data:`MAX_CLOCK_SKEW_MS` of the echo process's clock and each
signature works once, so a recorded header is worth nothing later (the random nonce keeps two headers made in one
millisecond apart). A browser never gets in: any request with an ``Origin`` is refused (the app's client sends
none), and a page cannot set the header on a WebSocket anyway.

Commands, one JSON text message each, answered ``{"id": N, "ok": true, ...}`` or ``{"id": N, "ok": false,
"error": "..."}``:

* ``{"id": N, "do": "restart", "seconds": S}`` (0.5 to 30): the whole echo server goes away for ``S`` seconds,
  as :meth:`demos.server.echo_server.EchoServer.restart` does; every learner's sockets close with 1001 and their
  panels reconnect. The reply is sent before the server goes down.
* ``{"id": N, "do": "class_feed", "action": "start", "rate_per_s": R, "session_ids": [...] | null, "seed": S}``
  (``seed`` optional: echo processes given one seed make the same updates; the app's instances share it): one feed
  for the whole class (:mod:`demos.server.class_feed`). Its updates (the same prices and times, each session
  numbering them on from its own last number) go to each listed demo session, or to every session the server has
  (``null``: pages that open later follow too); the sessions' own feeds are paused meanwhile, so a learner's Start
  joins the class feed instead of starting a feed of their own, and their Reset or rate change leaves everyone
  else's updates alone. ``"action": "stop"`` gives every session its own feed back, ticking again at once where
  the page had pressed Start.
* ``{"id": N, "do": "class_link", "profile": "3g" | null}``: every demo session on one named link profile
  (:mod:`demos.server.class_link`), those that open later too; ``null`` puts them all back on loopback. The reply
  says how many sessions there are (``sessions``) or were on it (``returned``).
"""

from __future__ import annotations

import hashlib
import hmac
import http
import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import MultipleValuesError
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from demos.protocol import http_answers
from demos.server.class_feed import ClassFeed
from demos.server.class_link import ClassLink
from demos.server.sessions import DemoSession

#: The header carrying the app's proof.
CONTROL_HEADER = 'X-Lesson-Control'
#: How far the app's clock stamp may be from the echo process's (both run on one machine; generous for a busy one).
MAX_CLOCK_SKEW_MS = 30_000
#: Signatures remembered to refuse a replay; older ones are out of the time window anyway.
SEEN_LIMIT = 1000
MIN_RESTART_S = 0.5
MAX_RESTART_S = 30.0


#: Hex digits of the nonce: two commands sent in the same millisecond must not look like a replay of each other.
NONCE_HEX = 16


def _signature(key: bytes, at_ms: int, nonce: str) -> str:
    return hmac.new(key, f'control:{at_ms}:{nonce}'.encode('ascii'), hashlib.sha256).hexdigest()


def control_header(key: bytes, at_ms: int | None = None, nonce: str | None = None) -> str:
    """The header value the app sends (``AT_MS.NONCE.SIGNATURE``)."""
    at_ms = int(time.time() * 1000) if at_ms is None else at_ms
    nonce = secrets.token_hex(NONCE_HEX // 2) if nonce is None else nonce
    return f'{at_ms}.{nonce}.{_signature(key, at_ms, nonce)}'


def _well_formed(at_text: str, nonce: str, signature: str) -> bool:
    hex_digits = set('0123456789abcdef')
    return (
        at_text.isascii()
        and at_text.isdigit()
        and len(at_text) <= 15
        and len(nonce) == NONCE_HEX
        and set(nonce) <= hex_digits
        and bool(signature)
    )


class ControlGate:
    """Decides who may open ``/control``: pure but for the memory of signatures already used."""

    def __init__(self, key: bytes | None, clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self.clock = clock
        self._seen: OrderedDict[str, None] = OrderedDict()

    def problem(self, origin: str | None, value: str | None) -> str | None:
        """Why the request may not control the server, or ``None`` when it may."""
        if self.key is None:
            return 'this echo server takes no control commands (it has no key)'
        if origin is not None:
            return 'the control channel is not for pages'
        parts = (value or '').split('.')
        if len(parts) != 3 or not _well_formed(*parts):
            return f'missing or malformed {CONTROL_HEADER} header'
        at_text, nonce, signature = parts
        at_ms = int(at_text)
        if abs(self.clock() * 1000 - at_ms) > MAX_CLOCK_SKEW_MS:
            return f'{CONTROL_HEADER} is stale'
        expected = _signature(self.key, at_ms, nonce).encode('ascii')
        if not hmac.compare_digest(signature.encode('ascii', 'replace'), expected):
            return f'{CONTROL_HEADER} has a wrong signature'
        if signature in self._seen:
            return f'{CONTROL_HEADER} was used already'
        self._seen[signature] = None
        while len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)
        return None

    def refusal(self, request: Request) -> Response | None:
        """For ``process_request``: a 403 saying why, or ``None`` to let the handshake go on."""
        try:
            problem = self.problem(request.headers.get('Origin'), request.headers.get(CONTROL_HEADER))
        except MultipleValuesError:
            problem = 'more than one Origin or control header'
        if problem is None:
            return None
        return http_answers.refusal(http.HTTPStatus.FORBIDDEN, problem, allow_origin=None)


class ControlChannel:
    """Serves ``/control`` connections that passed the :class:`ControlGate`.

    Args:
        restart: Takes the echo server down for some seconds, outliving this connection.
        sessions: The server's sessions now.
    """

    def __init__(
        self, restart: Callable[[float], Awaitable[None]], sessions: Callable[[], Iterable[DemoSession]]
    ) -> None:
        self.restart = restart
        self.class_feed = ClassFeed(sessions)
        self.class_link = ClassLink(sessions)

    async def serve(self, connection: ServerConnection) -> None:
        async for message in connection:
            if not isinstance(message, str):
                await connection.close(CloseCode.UNSUPPORTED_DATA, 'commands are JSON text')
                return
            try:
                command = json.loads(message)
                if not isinstance(command, dict):
                    raise ValueError('a command is a JSON object')
                reply = await self.run(command)
            except (ValueError, TypeError) as error:
                reply = {'ok': False, 'error': str(error)}
            reply['id'] = command.get('id') if isinstance(command, dict) else None
            await connection.send(json.dumps(reply))

    async def run(self, command: dict[str, Any]) -> dict[str, Any]:
        match command.get('do'):
            case 'restart':
                seconds = float(command.get('seconds', 3))
                if not MIN_RESTART_S <= seconds <= MAX_RESTART_S:
                    raise ValueError(f'seconds must be {MIN_RESTART_S} to {MAX_RESTART_S}')
                await self.restart(seconds)
                return {'ok': True, 'down_for_s': seconds}
            case 'class_feed':
                return self._class_feed(command)
            case 'class_link':
                return self._class_link(command.get('profile'))
            case other:
                raise ValueError(f'unknown command {other!r}')

    def _class_feed(self, command: dict[str, Any]) -> dict[str, Any]:
        action = command.get('action')
        if action == 'stop':
            return {'ok': True, 'running': False, 'returned': self.class_feed.stop()}
        if action != 'start':
            raise ValueError('class_feed action is start or stop')
        ids = command.get('session_ids')
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
            raise ValueError('session_ids is a list of session ids, or null for every session')
        seed = command.get('seed')
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64):
            raise ValueError('seed is a whole number from 0 to 2**64 - 1, or null')
        followers = self.class_feed.start(float(command.get('rate_per_s', 1.0)), ids, seed)
        return {'ok': True, 'running': True, 'followers': followers}

    def _class_link(self, profile_id: Any) -> dict[str, Any]:
        if profile_id is None:
            return {'ok': True, 'profile': None, 'returned': self.class_link.end()}
        if not isinstance(profile_id, str):
            raise ValueError('class_link profile is a profile id, or null to end it')
        return {'ok': True, 'profile': profile_id, 'sessions': self.class_link.put(profile_id)}

    def stop(self) -> None:
        self.class_feed.stop()
