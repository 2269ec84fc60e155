"""Count the bytes that really cross each socket, HTTP headers and WebSocket framing included.

``websockets`` reads through ``data_received`` and writes through its transport's ``write``; counting at
exactly those two points sees every byte of the HTTP request and response, of every frame (control
frames too) and of the closing handshake, and nothing the library merely intended to send. Over TLS the
count is of the bytes inside the TLS records (the encryption overhead is not included).

The same two points feed the echo lane's frame log (:class:`demos.server.frame_log.FrameTap`), hold a socket's
reading for the back-pressure demo (:meth:`CountingTransport.hold_reading`), and let a Server-Sent Events
stream take a socket over from ``websockets`` once its request is answered (:meth:`CountingConnection.hand_over`).

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
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import HeaderLineTooLong, InvalidMessage, RequestLineTooLong, TooManyHeaders
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import OPEN, Event

from demos.protocol.http_answers import refusal
from demos.protocol.lanes import COUNTED_LANE_IDS
from demos.protocol.limits import MessageRateLimiter, PendingHandshakes
from demos.server.frame_log import FrameTap

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


class _HandedOverTransport:
    """What websockets holds once its socket was handed over: writes and closes go nowhere."""

    def __init__(self, transport: CountingTransport) -> None:
        self._transport = transport

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        pass

    def write_eof(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def is_closing(self) -> bool:
        return True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


#: Frames at least this large are written as header and payload, without a copy (see CountingConnection._send_frame).
ZERO_COPY_FROM_BYTES = 4096

#: Called when a connection is turned away before ``process_request``: the connection, the HTTP status (or 0 when
#: nothing could be answered), a short kind for grouping log lines (e.g. ``'pending'``) and the reason.
RefusalHook = Callable[['CountingConnection', int, str, str], None]
#: Called when a connection goes over its message rate with a control frame; returns the close reason.
OverRateHook = Callable[['CountingConnection'], str]


@dataclass
class ConnectionGuards:
    """The limits every connection applies itself, with the server's hooks to log and count what they refuse.

    Attributes:
        pending: Connections per address whose request has not arrived yet (None: no limit).
        request_timeout_s: Seconds from the accept for the whole request head (None: only ``open_timeout``).
        socket_buffer_bytes: SO_RCVBUF and SO_SNDBUF of each accepted socket (0: the kernel's autotuning).
        on_refused: See :data:`RefusalHook`.
        on_over_rate: See :data:`OverRateHook`.
    """

    pending: PendingHandshakes | None = None
    request_timeout_s: float | None = None
    socket_buffer_bytes: int = 0
    on_refused: RefusalHook | None = None
    on_over_rate: OverRateHook | None = None


class ConnectionTally:
    """Server-wide figures every connection reports to: open TCP connections and total traffic.

    Args:
        guards: The limits each connection applies before ``process_request`` (none by default).
    """

    def __init__(self, guards: ConnectionGuards | None = None) -> None:
        self.open_connections = 0
        self.traffic = Traffic()
        self.guards = guards or ConnectionGuards()


def _refused_head_status(error: BaseException) -> tuple[http.HTTPStatus, str]:
    """The answer to a request head websockets could not parse: the status and why, for the client and the log."""
    if isinstance(error, RequestLineTooLong):
        return http.HTTPStatus.REQUEST_URI_TOO_LONG, 'request line too long'
    if isinstance(error, HeaderLineTooLong | TooManyHeaders):
        return http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, str(error)
    cause = error.__cause__ if isinstance(error, InvalidMessage) else error
    text = str(cause)
    if isinstance(cause, NotImplementedError):
        return http.HTTPStatus.BAD_REQUEST, 'Transfer-Encoding: this server takes no request body'
    if text.startswith('unsupported protocol'):
        return http.HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, 'speak HTTP/1.1 (an HTTP/2 preface or another version)'
    if text == 'unsupported request body':
        return http.HTTPStatus.BAD_REQUEST, 'Content-Length: this server takes no request body'
    if text == 'line without CRLF':
        return http.HTTPStatus.BAD_REQUEST, 'a line that does not end in CRLF (a bare LF)'
    if isinstance(cause, UnicodeDecodeError):
        return http.HTTPStatus.BAD_REQUEST, 'a request line that is not ASCII'
    # e.g. "invalid HTTP header value: ..." (a NUL in a header): websockets' own words, cut short
    return http.HTTPStatus.BAD_REQUEST, f'not a valid HTTP request ({text[:80]})'


class CountingConnection(ServerConnection):
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
        self._receiving = False  # inside data_received: a parse error now means the client sent a bad request
        self._head_refused = False
        # websockets answers pings inside its protocol layer (a pong queued before any handler runs); its frames
        # pass through recv_frame first, so that is where they are counted.
        self._protocol_recv_frame = self.protocol.recv_frame
        self.protocol.recv_frame = self._recv_frame  # type: ignore[method-assign]
        self._protocol_send_frame = self.protocol.send_frame
        self.protocol.send_frame = self._send_frame  # type: ignore[method-assign]
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
        self._handed_over_to: asyncio.Protocol | None = None

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
        transport = self.transport
        if isinstance(transport, _HandedOverTransport):
            return transport._transport
        assert isinstance(transport, CountingTransport)
        return transport

    def hand_over(self, protocol: asyncio.Protocol) -> CountingTransport:
        """Take the socket away from websockets and give it to ``protocol``, e.g. a Server-Sent Events stream.

        Call it from ``process_request``, after writing the response head yourself, then return any
        :class:`~websockets.http11.Response`: websockets is told the connection is gone, so it sends nothing,
        ends its handshake at once (its ``open_timeout`` no longer applies) and finds only a muted transport
        to close. This connection stays the socket's asyncio protocol and keeps counting; the socket's
        events (data, EOF, loss, write flow control) go on to ``protocol``, which writes through the
        returned counting transport and closes the socket when it is done.
        """
        transport = self.counting_transport
        self._handed_over_to = protocol
        self.transport = _HandedOverTransport(transport)  # type: ignore[assignment]
        super().connection_lost(None)
        protocol.connection_made(transport)  # type: ignore[arg-type]
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
        if self.request is not None or self._head_refused:
            return
        timeout = self.tally.guards.request_timeout_s
        reason = f'no complete request within {timeout:g} s'
        self._head_refused = True
        self._end_pending()
        self._report(http.HTTPStatus.REQUEST_TIMEOUT, 'slow request', reason)
        transport = self.counting_transport
        transport.write(refusal(http.HTTPStatus.REQUEST_TIMEOUT, reason).serialize())
        transport.close()

    def _report(self, status: int, kind: str, reason: str) -> None:
        hook = self.tally.guards.on_refused
        if hook is not None:
            hook(self, status, kind, reason)

    def process_event(self, event: Event) -> None:
        super().process_event(event)
        if isinstance(event, Request):
            self._end_pending()  # the request is here: from now on the connection cap and open_timeout apply

    def send_data(self) -> None:
        if self._receiving and self.request is None and not self._head_refused:
            error = self.protocol.handshake_exc
            if error is not None:
                self._refuse_head(error)
        super().send_data()
        if self._head_refused and self.request is None:
            # websockets only half-closes; a client that keeps its side open would hold the slot for open_timeout
            self.counting_transport.close()

    def _refuse_head(self, error: BaseException) -> None:
        """websockets could not parse the request: answer it (unless websockets did, 414/431) and log it."""
        self._head_refused = True
        self._end_pending()
        status, reason = _refused_head_status(error)
        self._report(status, 'bad request', reason)
        if not isinstance(error, RequestLineTooLong | HeaderLineTooLong | TooManyHeaders):
            # websockets queued only an EOF: the answer goes first.
            self.counting_transport.write(refusal(status, reason).serialize())

    def _recv_frame(self, frame: Frame) -> None:
        """Count a ping or pong against the message rate before the protocol answers it; close with 1008 beyond."""
        limiter = self.rate_limiter
        if (
            frame.opcode in (Opcode.PING, Opcode.PONG)
            and limiter is not None
            and self.protocol.state is OPEN
            and not limiter.allow()
        ):
            hook = self.tally.guards.on_over_rate
            reason = hook(self) if hook is not None else 'too many messages'
            # fail() sends the close frame and EOF and discards whatever else the client already sent.
            self.protocol.fail(CloseCode.POLICY_VIOLATION, reason)
            return
        self._protocol_recv_frame(frame)

    def _send_frame(self, frame: Frame) -> None:
        """Queue a large frame as its header and the payload object itself, not a serialized copy of both.

        websockets serializes a frame into one new bytes object; for an echo that a client does not read, that
        copy waits in the write buffer while the received message (the same bytes the payload is) is still held
        by the parser: two copies of up to 64 KiB per connection. Frames with an extension (compression) are
        transformed on the way and left to websockets.
        """
        protocol = self.protocol
        if len(frame.data) < ZERO_COPY_FROM_BYTES or protocol.extensions or frame.rsv1 or frame.rsv2 or frame.rsv3:
            self._protocol_send_frame(frame)
            return
        frame.check()
        head = (0b10000000 if frame.fin else 0) | frame.opcode
        length = len(frame.data)
        header = struct.pack('!BBH', head, 126, length) if length < 65536 else struct.pack('!BBQ', head, 127, length)
        data = frame.data
        # A server's frames are not masked: the payload goes as it is (bytes: the very object; a view is copied once).
        protocol.writes += [header, data if isinstance(data, bytes) else bytes(data)]

    def connection_lost(self, exc: Exception | None) -> None:
        self.tally.open_connections -= 1
        self._end_pending()
        if self._handed_over_to is not None:
            self._handed_over_to.connection_lost(exc)
        else:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.count_in(data)
        if self._handed_over_to is not None:
            self._handed_over_to.data_received(data)
        else:
            self._receiving = True
            try:
                super().data_received(data)
            finally:
                self._receiving = False

    # The handed-over protocol may keep the socket half-open (True); websockets' own answer is always None.
    def eof_received(self) -> bool | None:  # type: ignore[override]
        if self._handed_over_to is not None:
            return self._handed_over_to.eof_received()
        return super().eof_received()

    def pause_writing(self) -> None:
        if self._handed_over_to is not None:
            self._handed_over_to.pause_writing()
        else:
            super().pause_writing()
            self.counting_transport.writes_backed_up(True)

    def resume_writing(self) -> None:
        if self._handed_over_to is not None:
            self._handed_over_to.resume_writing()
        else:
            super().resume_writing()
            self.counting_transport.writes_backed_up(False)

    @property
    def peer_host(self) -> str:
        """The client's address without the port: what per-address limits count by."""
        address = self.transport.get_extra_info('peername')
        if isinstance(address, tuple) and address:
            return str(address[0])
        return str(address)

    @property
    def peer(self) -> str:
        """The client's address as ``host:port``, for log lines a teacher can read."""
        address = self.transport.get_extra_info('peername')
        if isinstance(address, tuple) and len(address) >= 2:
            host, port = address[0], address[1]
            return f'[{host}]:{port}' if ':' in str(host) else f'{host}:{port}'
        return str(address)
