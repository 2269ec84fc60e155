"""The embedded echo server: WebSocket echo and push feed, HTTP polling, limits and byte counters.

It speaks the protocol of ``docs/echo-protocol.md``. Built on ``websockets``' asyncio server, it adds:

* demo sessions (:mod:`demos.server.sessions`), each with its own feed (:mod:`demos.protocol.feed`) and counters;
* plain HTTP answers for ``GET /poll`` and ``GET /clock`` through ``process_request``, which means every
  poll is a new TCP connection (``websockets`` closes the connection after any non-101 answer);
* byte counting at the socket (:mod:`demos.server.counting`);
* the limits of :class:`EchoSettings`, each refusal logged once at WARNING with the client's address;
* the ``Origin`` check of :mod:`demos.protocol.origins`;
* optionally TLS (``wss://`` and ``https://``), with an :class:`ssl.SSLContext` the app builds from its certificate.

The app binds the listening socket itself and hands it to :meth:`EchoServer.start`, so a busy port is
reported before anything starts and ``--echo-port 0`` is known before the first page is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http
import json
import logging
import math
import socket
import ssl
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import MultipleValuesError
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from demos.protocol import http_answers
from demos.protocol.feed import DEFAULT_HISTORY_LIMIT, PriceFeed, epoch_ms
from demos.protocol.limits import AddressRateLimiter, MessageRateLimiter, OncePerMinute, PendingHandshakes
from demos.protocol.origins import forwarded_client, forwarded_origin, origin_allowed
from demos.protocol.session_ids import is_genuine
from demos.server import http_push
from demos.server.control import ControlChannel, ControlGate
from demos.server.counting import ConnectionGuards, ConnectionTally, CountingConnection, Traffic
from demos.server.inspection import InspectionStream
from demos.server.sessions import DEFAULT_SESSION_ID, DemoSession, Handshake, check_session_id

log = logging.getLogger(__name__)

#: The WebSocket endpoints and the HTTP ones; anything else is a 404.
WEBSOCKET_PATHS = {'/echo': 'echo', '/push': 'push', '/inspect': 'inspect', '/control': 'control'}
HTTP_PATHS = {'/poll': 'poll', '/clock': 'clock', '/longpoll': 'longpoll', '/sse': 'sse'}


@dataclass(frozen=True)
class EchoSettings:
    """Every limit of the echo server, with a default that is safe on a classroom network."""

    #: Largest message a client may send, in bytes. Bigger ones close the connection with 1009 (message
    #: too big) before they are buffered: without a cap, one client could make the server hold any amount.
    max_message_bytes: int = 64 * 1024
    #: Concurrent TCP connections (WebSocket and HTTP). Beyond it the handshake is answered 503, so a
    #: flood of connections costs a short answer each instead of memory and a file descriptor for good.
    max_connections: int = 2000
    #: Sustained messages per second one WebSocket connection may send, and the burst allowed after a quiet
    #: spell. Beyond them the connection is closed with 1008 (policy violation) and a reason: a tab sending
    #: in a loop would otherwise keep a core busy for one learner.
    messages_per_s: float = 50.0
    message_burst: int = 100
    #: Most updates one poll answer carries; a poller far behind catches up over several polls.
    poll_batch_limit: int = 100
    #: Updates each session's feed keeps for polls.
    history_limit: int = DEFAULT_HISTORY_LIMIT
    #: High-water mark of each connection's write buffer, in bytes: ``send()`` (echo, clock answers) waits
    #: for the client to read when more than this is unsent, so a client that does not read slows only itself.
    write_limit_bytes: int = 32 * 1024
    #: A push subscriber with more than this unsent in its write buffer is closed with 1008 and counted
    #: (``dropped_slow``). The feed is written without waiting for anyone, so one stalled subscriber never
    #: delays the others; this bounds what a stalled one can make the server hold.
    push_backlog_limit_bytes: int = 256 * 1024
    #: Keepalive: a ping every ``ping_interval_s``; no pong within ``ping_timeout_s`` closes the connection
    #: (1011), so a vanished laptop does not hold a connection and a subscriber slot forever. None disables.
    ping_interval_s: float | None = 20.0
    ping_timeout_s: float | None = 20.0
    #: Seconds a client gets to finish the opening handshake, and to answer the closing one.
    #: The closing one is short so that stopping the app closes everything within a few seconds.
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    #: Offer permessage-deflate. Off by default: the demo then shows the protocol's own frame sizes
    #: (2 to 14 bytes of framing per message) and each connection holds no compressor state.
    permessage_deflate: bool = False
    #: Page origins (``scheme://host:port``) allowed to connect and to read polls (CORS): the app's own
    #: pages, filled in by the app, plus ``--allowed-origin``. Other origins get 403 (cross-site WebSocket
    #: hijacking: any page a learner visits could otherwise use the server through their browser).
    allowed_origins: tuple[str, ...] = ()
    #: How the app serves its pages (``http`` or ``https``) and on which port. A page with this scheme and
    #: port, at the host the client used to reach the echo server, is the app's own and is allowed too: a
    #: class on ``--host 0.0.0.0`` reaches the app at an address it cannot list (see :mod:`demos.protocol.origins`).
    #: None (either) turns that rule off, leaving ``allowed_origins`` alone.
    app_scheme: str | None = None
    app_port: int | None = None
    #: Whether a request without an ``Origin`` header is served. Browsers always send one, so this only
    #: concerns programs (websocat, the benchmark) — which could send any Origin anyway.
    allow_missing_origin: bool = True
    #: Proxy addresses or networks whose forwarding headers are believed (``--trusted-proxy``). From such a peer, the
    #: origin rule checks the page against the public origin the proxy forwarded, and per-address limits count the
    #: browser's forwarded address, not the proxy's. Empty: no header is believed (anyone can send them).
    trusted_proxies: tuple[str, ...] = ()
    #: Demo sessions kept at once (one per demo page load). Beyond it the least recently used session with no
    #: open connection is forgotten; when every session has one, a new session is refused (503).
    max_sessions: int = 500
    #: The key the app signs demo session ids with (:mod:`demos.protocol.session_ids`). With a key, only ids the app
    #: issued (and ``default``) create a session, and any other id is answered 404, creating nothing: a foreign
    #: page cannot push learners' sessions out by inventing ids. None (tests, the benchmark) takes any id.
    session_key: bytes | None = None
    #: Whether a page may take the whole server down for a few seconds (``restart`` on ``/inspect``). The app
    #: turns it off when it serves a class: one learner's click would cut everyone's demos.
    learners_may_restart: bool = True
    #: A session nobody used for this long, with no subscriber, is forgotten and its feed stopped.
    session_idle_timeout_s: float = 3600.0
    #: The update rate of a new session's feed, per second.
    default_rate_per_s: float = 10.0
    #: Pending connections the kernel queues before accept(); a class connecting at once needs room.
    listen_backlog: int = 1024
    #: New demo sessions one client address may create per minute (a bucket of this size, refilled over a minute).
    #: A demo page load creates one, so a learner never meets it; a script that loads the page for issued ids and
    #: spends them could otherwise churn every idle learner's session out. Beyond it: 429, logged once a minute per
    #: address with a count. 0 means no limit (benchmarks of a whole class from one machine).
    sessions_per_minute_per_address: int = 60
    #: Connections one client address may hold that have not sent their request yet, once the server holds half of
    #: ``max_connections``. The connection cap is checked once a request arrived, so idle sockets (a slowloris) from
    #: one address could otherwise fill every slot and lock the class out; beyond it a new one is closed at once.
    #: Below half the cap it does not apply: a class behind one address connects in bursts and harms nobody.
    pending_per_address: int = 16
    #: Seconds from the accept for the whole request head; a slower client gets 408 and is closed. Browsers send
    #: the head in one go; ``open_timeout_s`` (which also covers a long poll's hold) would let an idle socket
    #: hold its slot for 10 s.
    request_timeout_s: float = 3.0
    #: Incoming messages each connection keeps unread before it stops reading the socket (websockets' ``max_queue``,
    #: 16 by default: 1 MiB of 64 KiB messages per client that sends without reading its echoes). The echo handler
    #: takes one message at a time anyway, so one waiting is all a well-behaved client needs.
    max_queue_messages: int = 1
    #: The kernel's receive and send buffers of each accepted socket (SO_RCVBUF/SO_SNDBUF; Linux doubles the value
    #: for its bookkeeping). Autotuned, a client that stops reading makes the kernel hold megabytes for it (2.3 MB
    #: measured). With ``max_queue_messages``, reading paused while the write side is over ``write_limit_bytes`` and
    #: large echoes written without a copy, a client that sends 64 KiB messages without reading makes the server hold
    #: about 116 KiB in the process (its connection, one message and part of the next) and 64 KiB in the kernel
    #: (measured with 500 such clients: tests/server/memory_probe.py). 0 leaves the kernel's autotuning.
    socket_buffer_bytes: int = 16 * 1024


class UnknownSession(ValueError):
    """A session id the app did not issue (answered 404)."""


class TooManySessions(ValueError):
    """Every session slot holds a session with open connections (answered 503)."""


class SessionRateExceeded(ValueError):
    """A client address created its allowance of sessions this minute (answered 429)."""


class EchoServer:
    """The embedded server of the demos; create it, then :meth:`start` it inside the running loop.

    Args:
        settings: Limits and options; see :class:`EchoSettings`.
    """

    def __init__(self, settings: EchoSettings | None = None) -> None:
        self.settings = settings or EchoSettings()
        self._sessions: OrderedDict[str, DemoSession] = OrderedDict()
        settings = self.settings
        self._tally = ConnectionTally(
            ConnectionGuards(
                pending=PendingHandshakes(settings.pending_per_address, settings.max_connections // 2),
                request_timeout_s=settings.request_timeout_s,
                socket_buffer_bytes=settings.socket_buffer_bytes,
                on_refused=self._refused_early,
                on_over_rate=self._over_rate,
            )
        )
        self._new_sessions = AddressRateLimiter(settings.sessions_per_minute_per_address)
        #: Refusals that come in floods (idle sockets, session creation) get one log line per address a minute.
        self._flood_log = OncePerMinute()
        self._server: Server | None = None
        self._address: tuple[str, int] | None = None
        self._family = socket.AF_INET
        self._ssl_context: ssl.SSLContext | None = None
        self._janitor: asyncio.Task[None] | None = None
        self._flood_reporter: asyncio.Task[None] | None = None
        self._stopped = False
        self._restarting: asyncio.Task[None] | None = None
        #: Refusals so far, by reason (e.g. ``'403 origin'``, ``'1009 too big'``), for a teacher's overview.
        self.rejections: defaultdict[str, int] = defaultdict(int)
        # The app's control channel (teacher's shared moments): demos/server/control.py, its own check on the
        # shared key.
        self._control_gate = ControlGate(self.settings.session_key)
        self._control = ControlChannel(restart=self._restart_soon, sessions=self.sessions)

    # Life cycle.

    async def start(self, sock: socket.socket, ssl_context: ssl.SSLContext | None = None) -> None:
        """Serve on ``sock``, a bound TCP socket (listening or not), until :meth:`stop`.

        With ``ssl_context`` (a server-side context holding the certificate), every connection speaks TLS:
        ``wss://`` for the WebSocket endpoints and ``https://`` for the HTTP ones. A :meth:`restart` keeps it.
        """
        if self._server is not None:
            raise RuntimeError('the echo server is already running')
        self._stopped = False
        self._family = sock.family
        self._ssl_context = ssl_context
        host, port = sock.getsockname()[:2]
        self._address = (host, port)
        self._server = await self._serve(sock)
        period = min(60.0, self.settings.session_idle_timeout_s / 2)
        loop = asyncio.get_running_loop()
        self._janitor = loop.create_task(self._sweep_idle_sessions(period))
        self._flood_reporter = loop.create_task(self._log_unsaid_refusals_every(self._flood_log.period_s))

    async def start_on(self, host: str = '127.0.0.1', port: int = 0, ssl_context: ssl.SSLContext | None = None) -> int:
        """Bind ``host:port`` (0 = a free port) and :meth:`start`; returns the port. For tests and the bench."""
        family = socket.AF_INET6 if ':' in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=self.settings.listen_backlog)
        await self.start(sock, ssl_context)
        return self.port

    async def stop(self) -> None:
        """Close every WebSocket with 1001 (going away), stop listening and stop every feed."""
        self._stopped = True
        self._control.stop()
        for task in (self._janitor, self._flood_reporter):
            if task is not None:
                task.cancel()
        self._janitor = self._flood_reporter = None
        self._log_unsaid_refusals()
        for session in self._sessions.values():
            session.stop()
            session.end_http_streams()
        if self._server is not None:
            server, self._server = self._server, None
            server.close(code=CloseCode.GOING_AWAY, reason='server stopping')
            await server.wait_closed()
        await asyncio.gather(*(session.aclose() for session in self._sessions.values()))

    async def restart(self, downtime_s: float) -> None:
        """Go away and come back on the same port after ``downtime_s`` seconds.

        Every WebSocket is closed with 1001 and the port stops accepting; the sessions and their feeds
        live on (they are the app's state, not the network's), so a poller catches up from the history
        while a push client misses what was made while it was away.
        """
        if self._server is None or self._address is None:
            raise RuntimeError('the echo server is not running')
        server, self._server = self._server, None
        for session in self._sessions.values():
            session.end_http_streams()  # held long polls answer now, event streams end
        server.close(code=CloseCode.GOING_AWAY, reason='server restarting')
        await server.wait_closed()
        await asyncio.sleep(downtime_s)
        if self._stopped:
            return
        # create_server sets SO_REUSEADDR: connections of the old listener in TIME_WAIT do not hold the port.
        sock = socket.create_server(self._address, family=self._family, backlog=self.settings.listen_backlog)
        self._server = await self._serve(sock)

    async def _restart_soon(self, downtime_s: float) -> None:
        """Start a :meth:`restart` that outlives the connection that asked for it (the restart closes it)."""
        if self._restarting is not None and not self._restarting.done():
            raise ValueError('the echo server is already restarting')
        self._restarting = asyncio.get_running_loop().create_task(self.restart(downtime_s))

    async def _serve(self, sock: socket.socket) -> Server:
        settings = self.settings
        # The TLS handshake comes before websockets sees the connection (and before open_timeout or the
        # connection cap apply), so it gets the same bound as the opening handshake instead of asyncio's 60 s.
        tls: dict[str, Any] = (
            {'ssl': self._ssl_context, 'ssl_handshake_timeout': settings.open_timeout_s} if self._ssl_context else {}
        )
        return await serve(
            self._handle,
            sock=sock,
            backlog=settings.listen_backlog,
            process_request=self._process_request,
            process_response=self._process_response,
            compression='deflate' if settings.permessage_deflate else None,
            open_timeout=settings.open_timeout_s,
            ping_interval=settings.ping_interval_s,
            ping_timeout=settings.ping_timeout_s,
            close_timeout=settings.close_timeout_s,
            max_size=settings.max_message_bytes,
            max_queue=settings.max_queue_messages,
            write_limit=settings.write_limit_bytes,
            create_connection=functools.partial(CountingConnection, tally=self._tally),  # type: ignore[arg-type]
            **tls,
        )

    # What the app and the page read.

    @property
    def port(self) -> int:
        """The port served on (also while down for a :meth:`restart`)."""
        if self._address is None:
            raise RuntimeError('the echo server was never started')
        return self._address[1]

    @property
    def host(self) -> str:
        if self._address is None:
            raise RuntimeError('the echo server was never started')
        return self._address[0]

    @property
    def is_serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    @property
    def uses_tls(self) -> bool:
        """Whether the server speaks ``wss://`` (and ``https://``) rather than ``ws://``."""
        return self._ssl_context is not None

    @property
    def permessage_deflate(self) -> bool:
        """Whether compression is offered (a client must also ask for it for it to be used)."""
        return self.settings.permessage_deflate

    @property
    def open_connections(self) -> int:
        return self._tally.open_connections

    @property
    def traffic(self) -> Traffic:
        """Bytes received and sent on all sockets since the server was created.

        Counted where ``websockets`` reads and writes: over TLS these are the bytes inside the TLS records
        (HTTP and WebSocket framing included, the TLS handshake and record overhead not).
        """
        return self._tally.traffic

    def session(self, session_id: str = DEFAULT_SESSION_ID, *, client: str | None = None) -> DemoSession:
        """The demo session ``session_id``, created on first use.

        ``client`` is the address a request came from: each one may create
        :attr:`~EchoSettings.sessions_per_minute_per_address` sessions a minute. The page's own calls pass none.

        Raises:
            ValueError: if ``session_id`` is not 1 to 64 letters, digits, ``.``, ``-`` or ``_``.
            UnknownSession: if the server has a :attr:`~EchoSettings.session_key` and ``session_id`` was not
                issued with it.
            TooManySessions: if :attr:`~EchoSettings.max_sessions` sessions all have open connections.
            SessionRateExceeded: if ``client`` created its allowance of sessions this minute.
        """
        existing = self._sessions.get(session_id)
        if existing is not None:
            self._sessions.move_to_end(session_id)
            existing.touch()
            return existing
        settings = self.settings
        check_session_id(session_id)
        key = settings.session_key
        if key is not None and session_id != DEFAULT_SESSION_ID and not is_genuine(key, session_id):
            raise UnknownSession('no such demo session: load the demo page to get one')
        if client is not None and not self._new_sessions.allow(client):
            raise SessionRateExceeded(
                f'at most {settings.sessions_per_minute_per_address} new demo sessions a minute from one address'
            )
        if len(self._sessions) >= settings.max_sessions and not self._make_room():
            raise TooManySessions(f'all {settings.max_sessions} demo sessions are in use')
        feed = PriceFeed(history_limit=settings.history_limit, rate_per_s=settings.default_rate_per_s)
        session = DemoSession(
            session_id,
            feed,
            push_backlog_limit_bytes=settings.push_backlog_limit_bytes,
            permessage_deflate=settings.permessage_deflate,
        )
        self._sessions[session_id] = session
        return session

    def _make_room(self) -> bool:
        """Forget the least recently used session with no open connection; False when every session has one."""
        for session in self._sessions.values():
            if not session.in_use:
                del self._sessions[session.id]
                self._forget(session, 'too many demo sessions')
                return True
        return False

    def sessions(self) -> list[DemoSession]:
        return list(self._sessions.values())

    def _forget(self, session: DemoSession, why: str) -> None:
        log.info('echo server: forgetting demo session %s (%s)', session.id, why)
        session.stop()
        session.close_subscribers(CloseCode.GOING_AWAY, 'demo session ended')

    async def _sweep_idle_sessions(self, period_s: float) -> None:
        while True:
            await asyncio.sleep(period_s)
            idle = [
                s
                for s in self._sessions.values()
                if not s.in_use and s.idle_for_s > self.settings.session_idle_timeout_s
            ]
            for session in idle:
                del self._sessions[session.id]
                self._forget(session, 'idle')

    async def _log_unsaid_refusals_every(self, period_s: float) -> None:
        while True:
            await asyncio.sleep(period_s)
            self._log_unsaid_refusals()

    def _log_unsaid_refusals(self) -> None:
        """One line per address and kind for the refusals of a flood that its first line did not mention."""
        for address, kind, count in self._flood_log.unsaid():
            log.warning('echo server: refused %d more from %s in the last minute (%s)', count, address, kind)

    # The opening handshake: route, check, and answer HTTP requests.

    def _refuse(
        self,
        connection: CountingConnection,
        request: Request,
        status: http.HTTPStatus,
        reason: str,
        *,
        allow_origin: str | None = None,
        flood: str | None = None,
    ) -> Response:
        """Count, log and answer a refusal. With ``flood`` (a kind of refusal a script repeats), the log line is
        written once a minute per address and kind, with the count of the others (:class:`OncePerMinute`)."""
        self.rejections[f'{status.value} {status.phrase}'] += 1
        count = 1 if flood is None else self._flood_log.note(connection.peer_host, flood)
        if count is not None:
            log.warning(
                'echo server: refused %s %s %r: %s (%d %s)%s',
                connection.peer,
                request.method,
                request.path[:200],
                reason,
                status.value,
                status.phrase,
                _more(count, flood),
            )
        return http_answers.refusal(status, reason, allow_origin=allow_origin)

    def _refused_early(self, connection: CountingConnection, status: int, kind: str, reason: str) -> None:
        """A connection turned away before ``process_request`` (see :class:`demos.server.counting.ConnectionGuards`)."""
        phrase = http.HTTPStatus(status).phrase if status else 'closed'
        self.rejections[f'{status} {phrase}' if status else f'closed: {kind}'] += 1
        # Idle sockets and slow requests come in floods: one line a minute per address. A bad request is one line each.
        count = 1 if kind == 'bad request' else self._flood_log.note(connection.peer_host, kind)
        if count is None:
            return
        answer = f' ({status} {phrase})' if status else ' (closed without an answer)'
        log.warning('echo server: refused %s: %s%s%s', connection.peer, reason, answer, _more(count, kind))

    def _over_rate(self, connection: CountingConnection) -> str:
        """A connection sent more pings and pongs (with its messages) than its rate: log it; the close reason."""
        reason = f'too many messages (pings count): at most {self.settings.messages_per_s:g} per second'
        self.rejections['1008 message rate'] += 1
        log.warning('echo server: closed %s on /%s: %s (1008)', connection.peer, connection.endpoint, reason)
        return reason

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        assert isinstance(connection, CountingConnection)
        settings = self.settings
        if self._tally.open_connections > settings.max_connections:
            return self._refuse(
                connection,
                request,
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                f'the server is at its limit of {settings.max_connections} connections',
            )
        target = urlsplit(request.path)
        endpoint = WEBSOCKET_PATHS.get(target.path) or HTTP_PATHS.get(target.path)
        if endpoint is None:
            return self._refuse(
                connection, request, http.HTTPStatus.NOT_FOUND, 'no such endpoint; try /echo, /push, /poll or /clock'
            )
        if endpoint == 'control':  # for the app only: no page origin, a signed header (demos/server/control.py)
            connection.endpoint, connection.frame_tap = endpoint, None
            return self._control_gate.refusal(request)
        try:
            origin = request.headers.get('Origin')
            host = request.headers.get('Host')
        except MultipleValuesError as error:
            return self._refuse(
                connection, request, http.HTTPStatus.BAD_REQUEST, f'more than one {error.args[0]} header'
            )
        headers = _lower_headers(request) if settings.trusted_proxies else {}
        forwarded = forwarded_origin(headers, connection.peer_host, settings.trusted_proxies) if headers else None
        if not origin_allowed(
            origin,
            settings.allowed_origins,
            settings.allow_missing_origin,
            app_scheme=settings.app_scheme,
            app_port=settings.app_port,
            request_host=host,
            forwarded=forwarded,
        ):
            return self._refuse(
                connection,
                request,
                http.HTTPStatus.FORBIDDEN,
                f'pages from {origin or "nowhere"} may not use this server',
            )
        # Only an allowed page gets CORS headers, so only it can read the answers.
        allow_origin = origin
        query = parse_qs(target.query, keep_blank_values=True)
        connection.endpoint = endpoint

        if endpoint == 'clock':
            return http_answers.clock_answer(epoch_ms(), allow_origin=allow_origin)

        session_ids = query.get('session', [DEFAULT_SESSION_ID])
        try:
            client = forwarded_client(headers, connection.peer_host, settings.trusted_proxies) if headers else None
            session = self.session(session_ids[-1], client=client or connection.peer_host)
            if endpoint == 'inspect':
                connection.frame_tap = None  # the page's own window on the session is on no lane
            else:
                session.admit(connection, endpoint, query)  # counts the connection on its lane; frames on echo
        except UnknownSession as error:
            return self._refuse(connection, request, http.HTTPStatus.NOT_FOUND, str(error), allow_origin=allow_origin)
        except TooManySessions as error:
            return self._refuse(
                connection, request, http.HTTPStatus.SERVICE_UNAVAILABLE, str(error), allow_origin=allow_origin
            )
        except SessionRateExceeded as error:
            return self._refuse(
                connection,
                request,
                http.HTTPStatus.TOO_MANY_REQUESTS,
                str(error),
                allow_origin=allow_origin,
                flood='new sessions',
            )
        except ValueError as error:
            return self._refuse(connection, request, http.HTTPStatus.BAD_REQUEST, str(error), allow_origin=allow_origin)
        connection.demo_session = session

        if endpoint == 'poll':
            return self._answer_poll(connection, request, session, query.get('after', []), allow_origin)
        try:
            if endpoint == 'longpoll':  # an awaitable answer: websockets awaits it (within open_timeout)
                held = http_push.long_poll(
                    connection,
                    request,
                    session,
                    query,
                    allow_origin=allow_origin,
                    open_timeout_s=settings.open_timeout_s,
                    batch_limit=settings.poll_batch_limit,
                )
                return held  # type: ignore[return-value]
            if endpoint == 'sse':
                return http_push.open_event_stream(
                    connection,
                    request,
                    session,
                    query,
                    allow_origin=allow_origin,
                    backlog_limit_bytes=settings.push_backlog_limit_bytes,
                )
        except http_push.Refused as refused:
            return self._refuse(connection, request, refused.status, refused.reason, allow_origin=allow_origin)

        # A plain GET (a browser tab, curl) gets a reason, not websockets' 426 with an empty page.
        upgrade = ','.join(request.headers.get_all('Upgrade')).lower()
        if 'websocket' not in upgrade:
            return self._refuse(
                connection,
                request,
                http.HTTPStatus.BAD_REQUEST,
                f'{target.path} is a WebSocket endpoint; open it with a WebSocket client',
            )
        return None

    def _answer_poll(
        self,
        connection: CountingConnection,
        request: Request,
        session: DemoSession,
        after: list[str],
        allow_origin: str | None,
    ) -> Response:
        lane = session.lanes['poll']
        lane.messages_in += 1
        lane.messages_out += 1
        if request.method != 'GET':
            return self._refuse(
                connection, request, http.HTTPStatus.METHOD_NOT_ALLOWED, 'poll with GET', allow_origin=allow_origin
            )
        try:
            cursor = http_answers.parse_cursor(after)
        except ValueError as error:
            return self._refuse(connection, request, http.HTTPStatus.BAD_REQUEST, str(error), allow_origin=allow_origin)
        updates = session.feed.updates_after(cursor, self.settings.poll_batch_limit)
        lane.updates_out += len(updates)
        if not updates:
            lane.empty_polls += 1
        return http_answers.poll_answer(updates, epoch_ms(), allow_origin=allow_origin)

    def _process_response(self, connection: ServerConnection, request: Request, response: Response) -> None:
        assert isinstance(connection, CountingConnection)
        if response.status_code == http.HTTPStatus.SWITCHING_PROTOCOLS:
            if connection.endpoint == 'echo' and connection.demo_session is not None:
                connection.demo_session.last_handshake = Handshake.from_exchange(request, response, epoch_ms())
        elif connection.answered_by_websockets:
            # websockets itself turned the handshake down (bad key, version, method): say so once.
            reason = response.body.decode(errors='replace').strip().splitlines()[0] if response.body else ''
            self.rejections[f'{response.status_code} {response.reason_phrase}'] += 1
            log.warning(
                'echo server: refused %s %r: %s (%d %s)',
                connection.peer,
                request.path[:200],
                reason,
                response.status_code,
                response.reason_phrase,
            )

    # The WebSocket endpoints.

    async def _handle(self, connection: ServerConnection) -> None:
        assert isinstance(connection, CountingConnection)
        session: DemoSession = connection.demo_session
        limiter = MessageRateLimiter(self.settings.messages_per_s, self.settings.message_burst)
        connection.rate_limiter = limiter  # pings and pongs take from the same bucket as messages
        try:
            if connection.endpoint == 'control':
                await self._control.serve(connection)
            elif connection.endpoint == 'echo':
                await self._serve_echo(connection, session, limiter)
            elif connection.endpoint == 'inspect':
                restart = self._restart_soon if self.settings.learners_may_restart else None
                await InspectionStream(connection, session, limiter, restart=restart).serve()
            else:
                await self._serve_push(connection, session, limiter)
        except ConnectionClosed as closed:
            self._note_closed(connection, closed)

    async def _serve_echo(
        self, connection: CountingConnection, session: DemoSession, limiter: MessageRateLimiter
    ) -> None:
        lane = session.lanes['echo']
        async for message in connection:
            lane.messages_in += 1
            if not limiter.allow():
                await self._close_over_rate(connection)
                return
            await connection.send(message)
            lane.messages_out += 1
        session.touch()

    async def _serve_push(
        self, connection: CountingConnection, session: DemoSession, limiter: MessageRateLimiter
    ) -> None:
        lane = session.lanes['push']
        session.subscribe(connection)
        try:
            async for message in connection:
                lane.messages_in += 1
                if not limiter.allow():
                    await self._close_over_rate(connection)
                    return
                client_sent = _clock_question(message)
                if client_sent is None:
                    reason = 'expected {"type":"clock","client_sent":MS}'
                    self.rejections['1008 bad message'] += 1
                    log.warning('echo server: closed %s on /push: %s (1008)', connection.peer, reason)
                    await connection.close(CloseCode.POLICY_VIOLATION, reason)
                    return
                answer = {'type': 'clock', 'client_sent': client_sent, 'server_time': epoch_ms()}
                await connection.send(json.dumps(answer, separators=(',', ':')))
                lane.messages_out += 1
        finally:
            session.unsubscribe(connection)

    async def _close_over_rate(self, connection: CountingConnection) -> None:
        settings = self.settings
        reason = f'too many messages: at most {settings.messages_per_s:g} per second'
        self.rejections['1008 message rate'] += 1
        log.warning('echo server: closed %s on /%s: %s (1008)', connection.peer, connection.endpoint, reason)
        await connection.close(CloseCode.POLICY_VIOLATION, reason)

    def _note_closed(self, connection: CountingConnection, closed: ConnectionClosed) -> None:
        sent = closed.sent
        if sent is None or sent.code in (CloseCode.NORMAL_CLOSURE, CloseCode.GOING_AWAY, CloseCode.POLICY_VIOLATION):
            return  # an ordinary goodbye, or one already logged when it was decided
        self.rejections[f'{sent.code} {sent.reason or "closed"}'] += 1
        log.warning(
            'echo server: closed %s on /%s: %s (%d)',
            connection.peer,
            connection.endpoint,
            sent.reason or 'protocol error',
            sent.code,
        )


def _more(count: int, kind: str | None) -> str:
    """What a flood's log line adds: how many refusals of its kind it stands for."""
    if count <= 1:
        return ''
    return f'; {count} refusals ({kind}) from this address since the last such line'


def _clock_question(message: str | bytes) -> float | None:
    """``client_sent`` of a ``{"type": "clock", "client_sent": T0}`` message, else :obj:`None`."""
    if not isinstance(message, str):
        return None
    # RecursionError: a 64 KiB message of nested brackets is valid JSON too deep for the parser.
    with contextlib.suppress(ValueError, RecursionError):
        question: Any = json.loads(message)
        if isinstance(question, dict) and question.get('type') == 'clock':
            client_sent = question.get('client_sent')
            if (
                isinstance(client_sent, int | float)
                and not isinstance(client_sent, bool)
                and math.isfinite(client_sent)
            ):
                return float(client_sent)
    return None


def _lower_headers(request: Request) -> dict[str, str]:
    """The request's headers by lower-case name, repeated ones joined with commas (as HTTP allows)."""
    headers: dict[str, str] = {}
    for name, value in request.headers.raw_items():
        key = name.lower()
        headers[key] = f'{headers[key]}, {value}' if key in headers else value
    return headers
