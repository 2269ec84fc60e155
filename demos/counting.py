"""Count the bytes that really cross each socket, HTTP headers and WebSocket framing included.

``websockets`` reads through ``data_received`` and writes through its transport's ``write``; counting at
exactly those two points sees every byte of the HTTP request and response, of every frame (control
frames too) and of the closing handshake, and nothing the library merely intended to send. Over TLS the
count is of the bytes inside the TLS records (the encryption overhead is not included).

The same two points feed the echo lane's frame log (:class:`demos.frame_log.FrameTap`), hold a socket's
reading for the back-pressure demo (:meth:`CountingTransport.hold_reading`), and let a Server-Sent Events
stream take a socket over from ``websockets`` once its request is answered (:meth:`CountingConnection.hand_over`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection

from .frame_log import FrameTap
from .lanes import COUNTED_LANE_IDS

#: The lanes of a demo session (:mod:`demos.lanes`): the four compared ones and the echo console's.
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
        # Reading is paused while either wants it paused: websockets (its incoming queue is full) or the
        # back-pressure demo. Each one's resume only undoes its own pause.
        self._library_paused = False
        self._held = False

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

    def pause_reading(self) -> None:
        self._library_paused = True
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._library_paused = False
        if not self._held:
            self._transport.resume_reading()

    def hold_reading(self) -> None:
        """Stop reading the socket until :meth:`release_reading`, whatever websockets' own flow control wants.

        The client's data then waits in the kernel's buffers and, once they are full, in the client's own
        send buffer (a browser's ``bufferedAmount`` grows).
        """
        self._held = True
        self._transport.pause_reading()

    def release_reading(self) -> None:
        """Read again, unless websockets itself has paused reading meanwhile (then it resumes when ready)."""
        self._held = False
        if not self._library_paused and not self._transport.is_closing():
            self._transport.resume_reading()

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


class ConnectionTally:
    """Server-wide figures every connection reports to: open TCP connections and total traffic."""

    def __init__(self) -> None:
        self.open_connections = 0
        self.traffic = Traffic()


class CountingConnection(ServerConnection):
    """A :class:`ServerConnection` that counts its socket's bytes and the server's open connections.

    Until the request says which session and lane the connection is for, bytes are only kept on the
    connection; :meth:`bind` then credits them (and everything after) to that lane.
    """

    def __init__(self, *args: Any, tally: ConnectionTally, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tally = tally
        self.traffic = Traffic()
        self.lane: LaneCounters | None = None
        #: Set by the server's ``process_request``: which endpoint and demo session this connection serves.
        self.endpoint: str | None = None
        self.demo_session: Any = None
        #: Loop time the TCP connection was accepted: websockets' ``open_timeout`` runs from then.
        self.opened_at = self.loop.time()
        #: Reads the frames on both directions of the socket for the frame log, from the first byte on;
        #: :meth:`demos.sessions.DemoSession.admit` attaches a log on the echo lane and retires it elsewhere.
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

    def connection_lost(self, exc: Exception | None) -> None:
        self.tally.open_connections -= 1
        if self._handed_over_to is not None:
            self._handed_over_to.connection_lost(exc)
        else:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.count_in(data)
        if self._handed_over_to is not None:
            self._handed_over_to.data_received(data)
        else:
            super().data_received(data)

    def eof_received(self) -> bool | None:
        if self._handed_over_to is not None:
            return self._handed_over_to.eof_received()
        return super().eof_received()

    def pause_writing(self) -> None:
        if self._handed_over_to is not None:
            self._handed_over_to.pause_writing()
        else:
            super().pause_writing()

    def resume_writing(self) -> None:
        if self._handed_over_to is not None:
            self._handed_over_to.resume_writing()
        else:
            super().resume_writing()

    @property
    def peer(self) -> str:
        """The client's address as ``host:port``, for log lines a teacher can read."""
        address = self.transport.get_extra_info('peername')
        if isinstance(address, tuple) and len(address) >= 2:
            host, port = address[0], address[1]
            return f'[{host}]:{port}' if ':' in str(host) else f'{host}:{port}'
        return str(address)
