"""Count the bytes that really cross each socket, HTTP headers and WebSocket framing included.

``websockets`` reads through ``data_received`` and writes through its transport's ``write``; counting at
exactly those two points sees every byte of the HTTP request and response, of every frame (control
frames too) and of the closing handshake, and nothing the library merely intended to send. Over TLS the
count is of the bytes inside the TLS records (the encryption overhead is not included).

The same two points feed the echo lane's frame log (:class:`demos.server.frame_log.FrameTap`), hold a socket's
reading for the back-pressure demo (:meth:`CountingTransport.hold_reading`), and let a Server-Sent Events
stream take a socket over from ``websockets`` once its request is answered (:meth:`CountingConnection.hand_over`).

Where ``websockets`` offers no public hook for these, :mod:`demos.server.websockets_internals` provides one; this
module uses only those hooks.

The connection is also where the guards sit that ``websockets`` offers no hook for (:class:`ConnectionGuards`):

* a per-address limit on connections whose request has not arrived yet, and a short deadline for the request:
  the connection cap is checked in ``process_request``, which idle sockets never reach;
* the bounds on what one connection holds: the kernel's socket buffers, set on the accepted socket;
* the message rate for pings and pongs, which the library answers inside its protocol layer, before any
  handler sees them;
* an answer (``400``, ``505``) and a log line for a request ``websockets`` cannot parse: it would only close the
  connection (and it answers ``414``/``431`` itself, without a log line).
"""

from __future__ import annotations

import asyncio
import dataclasses
import http
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from demos.protocol.http_answers import refusal
from demos.protocol.lanes import COUNTED_LANE_IDS
from demos.protocol.limits import MessageRateLimiter, PendingHandshakes
from demos.server.frame_log import FrameTap
from demos.server.websockets_internals import AdaptedConnection, head_error_answer

#: The lanes of a demo session (:mod:`demos.protocol.lanes`): the four compared ones and the echo console's.
LANES = COUNTED_LANE_IDS


@dataclass(slots=True)
class LaneCounters:
    """What one lane of a demo session did, as the server's sockets saw it.

    ``messages_in``/``messages_out`` are HTTP requests and responses on the ``poll`` and ``longpoll`` lanes,
    WebSocket data frames on the ``push`` and ``echo`` lanes, and on the ``sse`` lane the requests that opened
    a stream and the events sent.
    """

    tcp_connections: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    messages_in: int = 0
    messages_out: int = 0
    #: Feed updates delivered (one per update per subscriber on ``push`` and ``sse``, per update in an answer on
    #: ``poll`` and ``longpoll``).
    updates_out: int = 0
    #: Poll answers that carried no update: requests the client need not have made (on ``longpoll``: holds
    #: that timed out).
    empty_polls: int = 0
    #: Push and SSE subscribers closed because they fell too far behind.
    dropped_slow: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def clear(self) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, 0)


@dataclass(slots=True)
class Traffic:
    """Bytes one socket (or all of them) received and sent."""

    bytes_in: int = 0
    bytes_out: int = 0


class CountingTransport:
    """Wraps an asyncio transport so that every byte written through it is counted (and, on the echo lane, tapped).

    Everything else (buffer limits, ``abort``, ``get_extra_info``, ...) goes to the real transport.
    """

    def __init__(self, transport: asyncio.Transport, connection: CountingConnection) -> None:
        self._transport = transport
        self._connection = connection
        # Reading is paused while any of three wants it paused: websockets (its incoming queue is full), the
        # back-pressure demo (hold_reading), and the write side (what we owe the client is over the write limit:
        # a client that does not read its echoes gets no more of its messages read, so it cannot make the server
        # hold more than one message each way). Each one's resume only undoes its own pause.
        self._library_paused = False
        self._held = False
        self._writes_backed_up = False
        self._reading_paused = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._transport.write(data)
        self._connection.count_out(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        chunks = list(list_of_data)
        self._transport.writelines(chunks)
        for chunk in chunks:
            self._connection.count_out(chunk)

    def get_write_buffer_size(self) -> int:
        # Spelled out, not left to __getattr__: the push feed asks it of every subscriber on every update.
        return self._transport.get_write_buffer_size()

    def _update_reading(self) -> None:
        paused = self._library_paused or self._held or self._writes_backed_up
        if paused and not self._reading_paused:
            self._reading_paused = True
            self._transport.pause_reading()
        elif not paused and self._reading_paused and not self._transport.is_closing():
            self._reading_paused = False
            self._transport.resume_reading()

    def pause_reading(self) -> None:
        self._library_paused = True
        self._update_reading()

    def resume_reading(self) -> None:
        self._library_paused = False
        self._update_reading()

    def hold_reading(self) -> None:
        """Stop reading the socket until :meth:`release_reading`, whatever websockets' own flow control wants.

        The client's data then waits in the kernel's buffers and, once they are full, in the client's own
        send buffer (a browser's ``bufferedAmount`` grows).
        """
        self._held = True
        self._update_reading()

    def release_reading(self) -> None:
        """Read again, unless websockets itself (or a backed-up write side) still wants reading paused."""
        self._held = False
        self._update_reading()

    def writes_backed_up(self, backed_up: bool) -> None:
        """The write buffer went over (True) or back under (False) the write limit: pause or resume reading."""
        self._writes_backed_up = backed_up
        self._update_reading()

    @property
    def reading_held(self) -> bool:
        return self._held

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


#: Called when a connection is turned away before ``process_request``: the connection, the HTTP status (or 0 when
#: nothing could be answered), a short kind for grouping log lines (e.g. ``'pending'``) and the reason.
RefusalHook = Callable[['CountingConnection', int, str, str], None]
#: Called when a connection goes over its message rate with a control frame; returns the close reason.
OverRateHook = Callable[['CountingConnection'], str]
#: Called when the server drops or closes a connection for what its client did once connected (fell behind the feed,
#: sent a bad command): the connection, a short kind for grouping log lines, and what the log line says.
DropHook = Callable[['CountingConnection', str, str], None]


@dataclass
class ConnectionGuards:
    """The limits every connection applies itself, with the server's hooks to log and count what they refuse.

    Attributes:
        pending: Connections per address whose request has not arrived yet (None: no limit).
        request_timeout_s: Seconds from the accept for the whole request head (None: only ``open_timeout``).
        socket_buffer_bytes: SO_RCVBUF and SO_SNDBUF of each accepted socket (0: the kernel's autotuning).
        on_refused: See :data:`RefusalHook`.
        on_over_rate: See :data:`OverRateHook`.
        on_dropped: See :data:`DropHook`.
    """

    pending: PendingHandshakes | None = None
    request_timeout_s: float | None = None
    socket_buffer_bytes: int = 0
    on_refused: RefusalHook | None = None
    on_over_rate: OverRateHook | None = None
    on_dropped: DropHook | None = None


class ConnectionTally:
    """Server-wide figures every connection reports to: open TCP connections and total traffic.

    Args:
        guards: The limits each connection applies before ``process_request`` (none by default).
    """

    def __init__(self, guards: ConnectionGuards | None = None) -> None:
        self.open_connections = 0
        self.traffic = Traffic()
        self.guards = guards or ConnectionGuards()
        # Connections with their request sent, by client address (the browser's, behind a trusted proxy).
        self._by_address: dict[str, int] = {}

    def held_by(self, address: str) -> int:
        return self._by_address.get(address, 0)

    def hold(self, connection: CountingConnection, address: str, cap: int | None) -> bool:
        """Count ``connection`` for ``address`` until it closes; False (not counted) when ``address`` holds ``cap``."""
        if connection.held_for is not None:
            return True
        held = self._by_address.get(address, 0)
        if cap is not None and held >= cap:
            return False
        self._by_address[address] = held + 1
        connection.held_for = address
        return True

    def release(self, connection: CountingConnection) -> None:
        address, connection.held_for = connection.held_for, None
        if address is None:
            return
        held = self._by_address.get(address, 0) - 1
        if held > 0:
            self._by_address[address] = held
        else:
            self._by_address.pop(address, None)


class CountingConnection(AdaptedConnection):
    """A :class:`ServerConnection` that counts its socket's bytes and the server's open connections.

    Until the request says which session and lane the connection is for, bytes are only kept on the
    connection; :meth:`bind` then credits them (and everything after) to that lane.
    """

    def __init__(self, *args: Any, tally: ConnectionTally, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tally = tally
        #: The message rate this connection is held to, pings and pongs included; set by the server's handler.
        self.rate_limiter: MessageRateLimiter | None = None
        # The client's host while the connection counts as pending (its request has not arrived), else None.
        self._pending_address: str | None = None
        self._request_timer: asyncio.TimerHandle | None = None
        self.traffic = Traffic()
        self.lane: LaneCounters | None = None
        #: Set by the server's ``process_request``: which endpoint and demo session this connection serves.
        self.endpoint: str | None = None
        self.demo_session: Any = None
        #: Loop time the TCP connection was accepted: websockets' ``open_timeout`` runs from then.
        self.opened_at = self.loop.time()
        #: Reads the frames on both directions of the socket for the frame log, from the first byte on;
        #: :meth:`demos.server.sessions.DemoSession.admit` attaches a log on the echo lane and retires it elsewhere.
        self.frame_tap: FrameTap | None = FrameTap()
        #: The client address this connection counts for in the per-address cap (set once its request is routed).
        self.held_for: str | None = None
        #: The browser's address as a trusted proxy forwarded it (None: not through a trusted proxy).
        self.forwarded_for: str | None = None

    def bind(self, lane: LaneCounters) -> None:
        """Credit this connection's bytes, so far and from now on, to ``lane``, and count it as a connection."""
        if self.lane is not None:
            return
        self.lane = lane
        lane.tcp_connections += 1
        lane.bytes_in += self.traffic.bytes_in
        lane.bytes_out += self.traffic.bytes_out

    def count_out(self, data: bytes | bytearray | memoryview) -> None:
        size = len(data)
        self.traffic.bytes_out += size
        self.tally.traffic.bytes_out += size
        if self.lane is not None:
            self.lane.bytes_out += size
        if self.frame_tap is not None:
            self.frame_tap.sent(data)

    def count_in(self, data: bytes) -> None:
        size = len(data)
        self.traffic.bytes_in += size
        self.tally.traffic.bytes_in += size
        if self.lane is not None:
            self.lane.bytes_in += size
        if self.frame_tap is not None:
            self.frame_tap.received(data)

    @property
    def counting_transport(self) -> CountingTransport:
        """The socket's transport as this connection counts it, also after :meth:`hand_over`."""
        transport = self.socket_transport
        assert isinstance(transport, CountingTransport)
        return transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.tally.open_connections += 1
        # no isinstance check: uvloop's transports (what uvicorn, and so the app, runs on) are not asyncio.Transport
        super().connection_made(CountingTransport(transport, self))  # type: ignore[arg-type]
        guards = self.tally.guards
        if guards.socket_buffer_bytes:
            self._bound_socket_buffers(transport, guards.socket_buffer_bytes)
        if guards.pending is not None:
            address = self.peer_host
            if not guards.pending.open(address, self.tally.open_connections):
                self._report(
                    0,
                    'pending',
                    f'{guards.pending.per_address} connections from {address} still owe their request '
                    'and the server is busy',
                )
                self.counting_transport.abort()  # at once: no task, no buffer, no timer for it
                return
            self._pending_address = address
        if guards.request_timeout_s is not None:
            self._request_timer = self.loop.call_later(guards.request_timeout_s, self._request_too_slow)

    @staticmethod
    def _bound_socket_buffers(transport: asyncio.BaseTransport, size: int) -> None:
        """Fix the kernel's buffers of this socket: autotuned, a client that never reads could make them megabytes."""
        sock = transport.get_extra_info('socket')
        if sock is None:
            return
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
        except OSError:  # not every transport's socket takes it; the limit is then the kernel's
            pass

    def _end_pending(self) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None
        if self._pending_address is not None:
            pending = self.tally.guards.pending
            if pending is not None:
                pending.done(self._pending_address)
            self._pending_address = None

    def _request_too_slow(self) -> None:
        """No complete request within the request timeout: answer 408 and close (a slowloris, an idle socket)."""
        self._request_timer = None
        if self.request is not None or self.head_refused:
            return
        timeout = self.tally.guards.request_timeout_s
        reason = f'no complete request within {timeout:g} s'
        self.head_refused = True
        self._end_pending()
        self._report(http.HTTPStatus.REQUEST_TIMEOUT, 'slow request', reason)
        transport = self.counting_transport
        transport.write(refusal(http.HTTPStatus.REQUEST_TIMEOUT, reason).serialize())
        transport.close()

    def _report(self, status: int, kind: str, reason: str) -> None:
        hook = self.tally.guards.on_refused
        if hook is not None:
            hook(self, status, kind, reason)

    def request_arrived(self) -> None:
        self._end_pending()  # the request is here: from now on the connection cap and open_timeout apply

    def request_unparsable(self, error: BaseException, answered_by_websockets: bool) -> None:
        """websockets could not parse the request: answer it (unless websockets did, 414/431) and log it."""
        self._end_pending()
        status, reason = head_error_answer(error)
        self._report(status, 'bad request', reason)
        if not answered_by_websockets:
            # websockets queued only an EOF: the answer goes first.
            self.counting_transport.write(refusal(status, reason).serialize())

    def report_drop(self, kind: str, what: str) -> None:
        """Log (once a minute per address and kind, through the server's hook) that this connection was dropped."""
        hook = self.tally.guards.on_dropped
        if hook is not None:
            hook(self, kind, what)

    def control_frame_refusal(self) -> str | None:
        """Count a ping or pong against the message rate before the protocol answers it; close with 1008 beyond."""
        limiter = self.rate_limiter
        if limiter is None or limiter.allow():
            return None
        hook = self.tally.guards.on_over_rate
        return hook(self) if hook is not None else 'too many messages'

    def connection_lost(self, exc: Exception | None) -> None:
        self.tally.open_connections -= 1
        self.tally.release(self)
        self._end_pending()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.count_in(data)
        super().data_received(data)

    def pause_writing(self) -> None:
        super().pause_writing()
        if not self.handed_over:
            self.counting_transport.writes_backed_up(True)

    def resume_writing(self) -> None:
        super().resume_writing()
        if not self.handed_over:
            self.counting_transport.writes_backed_up(False)

    @property
    def peer_host(self) -> str:
        """The client's address without the port: what per-address limits count by."""
        address = self.transport.get_extra_info('peername')
        if isinstance(address, tuple) and address:
            return str(address[0])
        return str(address)

    @property
    def client_host(self) -> str:
        """The browser's address: the one a trusted proxy forwarded, else the TCP peer's."""
        return self.forwarded_for or self.peer_host

    @property
    def client(self) -> str:
        """Who sent the request, for log lines: the browser's address, and the proxy it came through."""
        if self.forwarded_for is None:
            return self.peer
        return f'{self.forwarded_for} (via {self.peer})'

    @property
    def peer(self) -> str:
        """The client's address as ``host:port``, for log lines a teacher can read."""
        address = self.transport.get_extra_info('peername')
        if isinstance(address, tuple) and len(address) >= 2:
            host, port = address[0], address[1]
            return f'[{host}]:{port}' if ':' in str(host) else f'{host}:{port}'
        return str(address)
