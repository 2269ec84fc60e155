"""Test clients that see the wire: raw HTTP over a socket, raw WebSocket handshakes, a byte-counting client."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


@dataclass
class HttpExchange:
    """One raw HTTP request and its answer, with the exact bytes each way."""

    status: int
    headers: dict[str, str]
    body: bytes
    bytes_sent: int
    bytes_received: int

    def json(self) -> Any:
        return json.loads(self.body)


def request_bytes(target: str, headers: Iterable[tuple[str, str]] = (), host: str = '127.0.0.1') -> bytes:
    lines = [f'GET {target} HTTP/1.1', f'Host: {host}', *(f'{name}: {value}' for name, value in headers)]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode()


async def http_get(
    port: int,
    target: str,
    headers: Iterable[tuple[str, str]] = (),
    *,
    host: str = '127.0.0.1',
    ssl_context: ssl.SSLContext | None = None,
) -> HttpExchange:
    """GET ``target`` from ``host:port`` on a fresh connection (TLS with ``ssl_context``) and read until it closes."""
    reader, writer = await asyncio.open_connection(host, port, ssl=ssl_context)
    request = request_bytes(target, headers, f'{host}:{port}')
    writer.write(request)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), timeout=5)
    writer.close()
    head, _, body = raw.partition(b'\r\n\r\n')
    status_line, *header_lines = head.decode('latin-1').split('\r\n')
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(':')
        parsed[name.strip().lower()] = value.strip()
    return HttpExchange(int(status_line.split()[1]), parsed, body, len(request), len(raw))


async def raw_websocket(port: int, target: str, *, receive_buffer: int | None = None) -> socket.socket:
    """Open a WebSocket with a plain blocking socket and read the 101 answer; then the socket is all yours.

    The socket blocks, so the handshake runs in a thread while the loop serves it.
    """
    return await asyncio.to_thread(_raw_websocket, port, target, receive_buffer)


def _raw_websocket(port: int, target: str, receive_buffer: int | None) -> socket.socket:
    sock = socket.socket()
    if receive_buffer is not None:
        # Before connect(), so the window the client advertises stays small.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(5)
    sock.connect(('127.0.0.1', port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        request_bytes(
            target,
            [
                ('Upgrade', 'websocket'),
                ('Connection', 'Upgrade'),
                ('Sec-WebSocket-Key', key),
                ('Sec-WebSocket-Version', '13'),
            ],
        )
    )
    answer = b''
    while b'\r\n\r\n' not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b'HTTP/1.1 101 '), answer
    return sock


class CountingClientConnection(ClientConnection):
    """A websockets client that counts the bytes its socket sent and received."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bytes_sent = 0
        self.bytes_received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        write = transport.write

        def counting_write(data: bytes | bytearray | memoryview) -> None:
            self.bytes_sent += len(data)
            write(data)

        transport.write = counting_write  # type: ignore[method-assign]
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.bytes_received += len(data)
        super().data_received(data)


async def eventually(condition: Any, timeout: float = 5.0) -> None:
    """Wait until ``condition()`` is true: the server's side of a connection finishes a moment after ours."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError('condition not met in time')
        await asyncio.sleep(0.01)


async def still_serves(
    port: int, *, origin: str | None = None, scheme: str = 'ws', ssl_context: ssl.SSLContext | None = None
) -> None:
    """Proof that the server still serves another client: a bystander's echo comes back."""
    async with connect(
        f'{scheme}://127.0.0.1:{port}/echo?session=bystander',
        origin=origin,  # type: ignore[arg-type]
        ssl=ssl_context,
    ) as ws:
        await ws.send('still there?')
        assert await asyncio.wait_for(ws.recv(), 5) == 'still there?'
