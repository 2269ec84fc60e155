"""The benchmark runs, tiny: its report has the promised shape, and a healthy load loses nothing."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from demos.bench import command as bench
from demos.bench.clients import Received, subscribe

from .clients import eventually
from .conftest import StartServer

BENCHMARKS = Path(__file__).resolve().parents[2] / 'benchmarks'


def run_bench(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert bench.main([*argv, '--json']) == 0
    return json.loads(capsys.readouterr().out)


def test_a_tiny_comparison_reports_every_cell(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_bench(['--clients', '3', '--intervals', '200', '--duration', '1', '--rate', '20'], capsys)
    lanes = [(cell['lane'], cell['clients'], cell['interval_ms']) for cell in report['cells']]
    assert lanes == [('push', 3, None), ('poll', 3, 200)]
    push, poll = report['cells']
    assert push['updates_received'] == 3 * push['updates_made'] > 0
    assert push['requests_or_frames_per_update'] == 1.0
    assert push['framing_bytes_per_frame'] == pytest.approx(2.0)
    assert poll['header_bytes_per_poll'] > 300  # a browser-like request and its answer's headers
    assert poll['delay_ms']['p50'] > push['delay_ms']['p50']
    assert [row['clients'] for row in report['scalability_2010']] == [1_000, 10_000, 100_000]
    assert report['scalability_2010'][0]['paper_2010_polling_mbps'] == pytest.approx(6.645, abs=0.001)
    assert all({'target', 'measured', 'limit', 'met'} <= set(t) for t in report['targets'])


def test_the_comparison_prints_markdown_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(['--clients', '2', '--intervals', '500', '--duration', '0.5']) == 0
    out = capsys.readouterr().out
    assert '| lane | clients |' in out and '| 100,000 |' in out and '## Targets' in out


def test_a_tiny_load_run_loses_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_bench(
        ['--load', '--clients', '50', '--duration', '2', '--echo-clients', '2', '--echo-duration', '0.5'], capsys
    )
    assert report['subscribers'] == 50 and report['updates_made'] > 0
    assert report['lost_updates'] == 0 and report['dropped_slow'] == 0
    assert report['updates_received'] == report['updates_expected']
    assert set(report['delay_ms']) >= {'p50', 'p95', 'p99'}
    assert report['rss_per_connection_kib'] > 0
    for server in ('embedded', 'bare_websockets'):
        assert report['echo'][server]['round_trips'] > 0
    assert report['echo']['throughput_ratio'] > 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(SystemExit):
        bench.main(['--clients', 'many'])
    assert bench.main(['--clients', '100000']) == 2


def test_a_tiny_class_on_the_real_app_loses_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # The app through its console script (a child process with the echo server as its own child), two learners.
    report = run_bench(['--class', '2', '--duration', '2', '--page-loads-per-s', '3'], capsys)
    assert report['errors'] == [] and report['learners_joined'] == 2
    assert report['session_ids'] == 'page' and report['inspect'] == 'available' and report['feed_started']
    assert report['updates_made'] > 0 and report['lost_updates']['push_and_sse'] == 0
    assert report['lost_updates']['poll'] == report['lost_updates']['longpoll'] == 0
    assert report['app']['processes'] >= 2  # the page server and its echo server process, both measured
    for figure in ('quiet', 'page_loads', 'per_learner', 'idle'):
        assert report['cpu_percent'][figure] is not None
    assert set(report['push_delay_ms']['quiet']) >= {'p50', 'p95', 'p99'}
    assert report['echo_rtt_ms']['quiet']['count'] > 0 and report['echo_rtt_ms']['page_loads']['count'] > 0
    assert report['render_ms']['page_loads']['count'] == report['page_loads']['made'] == 6
    assert report['rss_kib']['page_loads_peak'] >= report['rss_kib']['idle'] > 0


def test_class_arguments_are_checked() -> None:
    assert bench.main(['--class', '0']) == 2
    assert bench.main(['--class', '2', '--load']) == 2
    assert bench.main(['--class', '2', '--app-command', '/nonexistent/websocket-lesson']) == 2


async def test_push_framing_is_the_update_frames_headers_only(start_server: StartServer) -> None:
    """framing_bytes_per_frame is measured from the frames that carried updates: the handshake, the keepalive's pings
    and pongs and the closing frames, all on the lane's wire, are not in it."""
    server = await start_server(ping_interval_s=0.05)
    session = server.session('framing')
    received, stop, ready = Received(), asyncio.Event(), asyncio.Event()
    subscriber = asyncio.create_task(subscribe(server.port, 'framing', received, stop, ready))
    await asyncio.wait_for(ready.wait(), 5)
    lane = session.lanes['push']
    pongs_before = lane.bytes_in
    session.start(50)
    await eventually(lambda: lane.updates_out >= 10 and lane.bytes_in > pongs_before)  # pings answered meanwhile
    session.stop()
    stop.set()
    await asyncio.wait_for(subscriber, 10)
    assert received.frames == len(received.samples) == lane.updates_out
    assert received.framing_bytes == 2 * received.frames  # a server's frame of a small update: 2 header bytes
    framing_on_the_wire = lane.bytes_in + lane.bytes_out - received.payload_bytes
    assert framing_on_the_wire > received.framing_bytes + 200  # handshake, pings, pongs and close, left out


@pytest.mark.parametrize('script', sorted(p.name for p in BENCHMARKS.glob('*.py')))
def test_every_benchmark_script_runs_as_a_command(script: str) -> None:
    """Each script in benchmarks/ starts as the README shows (``python benchmarks/NAME.py``): its imports resolve."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), '--help'], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.startswith('usage:'), done.stderr
