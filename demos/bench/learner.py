"""One simulated learner: the traffic of one ``/demo`` page, from its page load to its last socket.

It loads the page (and takes its demo session id from the HTML, as the page's own code does), opens the inspection
stream and starts its feed there, then runs the four lanes at once (polling every 500 ms, a new TCP connection per
poll; long polling that asks again the moment each answer is in; a Server-Sent Events stream; a push WebSocket with
the five clock checks at start) and sends one echo message a second. :mod:`demos.bench.class_run` runs a class.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from demos.bench.clients import HOST, PushSubscriber, Received, dechunk, now_ms, poll

#: The demo page's settings a learner picks: polling every 500 ms, 5 updates a second.
POLL_INTERVAL_S = 0.5
RATE_PER_S = 5.0
#: Clock questions a page's push lane asks when it opens.
CLOCK_CHECKS = 5
ECHO_INTERVAL_S = 1.0
CONNECT_TIMEOUT_S = 30.0

#: A demo session id as the app issues it (``demos.protocol.session_ids``): nonce, a dot, signature.
SIGNED_SESSION_ID = re.compile(r'(?<![A-Za-z0-9_.-])([A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22})(?![A-Za-z0-9_.-])')
PAGE_HEADERS = (
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n'
    'Accept-Language: en-US,en;q=0.9\r\n'
    'User-Agent: websocket-lesson-bench\r\n'
)


def session_id_in(html: str) -> str | None:
    """The demo session id a ``/demo`` page embeds (in its panels' props), or None when it has none."""
    found = SIGNED_SESSION_ID.search(html)
    return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class PageLoad:
    status: int
    elapsed_ms: float
    html: str
    #: The routing cookie a proxy set (``SERVERID=app1``), sent with the learner's echo requests, as a browser does.
    route: str | None = None


#: HAProxy's routing cookie (lesson.web.deployment.COOKIE; demos/ does not import lesson/).
ROUTE_COOKIE = 'SERVERID'
_SET_ROUTE = re.compile(rb'(?im)^set-cookie:\s*(' + ROUTE_COOKIE.encode() + rb'=[^;\r\n]*)')


async def load_page(port: int, path: str = '/demo') -> PageLoad:
    """GET ``path`` on a new connection; the time is from connecting to the body's last byte."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(f'GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{PAGE_HEADERS}Connection: close\r\n\r\n'.encode())
        answer = await reader.read()
    finally:
        writer.close()
    elapsed_ms = (time.perf_counter() - started) * 1000
    head, _, body = answer.partition(b'\r\n\r\n')
    status_line = head.split(b'\r\n', 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    if b'transfer-encoding: chunked' in head.lower():
        body = dechunk(body)
    route = _SET_ROUTE.search(head)
    return PageLoad(status, elapsed_ms, body.decode('utf-8', 'replace'), route.group(1).decode() if route else None)


@dataclass
class Target:
    """Where the class goes: the app's page port (for ``/demo``) and its echo port, and the page origin."""

    page_port: int
    echo_port: int
    #: Behind a proxy, the path the echo server is under on the page's port (``/echo-server``), else ``''``.
    echo_prefix: str = ''

    @property
    def origin(self) -> str:
        return f'http://{HOST}:{self.page_port}'


@dataclass
class LearnerLog:
    """What one simulated learner saw."""

    index: int
    session: str = ''
    #: 'page' when the id came from the page's HTML, 'invented' when the page had none (an app that accepts any).
    session_source: str = ''
    page_load: PageLoad | None = None
    inspect_error: str | None = None
    #: The session's ``latest_seq`` in the last ``counts`` message of the inspection stream.
    latest_seq: int | None = None
    push: list[tuple[int, float, float]] = field(default_factory=list)
    sse: list[tuple[int, float, float]] = field(default_factory=list)
    poll: Received = field(default_factory=Received)
    longpoll: Received = field(default_factory=Received)
    clock_round_trips_ms: list[float] = field(default_factory=list)
    #: (sent at, epoch ms; round trip, ms) of each echo message.
    echo: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def made(self) -> int:
        """Updates the session's feed made: from the inspection stream, else the newest seq any lane saw."""
        if self.latest_seq is not None:
            return self.latest_seq
        seen = [seq for lane in (self.push, self.sse, self.poll.samples, self.longpoll.samples) for seq, _, _ in lane]
        return max(seen, default=0)

    def lost(self, samples: Sequence[tuple[int, float, float]]) -> int:
        """Updates of 1..made this lane never got (every lane is open before the feed starts)."""
        made = self.made()
        return made - len({seq for seq, _, _ in samples if 1 <= seq <= made})


class RoutedPushSubscriber(PushSubscriber):
    """The push client with the proxy's routing cookie in its handshake, when there is one."""

    def __init__(self, host: str, port: int, path: str, route: str | None) -> None:
        super().__init__(host, port, path)
        if route:
            self.request = self.request.replace(b'\r\n\r\n', f'\r\nCookie: {route}\r\n\r\n'.encode(), 1)


class Learner:
    """One simulated ``/demo`` page and its sockets."""

    def __init__(self, index: int, target: Target) -> None:
        self.log = LearnerLog(index)
        self.target = target
        self.stop = asyncio.Event()
        self._inspect: ClientConnection | None = None
        self._push: PushSubscriber | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._next_id = 0

    async def join(self) -> None:
        """Load the page, open the inspection stream, push and SSE, start the feed, then poll and echo."""
        log = self.log
        log.page_load = await load_page(self.target.page_port)
        if log.page_load.status != 200:
            raise RuntimeError(f'GET /demo answered {log.page_load.status}')
        found = session_id_in(log.page_load.html)
        log.session, log.session_source = (found, 'page') if found else (f'bench-{secrets.token_hex(8)}', 'invented')
        await self._open_inspect()
        await self._open_push()
        sse_open: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._spawn('sse', self._sse(sse_open))
        await asyncio.wait_for(sse_open, CONNECT_TIMEOUT_S)
        await self.command('start', rate_per_s=RATE_PER_S)
        port, session = self.target.echo_port, log.session
        # Behind a proxy the polls go under the echo prefix with the routing cookie a browser sends with every
        # same-origin fetch, so they reach the page's own instance; straight to the echo port, neither.
        lane = {'origin': self.target.origin, 'prefix': self.target.echo_prefix, 'cookie': self._route}
        self._spawn('poll', poll(port, session, POLL_INTERVAL_S, log.poll, self.stop, **lane))  # type: ignore[arg-type]
        self._spawn('longpoll', poll(port, session, 0, log.longpoll, self.stop, path='/longpoll', **lane))  # type: ignore[arg-type]
        self._spawn('echo', self._echo())

    @property
    def _route(self) -> str | None:
        return self.log.page_load.route if self.log.page_load else None

    def _path(self, path: str) -> str:
        return self.target.echo_prefix + path

    def _ws_headers(self) -> dict[str, str] | None:
        return {'Cookie': self._route} if self._route else None

    async def command(self, action: str, **arguments: Any) -> None:
        if self._inspect is None:
            return
        self._next_id += 1
        with contextlib.suppress(ConnectionClosed):
            await self._inspect.send(json.dumps({'id': self._next_id, 'do': action, **arguments}))

    async def leave(self) -> None:
        """Close every socket; a long poll still held is abandoned, as a closing tab does."""
        self.stop.set()
        if self._push is not None:
            self._push.close()
        await asyncio.sleep(0.2)  # the closing handshakes and the pollers' last answers
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._push is not None:
            self._push.abort()
            self._collect_push(self._push)
        if self._inspect is not None:
            await self._inspect.close()

    def _spawn(self, lane: str, work: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a lane that fails is reported, the class goes on
                self.log.errors.append(f'{lane}: {type(error).__name__}: {error}')

        self._tasks.append(asyncio.get_running_loop().create_task(guarded()))

    async def _open_inspect(self) -> None:
        url = f'ws://{HOST}:{self.target.echo_port}{self._path("/inspect")}?session={self.log.session}'
        try:
            self._inspect = await asyncio.wait_for(
                connect(url, compression=None, ping_interval=None, additional_headers=self._ws_headers()),
                CONNECT_TIMEOUT_S,
            )
        except InvalidStatus as refused:
            self.log.inspect_error = f'/inspect answered {refused.response.status_code}'
            return
        self._spawn('inspect', self._read_inspect(self._inspect))

    async def _read_inspect(self, connection: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in connection:
                news = json.loads(message)
                if news.get('type') == 'counts':
                    self.log.latest_seq = int(news['latest_seq'])
                elif news.get('type') == 'reply' and not news.get('ok'):
                    self.log.errors.append(f'inspect: {news.get("do")} refused: {news.get("error")}')

    async def _open_push(self) -> None:
        loop = asyncio.get_running_loop()
        port = self.target.echo_port
        _, client = await loop.create_connection(
            lambda: RoutedPushSubscriber(HOST, port, f'{self._path("/push")}?session={self.log.session}', self._route),
            HOST,
            port,
        )
        await asyncio.wait_for(client.opened, CONNECT_TIMEOUT_S)
        self._push = client
        for _ in range(CLOCK_CHECKS):
            client.send_text(json.dumps({'type': 'clock', 'client_sent': now_ms()}))

    def _collect_push(self, client: PushSubscriber) -> None:
        for received_at, payload in client.messages:
            message = json.loads(payload)
            if message.get('type') == 'clock':
                self.log.clock_round_trips_ms.append(received_at - message['client_sent'])
            elif message.get('type') == 'update':
                self.log.push.append((message['seq'], message['made_at'], received_at))

    async def _sse(self, opened: asyncio.Future[None]) -> None:
        port, session = self.target.echo_port, self.log.session
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(
                (
                    f'GET {self._path("/sse")}?session={session} HTTP/1.1\r\nHost: {HOST}:{port}\r\n'
                    + (f'Cookie: {self._route}\r\n' if self._route else '')
                    + f'Accept: text/event-stream\r\nCache-Control: no-cache\r\nOrigin: {self.target.origin}\r\n'
                    f'Referer: {self.target.origin}/demo\r\n\r\n'
                ).encode()
            )
            buffer = b''
            while b'\r\n\r\n' not in buffer:
                chunk = await reader.read(65536)
                if not chunk:
                    raise ConnectionError('the SSE stream closed before its head')
                buffer += chunk
            head, _, buffer = buffer.partition(b'\r\n\r\n')
            if not head.startswith(b'HTTP/1.1 200 '):
                raise RuntimeError(f'/sse refused: {head.splitlines()[0]!r}')
            opened.set_result(None)
            received_at = now_ms()
            while True:
                *events, buffer = buffer.split(b'\n\n')
                for event in events:
                    for line in event.split(b'\n'):
                        if line.startswith(b'data:'):
                            update = json.loads(line[5:])
                            self.log.sse.append((update['seq'], update['made_at'], received_at))
                chunk = await reader.read(65536)
                received_at = now_ms()
                if not chunk:
                    return
                buffer += chunk
        finally:
            if not opened.done():
                opened.set_exception(ConnectionError('the SSE stream did not open'))
            writer.close()

    async def _echo(self) -> None:
        url = f'ws://{HOST}:{self.target.echo_port}{self._path("/echo")}?session={self.log.session}'
        loop = asyncio.get_running_loop()
        async with connect(url, ping_interval=None, additional_headers=self._ws_headers()) as websocket:
            started = loop.time()
            sent = 0
            while not self.stop.is_set():
                text = f'learner {self.log.index} says hello #{sent}'
                sent_at, clock = now_ms(), time.perf_counter()
                await websocket.send(text)
                while await websocket.recv() != text:
                    pass
                self.log.echo.append((sent_at, (time.perf_counter() - clock) * 1000))
                sent += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), started + sent * ECHO_INTERVAL_S - loop.time())
