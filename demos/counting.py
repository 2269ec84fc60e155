"""Count the bytes that really cross each socket, HTTP headers and WebSocket framing included.

``websockets`` reads through ``data_received`` and writes through its transport's ``write``; counting at
exactly those two points sees every byte of the HTTP request and response, of every frame (control
frames too) and of the closing handshake, and nothing the library merely intended to send. Over TLS the
count is of the bytes inside the TLS records (the encryption overhead is not included).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection

#: The three lanes of a demo session: HTTP polling, WebSocket push, WebSocket echo.
LANES = ('poll', 'push', 'echo')


@dataclass(slots=True)
class LaneCounters:
    """What one lane of a demo session did, as the server's sockets saw it.

    ``messages_in``/``messages_out`` are HTTP requests and responses on the ``poll`` lane and WebSocket
    data frames on the ``push`` and ``echo`` lanes.
    """

    tcp_connections: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    messages_in: int = 0
    messages_out: int = 0
    #: Feed updates delivered (one per update per subscriber on ``push``, per update in an answer on ``poll``).
    updates_out: int = 0
    #: Poll answers that carried no update: requests the client need not have made.
    empty_polls: int = 0
    #: Push subscribers closed because they fell too far behind.
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
    """Wraps an asyncio transport so that every byte written through it is counted.

    Everything else (buffer limits, ``abort``, ``get_extra_info``, ...) goes to the real transport.
    """

    def __init__(self, transport: asyncio.Transport, connection: CountingConnection) -> None:
        self._transport = transport
        self._connection = connection

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._transport.write(data)
        self._connection.count_out(len(data))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        chunks = list(list_of_data)
        self._transport.writelines(chunks)
        self._connection.count_out(sum(len(chunk) for chunk in chunks))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


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

    def bind(self, lane: LaneCounters) -> None:
        """Credit this connection's bytes, so far and from now on, to ``lane``, and count it as a connection."""
        if self.lane is not None:
            return
        self.lane = lane
        lane.tcp_connections += 1
        lane.bytes_in += self.traffic.bytes_in
        lane.bytes_out += self.traffic.bytes_out

    def count_out(self, size: int) -> None:
        self.traffic.bytes_out += size
        self.tally.traffic.bytes_out += size
        if self.lane is not None:
            self.lane.bytes_out += size

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.tally.open_connections += 1
        # no isinstance check: uvloop's transports (what uvicorn, and so the app, runs on) are not asyncio.Transport
        super().connection_made(CountingTransport(transport, self))  # type: ignore[arg-type]

    def connection_lost(self, exc: Exception | None) -> None:
        self.tally.open_connections -= 1
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        size = len(data)
        self.traffic.bytes_in += size
        self.tally.traffic.bytes_in += size
        if self.lane is not None:
            self.lane.bytes_in += size
        super().data_received(data)

    @property
    def peer(self) -> str:
        """The client's address as ``host:port``, for log lines a teacher can read."""
        address = self.transport.get_extra_info('peername')
        if isinstance(address, tuple) and len(address) >= 2:
            host, port = address[0], address[1]
            return f'[{host}]:{port}' if ':' in str(host) else f'{host}:{port}'
        return str(address)
