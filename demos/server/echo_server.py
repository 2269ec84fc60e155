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
import functools
import http
import socket
import ssl
from collections import defaultdict
from collections.abc import Awaitable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import MultipleValuesError
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from demos.protocol import http_answers
from demos.protocol.feed import epoch_ms
from demos.protocol.limits import AddressRateLimiter, MessageRateLimiter, PendingHandshakes
from demos.protocol.origins import (
    forwarded_client,
    forwarded_origin,
    is_loopback,
    origin_allowed,
    peer_is_trusted,
)
from demos.server import http_push
from demos.server.control import CONTROL_HEADER, ControlChannel, ControlGate
from demos.server.counting import ConnectionGuards, ConnectionTally, CountingConnection, Traffic
from demos.server.inspection import InspectionStream
from demos.server.refusals import Refusals, Refused
from demos.server.session_links import ShapedConnection
from demos.server.session_table import (
    AddressHoldsTooMany,
    SessionRateExceeded,
    SessionTable,
    TooManySessions,
    UnknownSession,
)
from demos.server.sessions import DEFAULT_SESSION_ID, DemoSession, Handshake
from demos.server.settings import EchoSettings
from demos.server.websocket_lanes import serve_echo, serve_push

__all__ = ['EchoServer', 'EchoSettings']

#: The WebSocket endpoints and the HTTP ones; anything else is a 404.
WEBSOCKET_PATHS = {'/echo': 'echo', '/push': 'push', '/inspect': 'inspect', '/control': 'control'}
HTTP_PATHS = {'/poll': 'poll', '/clock': 'clock', '/longpoll': 'longpoll', '/sse': 'sse'}


class EchoServer:
    """The embedded server of the demos; create it, then :meth:`start` it inside the running loop.

    Args:
        settings: Limits and options; see :class:`EchoSettings`.
    """

    def __init__(self, settings: EchoSettings | None = None) -> None:
        self.settings = settings = settings or EchoSettings()
        self._refusals = Refusals()
        self._tally = ConnectionTally(
            ConnectionGuards(
                pending=PendingHandshakes(settings.pending_per_address, settings.max_connections // 2),
                request_timeout_s=settings.request_timeout_s,
                socket_buffer_bytes=settings.socket_buffer_bytes,
                on_refused=self._refusals.before_request,
                on_over_rate=self._over_rate,
                on_dropped=self._refusals.dropped,
            )
        )
        self._new_sessions = AddressRateLimiter(settings.sessions_per_minute_per_address)
        self._sessions = SessionTable(settings, self._new_sessions)
        self._server: Server | None = None
        self._address: tuple[str, int] | None = None
        self._family = socket.AF_INET
        self._ssl_context: ssl.SSLContext | None = None
        self._janitor: asyncio.Task[None] | None = None
        self._flood_reporter: asyncio.Task[None] | None = None
        self._stopped = False
        self._restarting: asyncio.Task[None] | None = None
        # The app's control channel (teacher's shared moments): demos/server/control.py, its own check on the
        # shared key.
        self._control_gate = ControlGate(self.settings.session_key)
        self._control = ControlChannel(restart=self._restart_soon, sessions=self.sessions)
        self._sessions.on_new = self._control.class_link.join

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
        self._flood_reporter = loop.create_task(self._log_unsaid_refusals_every(self._refusals.flood_log.period_s))

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
        self._refusals.log_unsaid()
        for session in self._sessions.all():
            session.stop()
            session.end_http_streams()
        if self._server is not None:
            server, self._server = self._server, None
            server.close(code=CloseCode.GOING_AWAY, reason='server stopping')
            await server.wait_closed()
        await asyncio.gather(*(session.aclose() for session in self._sessions.all()))

    async def restart(self, downtime_s: float) -> None:
        """Go away and come back on the same port after ``downtime_s`` seconds.

        Every WebSocket is closed with 1001 and the port stops accepting; the sessions and their feeds
        live on (they are the app's state, not the network's), so a poller catches up from the history
        while a push client misses what was made while it was away.
        """
        if self._server is None or self._address is None:
            raise RuntimeError('the echo server is not running')
        server, self._server = self._server, None
        for session in self._sessions.all():
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
            # Counting, and shaped by the session's link profile once the request line names a linked session.
            create_connection=functools.partial(  # type: ignore[arg-type]
                ShapedConnection, tally=self._tally, find_session=self._sessions.find
            ),
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

    @property
    def rejections(self) -> defaultdict[str, int]:
        """Refusals so far, by reason (e.g. ``'403 Forbidden'``, ``'1008 message rate'``)."""
        return self._refusals.counts

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
        return self._sessions.get(session_id, client=client)

    def sessions(self) -> list[DemoSession]:
        return self._sessions.all()

    async def _sweep_idle_sessions(self, period_s: float) -> None:
        while True:
            await asyncio.sleep(period_s)
            self._sessions.sweep_idle()

    async def _log_unsaid_refusals_every(self, period_s: float) -> None:
        while True:
            await asyncio.sleep(period_s)
            self._refusals.log_unsaid()

    # The opening handshake: route, check, and answer HTTP requests.

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | Awaitable[Response] | None:
        assert isinstance(connection, CountingConnection)
        try:
            return self._route(connection, request)
        except Refused as refused:
            return self._refusals.answer(
                connection,
                request,
                refused.status,
                refused.reason,
                allow_origin=refused.allow_origin,
                flood=refused.flood,
            )

    def _route(self, connection: CountingConnection, request: Request) -> Response | Awaitable[Response] | None:
        """The answer to ``request`` (None: websockets goes on with the WebSocket handshake); raises :exc:`Refused`."""
        settings = self.settings
        headers = _lower_headers(request) if settings.trusted_proxies else {}
        if headers:  # from here on, log lines and per-address limits name the browser, not the proxy
            connection.forwarded_for = forwarded_client(headers, connection.peer_host, settings.trusted_proxies)
        if self._tally.open_connections > settings.max_connections:
            raise Refused(
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                f'the server is at its limit of {settings.max_connections} connections',
            )
        target = urlsplit(request.path)
        endpoint = WEBSOCKET_PATHS.get(target.path) or HTTP_PATHS.get(target.path)
        if endpoint is None:
            raise Refused(http.HTTPStatus.NOT_FOUND, 'no such endpoint; try /echo, /push, /poll or /clock')
        if endpoint == 'control':  # for the app only: no page origin, a signed header (demos/server/control.py)
            connection.endpoint, connection.frame_tap = endpoint, None
            self._check_control(connection, request)
            return None
        if not self._tally.hold(connection, connection.client_host, settings.connections_cap_per_address):
            raise Refused(
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                f'this address holds {self._tally.held_by(connection.client_host)} connections, its most',
                flood='connections per address',
            )
        # Only an allowed page gets CORS headers, so only it can read the answers.
        allow_origin = self._allowed_origin(connection, request, headers)
        connection.endpoint = endpoint
        if endpoint == 'clock':
            return http_answers.clock_answer(epoch_ms(), allow_origin=allow_origin)
        query = parse_qs(target.query, keep_blank_values=True)
        try:
            session = self._admit(connection, endpoint, query)
            answer = self._answer(connection, request, endpoint, session, query, allow_origin)
        except Refused as refused:
            refused.allow_origin = allow_origin
            raise
        if answer is None and not _asks_for_websocket(request):
            # A plain GET (a browser tab, curl) gets a reason, not websockets' 426 with an empty page.
            reason = f'{target.path} is a WebSocket endpoint; open it with a WebSocket client'
            raise Refused(http.HTTPStatus.BAD_REQUEST, reason)
        return answer

    def _check_control(self, connection: CountingConnection, request: Request) -> None:
        """Let the app's control connection through; raises :exc:`Refused` (logged) for anyone else.

        The peer is checked first: only this machine (or the trusted proxy in front of it) may even try a signature.
        """
        settings = self.settings
        peer = connection.peer_host
        if not (is_loopback(peer) or peer_is_trusted(peer, settings.trusted_proxies)):
            raise Refused(http.HTTPStatus.FORBIDDEN, 'the control channel is for this machine only', flood='control')
        try:
            problem = self._control_gate.problem(request.headers.get('Origin'), request.headers.get(CONTROL_HEADER))
        except MultipleValuesError:
            problem = 'more than one Origin or control header'
        if problem is not None:
            raise Refused(http.HTTPStatus.FORBIDDEN, problem, flood='control')

    def _allowed_origin(self, connection: CountingConnection, request: Request, headers: dict[str, str]) -> str | None:
        """The request's ``Origin`` if the page it names may use the server; raises :exc:`Refused` otherwise."""
        settings = self.settings
        try:
            origin = request.headers.get('Origin')
            host = request.headers.get('Host')
        except MultipleValuesError as error:
            raise Refused(http.HTTPStatus.BAD_REQUEST, f'more than one {error.args[0]} header') from None
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
            raise Refused(http.HTTPStatus.FORBIDDEN, f'pages from {origin or "nowhere"} may not use this server')
        return origin

    def _admit(self, connection: CountingConnection, endpoint: str, query: dict[str, list[str]]) -> DemoSession:
        """The demo session the request names, with the connection credited to its lane; raises :exc:`Refused`."""
        session_ids = query.get('session', [DEFAULT_SESSION_ID])
        try:
            session = self.session(session_ids[-1], client=connection.client_host)
            if endpoint == 'inspect':
                connection.frame_tap = None  # the page's own window on the session is on no lane
            else:
                session.admit(connection, endpoint, query)  # counts the connection on its lane; frames on echo
        except UnknownSession as error:
            raise Refused(http.HTTPStatus.NOT_FOUND, str(error)) from None
        except AddressHoldsTooMany as error:
            raise Refused(http.HTTPStatus.SERVICE_UNAVAILABLE, str(error), flood='sessions per address') from None
        except TooManySessions as error:
            raise Refused(http.HTTPStatus.SERVICE_UNAVAILABLE, str(error)) from None
        except SessionRateExceeded as error:
            raise Refused(http.HTTPStatus.TOO_MANY_REQUESTS, str(error), flood='new sessions') from None
        except ValueError as error:
            raise Refused(http.HTTPStatus.BAD_REQUEST, str(error)) from None
        connection.demo_session = session
        return session

    def _answer(
        self,
        connection: CountingConnection,
        request: Request,
        endpoint: str,
        session: DemoSession,
        query: dict[str, list[str]],
        allow_origin: str | None,
    ) -> Response | Awaitable[Response] | None:
        """The answer of an HTTP lane, or None for a WebSocket endpoint; raises :exc:`Refused`."""
        settings = self.settings
        if endpoint == 'poll':
            return self._answer_poll(request, session, query.get('after', []), allow_origin)
        if endpoint == 'longpoll':  # an awaitable answer: websockets awaits it (within open_timeout)
            return http_push.long_poll(
                connection,
                request,
                session,
                query,
                allow_origin=allow_origin,
                open_timeout_s=settings.open_timeout_s,
                batch_limit=settings.poll_batch_limit,
            )
        if endpoint == 'sse':
            return http_push.open_event_stream(
                connection,
                request,
                session,
                query,
                allow_origin=allow_origin,
                backlog_limit_bytes=settings.push_backlog_limit_bytes,
            )
        return None

    def _answer_poll(
        self, request: Request, session: DemoSession, after: list[str], allow_origin: str | None
    ) -> Response:
        lane = session.lanes['poll']
        lane.messages_in += 1
        lane.messages_out += 1
        if request.method != 'GET':
            raise Refused(http.HTTPStatus.METHOD_NOT_ALLOWED, 'poll with GET')
        try:
            cursor = http_answers.parse_cursor(after)
        except ValueError as error:
            raise Refused(http.HTTPStatus.BAD_REQUEST, str(error)) from None
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
            self._refusals.by_websockets(connection, request, response)

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
                await serve_echo(connection, session, limiter, self._refusals)
            elif connection.endpoint == 'inspect':
                restart = self._restart_soon if self.settings.learners_may_restart else None
                await InspectionStream(connection, session, limiter, restart=restart).serve()
            else:
                await serve_push(connection, session, limiter, self._refusals)
        except ConnectionClosed as closed:
            self._refusals.closed(connection, closed)

    def _over_rate(self, connection: CountingConnection) -> str:
        """A connection sent more pings and pongs (with its messages) than its rate: log it; the close reason."""
        reason = f'too many messages (pings count): at most {self.settings.messages_per_s:g} per second'
        self._refusals.closing(connection, 'message rate', reason)
        return reason


def _asks_for_websocket(request: Request) -> bool:
    return 'websocket' in ','.join(request.headers.get_all('Upgrade')).lower()


def _lower_headers(request: Request) -> dict[str, str]:
    """The request's headers by lower-case name, repeated ones joined with commas (as HTTP allows)."""
    headers: dict[str, str] = {}
    for name, value in request.headers.raw_items():
        key = name.lower()
        headers[key] = f'{headers[key]}, {value}' if key in headers else value
    return headers
