"""The benchmark's clients: lean push subscribers and raw-socket pollers, recording what arrives and when.

They speak to the echo server as a browser's page does (a poller sends a browser's fetch headers; a push client
is a plain upgrade like any command-line client), so the bytes the server counts are those a class would cost.
Shared by the comparison (:mod:`demos.bench.comparison`), the load test (:mod:`demos.bench.load`) and the class
simulation (:mod:`demos.bench.learner`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import time
from dataclasses import dataclass, field

from websockets.frames import Close, CloseCode, Frame, Opcode

from demos.protocol.frames import FrameSplitter

HOST = '127.0.0.1'
#: The page origin the benchmark's pollers claim; the benchmark server allows it, as the app allows its own.
BROWSER_ORIGIN = 'http://127.0.0.1:8080'

#: Headers a browser's cross-origin ``fetch`` sends (Chromium's, minus cookies), so the measured bytes per
#: poll are those of a real page rather than of a minimal test client.
BROWSER_LIKE_HEADERS = (
    ('Connection', 'keep-alive'),
    ('sec-ch-ua-platform', '"Linux"'),
    (
        'User-Agent',
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    ),
    ('sec-ch-ua', '"Chromium";v="131", "Not_A Brand";v="24"'),
    ('sec-ch-ua-mobile', '?0'),
    ('Accept', '*/*'),
    ('Origin', BROWSER_ORIGIN),
    ('Sec-Fetch-Site', 'same-site'),
    ('Sec-Fetch-Mode', 'cors'),
    ('Sec-Fetch-Dest', 'empty'),
    ('Referer', BROWSER_ORIGIN + '/'),
    ('Accept-Encoding', 'gzip, deflate, br, zstd'),
    ('Accept-Language', 'en-US,en;q=0.9'),
)


def now_ms() -> float:
    return time.time() * 1000


@dataclass
class Received:
    """What one client saw: (seq, made_at, received_at) samples, requests or frames, and their bytes."""

    samples: list[tuple[int, float, float]] = field(default_factory=list)
    #: A poller's HTTP requests, those answered with no update, and their bytes: request and response heads, bodies.
    requests: int = 0
    empty: int = 0
    header_bytes: int = 0
    body_bytes: int = 0
    #: A push client's data frames, their header bytes and their payload bytes.
    frames: int = 0
    framing_bytes: int = 0
    payload_bytes: int = 0


#: Longest push message the benchmark expects (an update is about 70 bytes).
MAX_UPDATE_BYTES = 4096


class PushSubscriber(asyncio.Protocol):
    """A push client as lean as a browser tab's socket: it notes when each frame's bytes reached this process.

    Hundreds of subscribers share this one process, so what each does per message delays the next one's
    reading. A full client (a reader task woken per message, a message queue) made that wait longer than
    the server's own fan-out; this one only splits frames, answers pings and keeps the text, and the
    updates are parsed after the run. The handshake is a plain HTTP/1.1 upgrade with no ``Origin``, like
    any command-line client.
    """

    def __init__(self, host: str, port: int, path: str) -> None:
        self.request = (
            f'GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n'
            f'Connection: Upgrade\r\nSec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n'
            'Sec-WebSocket-Version: 13\r\n\r\n'
        ).encode()
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        #: (received_at ms, payload) of each text frame, in order.
        self.messages: list[tuple[float, bytes]] = []
        #: Header bytes of those text frames: their framing, without the handshake or any control frame.
        self.text_frame_header_bytes = 0
        self._head = b''
        self._frames: FrameSplitter | None = None
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # no isinstance check: uvloop's transports are not asyncio.Transport
        self._transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        received_at = now_ms()
        if self._frames is None:
            self._head += data
            head, found, data = self._head.partition(b'\r\n\r\n')
            if not found:
                return
            if not head.startswith(b'HTTP/1.1 101 '):
                self._fail(RuntimeError(f'push refused: {head.splitlines()[0]!r}'))
                return
            self._frames = FrameSplitter(preview_size=MAX_UPDATE_BYTES)
            self.opened.set_result(None)
        for frame in self._frames.feed(data):
            if frame.opcode == Opcode.TEXT:
                self.messages.append((received_at, frame.payload_preview))
                self.text_frame_header_bytes += frame.header_size
            elif frame.opcode == Opcode.PING:
                self._send(Frame(Opcode.PONG, frame.payload_preview))
            elif frame.opcode == Opcode.CLOSE and self._transport is not None:
                self._transport.close()

    def send_text(self, text: str) -> None:
        """Send one text message (masked, as a client must), e.g. the clock question."""
        self._send(Frame(Opcode.TEXT, text.encode()))

    def close(self) -> None:
        """Start the closing handshake: the server answers and then closes the TCP connection."""
        self._send(Frame(Opcode.CLOSE, Close(CloseCode.NORMAL_CLOSURE, '').serialize()))

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError('the push connection closed before its handshake'))
        if not self.closed.done():
            self.closed.set_result(None)

    def _send(self, frame: Frame) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame.serialize(mask=True, extensions=[]))

    def _fail(self, error: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(error)
        if self._transport is not None:
            self._transport.abort()


async def subscribe(
    port: int, session: str, received: Received, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: PushSubscriber(HOST, port, f'/push?session={session}'), HOST, port)
    try:
        await asyncio.wait_for(client.opened, 30)
        if ready is not None:
            ready.set()
        await stop.wait()
        client.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(client.closed), 5)
    finally:
        client.abort()
    received.frames += len(client.messages)
    received.framing_bytes += client.text_frame_header_bytes
    for received_at, message in client.messages:
        update = json.loads(message)
        received.samples.append((update['seq'], update['made_at'], received_at))
        received.payload_bytes += len(message)


def browser_headers(origin: str = BROWSER_ORIGIN) -> str:
    """The header lines of a browser's cross-origin ``fetch`` from a page at ``origin``."""
    replaced = {'Origin': origin, 'Referer': origin + '/'}
    return ''.join(f'{name}: {replaced.get(name, value)}\r\n' for name, value in BROWSER_LIKE_HEADERS)


def dechunk(body: bytes) -> bytes:
    """The body of a ``Transfer-Encoding: chunked`` answer."""
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b'\r\n')
        size = int(size_line.split(b';')[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


async def poll(
    port: int,
    session: str,
    interval_s: float,
    received: Received,
    stop: asyncio.Event,
    *,
    path: str = '/poll',
    origin: str = BROWSER_ORIGIN,
    prefix: str = '',
    cookie: str | None = None,
) -> None:
    """Poll like the browser's poller: one request at a time, one every ``interval_s`` start to start.

    With ``path='/longpoll'`` and ``interval_s=0`` it is the long-polling lane: it asks again the moment each
    answer is in (the server holds a request until there is news). Behind a proxy, ``prefix`` is the echo server's
    path there and ``cookie`` the routing cookie a browser sends with every same-origin request.
    """
    loop = asyncio.get_running_loop()
    headers = browser_headers(origin)
    if prefix or cookie:
        # A proxy keeps a keep-alive client connection open after the answer (the echo server itself closes every
        # one): ask it to close, since each answer is read to the end of its connection here.
        headers = headers.replace('Connection: keep-alive', 'Connection: close') + (
            f'Cookie: {cookie}\r\n' if cookie else ''
        )
    cursor = 0
    # Random phase, as when learners press start at different moments.
    await asyncio.sleep(random.uniform(0, interval_s))
    while not stop.is_set():
        started = loop.time()
        request = (
            f'GET {prefix}{path}?session={session}&after={cursor} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{headers}\r\n'
        ).encode()
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(request)
            answer = await reader.read()
            received_at = now_ms()
        finally:
            writer.close()
        head, _, body = answer.partition(b'\r\n\r\n')
        if not head.startswith(b'HTTP/1.1 200 '):
            raise RuntimeError(f'{path} refused: {head.splitlines()[0] if head else b"(no answer)"!r}')
        if b'transfer-encoding: chunked' in head.lower():
            body = dechunk(body)
        received.requests += 1
        received.header_bytes += len(request) + len(head) + 4
        received.body_bytes += len(body)
        updates = json.loads(body)['updates']
        if not updates:
            received.empty += 1
        for update in updates:
            received.samples.append((update['seq'], update['made_at'], received_at))
            cursor = max(cursor, update['seq'])
        time_left = interval_s - (loop.time() - started)
        if time_left > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), time_left)
