"""``websocket-lesson bench --class N``: a whole class on the app, as the console script starts it.

Each simulated learner makes the traffic of one ``/demo`` page: it loads the page (and takes its demo session id
from the HTML, as the page's own code does), opens the inspection stream and starts its feed there at 5 updates/s,
then runs the four lanes at once (polling every 500 ms, a new TCP connection per poll; long polling that asks again
the moment each answer is in; a Server-Sent Events stream; a push WebSocket with the five clock checks at start)
and sends one echo message a second. Learners join staggered over a couple of seconds, as a class does.

Two phases of ``duration_s`` each: a quiet one, then one with ``/demo`` loaded ``page_loads_per_s`` times a second by
newcomers that never connect their socket.io (a page load the benchmark does not finish, as a crowd of refreshes
does). The report: the app's CPU (process and children, from /proc) per learner and in total, push and SSE delay
(the update's ``made_at`` on the server clock against this process's clock: one machine, one clock), lost updates
(gaps in ``seq``), echo round trips in each phase, ``/demo`` render time (request to the last byte of the body) and
the app's resident memory. Everything stays on 127.0.0.1 and is bounded in count and time.

An app without the inspection stream (the design before the echo server had its own process) is measured as far
as it can be: its feeds are started by its pages' Python code, so the lanes stay empty and the report says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from demos.bench.app_under_test import AppUnderTest
from demos.bench.command import HOST, PushSubscriber, Received, app_loop_factory, dechunk, now_ms, poll, target
from demos.bench.echo_probe import EchoProbe, ProbeSample
from demos.bench.proc_stats import process_tree
from demos.protocol.metrics import summarize

#: The demo page's settings a learner picks: polling every 500 ms, 5 updates a second.
POLL_INTERVAL_S = 0.5
RATE_PER_S = 5.0
#: Clock questions a page's push lane asks when it opens.
CLOCK_CHECKS = 5
ECHO_INTERVAL_S = 1.0
#: Seconds over which the whole class joins.
STAGGER_S = 2.0
#: Seconds after the last learner joined before the first phase is measured, and of the idle baseline.
SETTLE_S = 1.0
IDLE_S = 2.0
#: Seconds after the feeds stop for the last update to reach every lane (a poller asks every 500 ms).
WIND_DOWN_S = 1.5
#: Page loads in flight at most; beyond, a load is skipped and counted (the benchmark must not queue without end).
MAX_PAGE_LOADS_IN_FLIGHT = 50
PAGE_LOAD_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 30.0
#: Errors kept in the report (the first ones; the rest are counted).
ERRORS_KEPT = 20

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
    counts_messages: int = 0
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
                    self.log.counts_messages += 1
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


@dataclass
class Phase:
    name: str
    started_ms: float = 0.0
    ended_ms: float = 0.0
    app_cpu_s: float = 0.0
    bench_cpu_s: float = 0.0

    @property
    def wall_s(self) -> float:
        return (self.ended_ms - self.started_ms) / 1000

    def holds(self, at_ms: float) -> bool:
        return self.started_ms <= at_ms < self.ended_ms


class PhaseClock:
    """Measures a phase: wall time, the app's CPU time (its whole process tree) and this process's."""

    def __init__(self, app_cpu_seconds: Callable[[], float]) -> None:
        self.app_cpu_seconds = app_cpu_seconds

    @contextlib.asynccontextmanager
    async def measure(self, phase: Phase) -> Any:
        app_before, bench_before = self.app_cpu_seconds(), time.process_time()
        phase.started_ms = now_ms()
        try:
            yield phase
        finally:
            phase.ended_ms = now_ms()
            phase.app_cpu_s = self.app_cpu_seconds() - app_before
            phase.bench_cpu_s = time.process_time() - bench_before


@dataclass
class PageLoads:
    """The newcomers' page loads of the second phase."""

    timings_ms: list[float] = field(default_factory=list)
    html_bytes: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: int = 0


async def load_pages(port: int, per_s: float, duration_s: float, loads: PageLoads) -> None:
    """Start a ``/demo`` load every ``1 / per_s`` seconds for ``duration_s`` (an open loop: a slow answer does not
    slow the arrivals), at most :data:`MAX_PAGE_LOADS_IN_FLIGHT` at once."""
    loop = asyncio.get_running_loop()
    in_flight: set[asyncio.Task[None]] = set()

    async def one() -> None:
        try:
            page = await asyncio.wait_for(load_page(port), PAGE_LOAD_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            loads.failed.append(f'{type(error).__name__}: {error}')
            return
        if page.status != 200:
            loads.failed.append(f'HTTP {page.status}')
            return
        loads.timings_ms.append(page.elapsed_ms)
        loads.html_bytes.append(len(page.html.encode()))

    started = loop.time()
    count = int(per_s * duration_s)
    for k in range(count):
        await asyncio.sleep(max(0.0, started + k / per_s - loop.time()))
        if len(in_flight) >= MAX_PAGE_LOADS_IN_FLIGHT:
            loads.skipped += 1
            continue
        task = loop.create_task(one())
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.sleep(max(0.0, started + duration_s - loop.time()))
    if in_flight:
        await asyncio.wait(in_flight, timeout=PAGE_LOAD_TIMEOUT_S)


async def sample_rss(read_rss: Callable[[], int], stop: asyncio.Event, peaks: list[int]) -> None:
    """The app's resident memory, once a second until ``stop``; its peak is what a teacher's laptop must hold."""
    while not stop.is_set():
        peaks.append(read_rss())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


@dataclass
class ClassRun:
    """What a class run needs from the app: where it is, and how to read its CPU time and memory."""

    target: Target
    app_cpu_seconds: Callable[[], float]
    app_rss_kib: Callable[[], int]


async def run_class(run: ClassRun, learners: int, duration_s: float, page_loads_per_s: float) -> dict[str, Any]:
    """Join ``learners`` learners, measure a quiet phase and one with page loads, and report."""
    clock = PhaseClock(run.app_cpu_seconds)
    rss: dict[str, int] = {}
    idle = Phase('idle')
    async with clock.measure(idle):
        await asyncio.sleep(IDLE_S)
    rss['idle'] = run.app_rss_kib()

    class_ = [Learner(i, run.target) for i in range(learners)]
    join_errors: list[str] = []

    async def join(learner: Learner, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        try:
            await learner.join()
        except Exception as error:  # one learner that cannot join is reported; the others go on
            join_errors.append(f'learner {learner.log.index} could not join: {type(error).__name__}: {error}')

    stagger = STAGGER_S if learners > 1 else 0.0
    await asyncio.gather(*(join(learner, stagger * i / learners) for i, learner in enumerate(class_)))
    await asyncio.sleep(SETTLE_S)
    rss['class_joined'] = run.app_rss_kib()
    # Timed from a process of its own: the learners' event loop here would add its own queueing to every round trip.
    echo_url = f'ws://{HOST}:{run.target.echo_port}{run.target.echo_prefix}/echo'
    probe = EchoProbe(echo_url, duration_s=2 * duration_s + 1.0)
    probe.start()

    quiet = Phase('quiet')
    async with clock.measure(quiet):
        await asyncio.sleep(duration_s)
    rss['after_quiet'] = run.app_rss_kib()

    loads = PageLoads()
    with_loads = Phase('page_loads')
    peaks: list[int] = []
    stop_sampling = asyncio.Event()
    sampler = asyncio.get_running_loop().create_task(sample_rss(run.app_rss_kib, stop_sampling, peaks))
    async with clock.measure(with_loads):
        await load_pages(run.target.page_port, page_loads_per_s, duration_s, loads)
    stop_sampling.set()
    await sampler
    rss['page_loads_peak'] = max(peaks, default=run.app_rss_kib())

    for learner in class_:
        await learner.command('stop')
    await asyncio.sleep(WIND_DOWN_S)
    await asyncio.gather(*(learner.leave() for learner in class_))
    probe_samples: list[ProbeSample] = []
    try:
        probe_samples = await asyncio.to_thread(probe.finish)
    except (TimeoutError, EOFError, OSError) as error:
        join_errors.append(f'the echo probe failed: {type(error).__name__}: {error}')
    report = class_report(
        [learner.log for learner in class_],
        join_errors,
        (idle, quiet, with_loads),
        loads,
        rss,
        learners=learners,
        duration_s=duration_s,
        page_loads_per_s=page_loads_per_s,
    )
    report['echo_probe_rtt_ms'] = {
        'quiet': _summary([s.round_trip_ms for s in probe_samples if quiet.holds(s.sent_at_ms)]),
        'page_loads': _summary([s.round_trip_ms for s in probe_samples if with_loads.holds(s.sent_at_ms)]),
    }
    report['targets'] = class_targets(report)
    return report


def _summary(values: Sequence[float]) -> dict[str, float] | None:
    summary = summarize(values)
    return summary.as_dict() if summary else None


def _delays(logs: Sequence[LearnerLog], lane: str, phase: Phase | None) -> list[float]:
    return [
        received_at - made_at
        for log in logs
        for _seq, made_at, received_at in getattr(log, lane)
        if phase is None or phase.holds(received_at)
    ]


def _percent(cpu_s: float, wall_s: float) -> float | None:
    return cpu_s / wall_s * 100 if wall_s > 0 else None


def class_report(
    logs: Sequence[LearnerLog],
    join_errors: Sequence[str],
    phases: tuple[Phase, Phase, Phase],
    loads: PageLoads,
    rss: dict[str, int],
    *,
    learners: int,
    duration_s: float,
    page_loads_per_s: float,
) -> dict[str, Any]:
    """The figures of a class run, as plain data (JSON-ready). Pure: everything measured is passed in."""
    idle, quiet, with_loads = phases
    joined = [log for log in logs if log.session and log.page_load is not None]
    inspect_errors = sorted({log.inspect_error for log in joined if log.inspect_error})
    feed_started = bool(joined) and not inspect_errors
    notes: list[str] = []
    if inspect_errors:
        notes.append(
            f"no inspection stream ({', '.join(inspect_errors)}): this app starts a feed from its page's "
            'Python code, which a simulated learner cannot run, so the lanes carried no updates; '
            'push/SSE delay and lost updates are not measured, and CPU per learner is that of idle lanes '
            '(polls, held long polls, open sockets and echo) only'
        )
    sources = sorted({log.session_source for log in joined})
    if 'invented' in sources:
        notes.append(
            'the page embeds no signed session id: the learners used ids of their own (this app accepts any id)'
        )

    idle_percent = _percent(idle.app_cpu_s, idle.wall_s)
    quiet_percent = _percent(quiet.app_cpu_s, quiet.wall_s)
    loads_percent = _percent(with_loads.app_cpu_s, with_loads.wall_s)
    per_learner = quiet_percent / len(joined) if quiet_percent is not None and joined else None
    above_idle = (
        (quiet_percent - idle_percent) / len(joined)
        if quiet_percent is not None and idle_percent is not None and joined
        else None
    )

    lost: dict[str, int] | None = None
    made = sum(log.made() for log in joined)
    if feed_started:
        lost = {
            lane: sum(
                log.lost(getattr(log, lane) if lane in ('push', 'sse') else getattr(log, lane).samples)
                for log in joined
            )
            for lane in ('push', 'sse', 'poll', 'longpoll')
        }
        lost['push_and_sse'] = lost['push'] + lost['sse']

    errors = [*join_errors, *(f'learner {log.index}: {error}' for log in logs for error in log.errors)]
    report: dict[str, Any] = {
        'learners': learners,
        'learners_joined': len(joined),
        'duration_s': duration_s,
        'page_loads_per_s': page_loads_per_s,
        'rate_per_s': RATE_PER_S,
        'poll_interval_ms': POLL_INTERVAL_S * 1000,
        'session_ids': sources[0] if len(sources) == 1 else ('mixed' if sources else None),
        'inspect': 'unavailable' if inspect_errors else ('available' if joined else None),
        'feed_started': feed_started,
        'notes': notes,
        'cpu_percent': {
            'idle': idle_percent,
            'quiet': quiet_percent,
            'page_loads': loads_percent,
            'per_learner': per_learner,
            'per_learner_above_idle': above_idle,
            'bench_client_quiet': _percent(quiet.bench_cpu_s, quiet.wall_s),
            'bench_client_page_loads': _percent(with_loads.bench_cpu_s, with_loads.wall_s),
        },
        'updates_made': made,
        'lost_updates': lost,
        'push_delay_ms': {
            'quiet': _summary(_delays(joined, 'push', quiet)),
            'page_loads': _summary(_delays(joined, 'push', with_loads)),
            'all': _summary(_delays(joined, 'push', None)),
        }
        if feed_started
        else None,
        'sse_delay_ms': {
            'quiet': _summary(_delays(joined, 'sse', quiet)),
            'page_loads': _summary(_delays(joined, 'sse', with_loads)),
            'all': _summary(_delays(joined, 'sse', None)),
        }
        if feed_started
        else None,
        'clock_round_trip_ms': _summary([rtt for log in joined for rtt in log.clock_round_trips_ms]),
        'polls': sum(log.poll.requests for log in joined),
        'long_polls': sum(log.longpoll.requests for log in joined),
        'echo_rtt_ms': {
            'quiet': _summary([rtt for log in joined for sent, rtt in log.echo if quiet.holds(sent)]),
            'page_loads': _summary([rtt for log in joined for sent, rtt in log.echo if with_loads.holds(sent)]),
        },
        'render_ms': {
            'page_loads': _summary(loads.timings_ms),
            'learner_joins': _summary([log.page_load.elapsed_ms for log in joined if log.page_load]),
        },
        'page_loads': {
            'made': len(loads.timings_ms),
            'failed': len(loads.failed),
            'skipped': loads.skipped,
            'html_bytes_median': statistics.median(loads.html_bytes) if loads.html_bytes else None,
            'failures': loads.failed[:ERRORS_KEPT],
        },
        'rss_kib': rss,
        # behind a proxy: how many learners each instance got (the routing cookie of their page load)
        'routes': dict(Counter(log.page_load.route for log in joined if log.page_load and log.page_load.route)),
        'errors': errors[:ERRORS_KEPT],
        'errors_total': len(errors),
    }
    report['targets'] = class_targets(report)
    return report


def class_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 10's targets that a simulated class measures (the per-learner CPU with a real page is the browser
    variant's: ``benchmarks/class_browser.py``)."""
    n = report['learners']
    targets: list[dict[str, Any]] = []
    cpu = report['cpu_percent']
    if cpu['quiet'] is not None and report['feed_started']:  # idle lanes would meet it without showing anything
        targets.append(
            target(f'app processes together <= 100 % of one core ({n} learners)', cpu['quiet'], 100.0, unit='%')
        )
    delay = (report['push_delay_ms'] or {}).get('quiet')
    if delay:
        targets.append(target(f'push delay p95 <= 20 ms ({n} learners)', delay['p95'], 20.0))
    if report['lost_updates'] is not None:
        targets.append(
            target('lost updates = 0 (push and SSE)', report['lost_updates']['push_and_sse'], 0, unit='updates')
        )
    echo = (report.get('echo_probe_rtt_ms') or report['echo_rtt_ms'])['page_loads']
    if echo:
        targets.append(
            target(
                f'echo round trip p99 <= 10 ms while /demo loads {report["page_loads_per_s"]:g}/s', echo['p99'], 10.0
            )
        )
    render = report['render_ms']['page_loads']
    if render:
        targets.append(target('/demo render median <= 50 ms (request to last byte)', render['p50'], 50.0))
    return targets


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:
        return 'n/a'
    return f'{value:,.{digits}f}'


def _pcts(summary: dict[str, float] | None, *keys: str) -> str:
    return ' / '.join(_fmt((summary or {}).get(key), 1) for key in keys)


def class_markdown(report: dict[str, Any]) -> str:
    cpu, rss = report['cpu_percent'], report['rss_kib']
    push = report['push_delay_ms'] or {}
    sse = report['sse_delay_ms'] or {}
    echo, render = report['echo_rtt_ms'], report['render_ms']
    probe = report.get('echo_probe_rtt_ms') or {}
    lost = report['lost_updates']
    lost_text = (
        f'{lost["push"]} push, {lost["sse"]} SSE, {lost["poll"]} poll, {lost["longpoll"]} long poll'
        if lost is not None
        else 'not measured (no feed)'
    )
    lines = [
        f'## A class of {report["learners"]} on the app ({report["learners_joined"]} joined; '
        f'{report["rate_per_s"]:g} updates/s, polling every {report["poll_interval_ms"]:g} ms, '
        f'{report["duration_s"]:g} s per phase)',
        '',
        f'Machine: {report.get("machine", {}).get("cpus", "?")} CPUs, load average (1 min) '
        f'{_fmt(report.get("machine", {}).get("load_avg_1m_before"), 2)} before and '
        f'{_fmt(report.get("machine", {}).get("load_avg_1m_after"), 2)} after the run. '
        f'App: `{report.get("app", {}).get("command", "?")}`. '
        f'Session ids: {report["session_ids"]}; inspection stream: {report["inspect"]}.',
        '',
        f'| measure | quiet | with /demo loads at {report["page_loads_per_s"]:g}/s |',
        '| --- | ---: | ---: |',
        f'| app CPU, % of one core (idle before the class: {_fmt(cpu["idle"])}) | {_fmt(cpu["quiet"])} '
        f'| {_fmt(cpu["page_loads"])} |',
        f'| app CPU per learner, % of one core (above idle: {_fmt(cpu["per_learner_above_idle"], 2)}) '
        f'| {_fmt(cpu["per_learner"], 2)} | |',
        f'| push delay p50 / p95 / p99, ms | {_pcts(push.get("quiet"), "p50", "p95", "p99")} '
        f'| {_pcts(push.get("page_loads"), "p50", "p95", "p99")} |',
        f'| SSE delay p50 / p95 / p99, ms | {_pcts(sse.get("quiet"), "p50", "p95", "p99")} '
        f'| {_pcts(sse.get("page_loads"), "p50", "p95", "p99")} |',
        f"| echo round trip p50 / p99, ms, the learners' own (one a second each) "
        f'| {_pcts(echo["quiet"], "p50", "p99")} | {_pcts(echo["page_loads"], "p50", "p99")} |',
        f'| echo round trip p50 / p99, ms, a probe in a process of its own (20 a second) '
        f'| {_pcts(probe.get("quiet"), "p50", "p99")} | {_pcts(probe.get("page_loads"), "p50", "p99")} |',
        f'| /demo render median / p95, ms (request to last byte) | {_pcts(render["learner_joins"], "p50", "p95")} '
        f"(the learners' own loads) | {_pcts(render['page_loads'], 'p50', 'p95')} |",
        f'| app RSS, MiB (idle before the class: {_fmt(rss["idle"] / 1024)}) | {_fmt(rss["after_quiet"] / 1024)} '
        f'| {_fmt(rss["page_loads_peak"] / 1024)} (peak) |',
        f"| this benchmark's own CPU, % of one core | {_fmt(cpu['bench_client_quiet'])} "
        f'| {_fmt(cpu["bench_client_page_loads"])} |',
        '',
        f'Updates made: {report["updates_made"]:,}; lost: {lost_text}. Polls: {report["polls"]:,}; long polls: '
        f'{report["long_polls"]:,}. Page loads: {report["page_loads"]["made"]} answered, '
        f'{report["page_loads"]["failed"]} failed, {report["page_loads"]["skipped"]} skipped (over '
        f'{MAX_PAGE_LOADS_IN_FLIGHT} in flight); HTML {_fmt((report["page_loads"]["html_bytes_median"] or 0) / 1024)}'
        ' KiB.',
    ]
    for note in report['notes']:
        lines += ['', f'Note: {note}.']
    if report['errors_total']:
        lines += [
            '',
            f'Errors ({report["errors_total"]}, first {min(ERRORS_KEPT, report["errors_total"])}):',
            *(f'- {error}' for error in report['errors']),
        ]
    lines += ['', '## Targets (reported, not enforced)', '', '| target | measured | met |', '| --- | ---: | :---: |']
    for t in report['targets']:
        lines.append(f'| {t["target"]} | {_fmt(t["measured"], 2)} {t["unit"]} | {"yes" if t["met"] else "NO"} |')
    return '\n'.join(lines)


def run_against_app(
    app_command: str | None, learners: int, duration_s: float, page_loads_per_s: float
) -> dict[str, Any]:
    """Start the app (``app_command``, else the console script next to this Python), run the class, stop the app."""
    load_before = os.getloadavg()
    with AppUnderTest(app_command) as app:
        run = ClassRun(Target(app.port, app.echo_port), app.cpu_seconds, app.rss_kib)
        with asyncio.Runner(loop_factory=app_loop_factory()) as runner:
            report = runner.run(run_class(run, learners, duration_s, page_loads_per_s))
        report['app'] = {
            'command': app.command,
            'started_in_s': app.started_in_s,
            'processes': len(list(process_tree(app.pid))),
        }
    # Other work on the machine shows in every delay and render time: the load averages say how much there was.
    report['machine'] = {
        'cpus': os.cpu_count(),
        'python': sys.version.split()[0],
        'load_avg_1m_before': load_before[0],
        'load_avg_1m_after': os.getloadavg()[0],
    }
    return report
