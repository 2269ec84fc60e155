"""The class benchmark's learners against an echo server in this process and a stand-in page server.

The stand-in serves ``/demo`` as the app does for what the benchmark reads of it: an HTML page whose panels' props
carry a session id the echo server accepts (signed with the same key). The run against the real app, through its
console script, is in tests/cli/test_class_bench_cli.py.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable

import pytest

from demos.bench import class_run as class_bench
from demos.bench.class_report import class_markdown
from demos.bench.class_run import ClassRun, run_class
from demos.bench.clients import dechunk
from demos.bench.learner import CLOCK_CHECKS, Target, session_id_in
from demos.bench.proc_stats import tree_cpu_seconds, tree_rss_kib
from demos.protocol import session_ids
from demos.server import echo_server

from .conftest import StartServer


def demo_html(session: str | None) -> str:
    props = json.dumps({'setup': {'session': session, 'lanes': ['poll', 'longpoll', 'sse', 'push']}})
    return f'<!doctype html><html><body><div id="app" data-props=\'{props}\'></div>{"x" * 2000}</body></html>'


async def serve_pages(make_html: Callable[[], str]) -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b'\r\n\r\n')
        body = make_html().encode()
        writer.write(
            b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n'
            b'Content-Length: %d\r\n\r\n%s' % (len(body), body)
        )
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, '127.0.0.1', 0)


@pytest.fixture(autouse=True)
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    # The class joins, settles and winds down in fractions of a second here; the phases are what is measured.
    monkeypatch.setattr(class_bench, 'IDLE_S', 0.2)
    monkeypatch.setattr(class_bench, 'STAGGER_S', 0.3)
    monkeypatch.setattr(class_bench, 'SETTLE_S', 0.3)
    monkeypatch.setattr(class_bench, 'WIND_DOWN_S', 1.0)


@pytest.fixture
async def pages() -> AsyncIterator[Callable[[Callable[[], str]], asyncio.Future[int]]]:
    servers: list[asyncio.Server] = []

    async def start(make_html: Callable[[], str]) -> int:
        server = await serve_pages(make_html)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()
        await server.wait_closed()


def run_for(page_port: int, echo_port: int) -> ClassRun:
    pid = os.getpid()
    return ClassRun(Target(page_port, echo_port), lambda: tree_cpu_seconds(pid), lambda: tree_rss_kib(pid))


def test_the_session_id_is_read_from_the_page_props() -> None:
    key = session_ids.new_key()
    issued = session_ids.issue(key)
    assert session_id_in(demo_html(issued)) == issued
    assert session_id_in(demo_html(issued).replace('"', '&quot;')) == issued  # escaped in an attribute
    assert session_id_in(demo_html(None)) is None
    assert session_id_in('<script src="/_nicegui/3.18.0/esm/d3df0c9875a0ff5e1d16485a16848c30/index.js">') is None


def test_a_chunked_body_is_joined() -> None:
    assert dechunk(b'5\r\nhello\r\n6;x=1\r\n world\r\n0\r\n\r\n') == b'hello world'


async def test_a_tiny_class_gets_every_update(start_server: StartServer, pages: object) -> None:
    key = session_ids.new_key()
    page_port = await pages(lambda: demo_html(session_ids.issue(key)))  # type: ignore[operator]
    echo = await start_server(session_key=key, allowed_origins=(f'http://127.0.0.1:{page_port}',))
    report = await run_class(run_for(page_port, echo.port), learners=2, duration_s=1.2, page_loads_per_s=5)

    assert report['errors'] == [] and report['learners_joined'] == 2
    assert report['session_ids'] == 'page' and report['inspect'] == 'available' and report['feed_started']
    assert report['updates_made'] > 0
    assert report['lost_updates'] == {'push': 0, 'sse': 0, 'poll': 0, 'longpoll': 0, 'push_and_sse': 0}
    assert report['push_delay_ms']['all']['count'] == report['updates_made']  # each learner's, once on push
    assert report['sse_delay_ms']['all']['count'] == report['updates_made']
    assert report['clock_round_trip_ms']['count'] == 2 * CLOCK_CHECKS
    assert report['polls'] > 0 and report['long_polls'] > 0
    assert report['echo_rtt_ms']['quiet']['count'] >= 2 and report['echo_rtt_ms']['page_loads']['count'] >= 2
    assert report['page_loads']['made'] == 6 and report['page_loads']['failed'] == 0
    assert report['render_ms']['page_loads']['count'] == 6
    assert report['cpu_percent']['quiet'] > 0 and report['cpu_percent']['per_learner'] > 0
    assert report['rss_kib']['page_loads_peak'] > 0
    names = [t['target'] for t in report['targets']]
    assert any('lost updates' in name for name in names) and any('push delay p95' in name for name in names)
    # The server's sessions started by the learners' own /inspect commands, and stopped by them.
    assert all(not session.running for session in echo.sessions())
    markdown = class_markdown(report | {'machine': {'cpus': 2}, 'app': {'command': 'in-process'}})
    assert '| push delay p50 / p95 / p99, ms |' in markdown and 'lost: 0 push, 0 SSE' in markdown


async def test_an_app_without_the_inspection_stream_is_measured_as_far_as_it_can_be(
    start_server: StartServer, pages: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app before the rebuild: no /inspect (unknown path, 404), any session id, no id in the page.
    monkeypatch.setattr(echo_server, 'WEBSOCKET_PATHS', {'/echo': 'echo', '/push': 'push'})
    page_port = await pages(lambda: demo_html(None))  # type: ignore[operator]
    echo = await start_server(allowed_origins=(f'http://127.0.0.1:{page_port}',))
    report = await run_class(run_for(page_port, echo.port), learners=2, duration_s=1.0, page_loads_per_s=3)

    assert report['learners_joined'] == 2 and report['session_ids'] == 'invented'
    assert report['inspect'] == 'unavailable' and not report['feed_started']
    assert report['lost_updates'] is None and report['push_delay_ms'] is None
    assert report['echo_rtt_ms']['quiet']['count'] >= 2 and report['render_ms']['page_loads']['count'] == 3
    assert any('no inspection stream (/inspect answered 404)' in note for note in report['notes'])
    markdown = class_markdown(report)
    assert 'not measured (no feed)' in markdown and 'Note: no inspection stream' in markdown
