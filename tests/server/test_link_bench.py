"""``bench --link`` tiny: one simulated page per profile against an echo server in this process and a stand-in page
server (as in test_class_bench.py): the session goes on the link before its lanes open, the delays follow the model,
and the report says so; the whole class can go on one profile too."""

from __future__ import annotations

import pytest

from demos.bench import class_run as class_bench
from demos.bench import link_run
from demos.bench.class_run import run_class
from demos.bench.learner import Target
from demos.bench.link_run import link_targets, links_markdown, measure
from demos.protocol import session_ids

from . import test_class_bench as class_bench_tests
from .conftest import StartServer

demo_html, run_for = class_bench_tests.demo_html, class_bench_tests.run_for
# The class test's fixtures: a stand-in page server, and its short joins and waits.
pages, short_waits = class_bench_tests.pages, class_bench_tests.short_waits


@pytest.fixture(autouse=True)
def short_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(link_run, 'SETTLE_S', 0.5)
    monkeypatch.setattr(link_run, 'WIND_DOWN_S', 1.5)


async def test_a_page_on_a_satellite_link_is_measured_beside_the_model(
    start_server: StartServer, pages: object
) -> None:
    key = session_ids.new_key()
    page_port = await pages(lambda: demo_html(session_ids.issue(key)))  # type: ignore[operator]
    echo = await start_server(session_key=key, allowed_origins=(f'http://127.0.0.1:{page_port}',))
    target = Target(page_port, echo.port)
    runs = [await measure(target, 'same-room', 2.0), await measure(target, 'satellite', 3.0)]

    loopback, satellite = runs
    assert loopback['errors'] == [] and satellite['errors'] == []
    assert satellite['profile']['id'] == 'satellite' and satellite['profile']['rtt_ms'] == 600
    push = satellite['lanes']['push']
    assert push['model_p50_ms'] == pytest.approx(300, abs=1)
    assert push['measured']['p50'] == pytest.approx(push['model_p50_ms'], abs=20)
    assert loopback['lanes']['push']['measured']['p50'] < 20
    assert satellite['lanes']['poll']['measured']['count'] > 0 and satellite['lanes']['poll']['lost'] == 0
    # Bytes per update on a stream: the same frames, only later.
    assert push['bytes_per_update'] == pytest.approx(loopback['lanes']['push']['bytes_per_update'], rel=0.05)
    targets = link_targets(runs)
    assert [t['target'] for t in targets if t['target'].startswith('satellite push')] == [
        'satellite push: |median - model| <= 45 ms',
        'satellite push: wire bytes per JSON byte vs loopback',
    ]
    # Polling's delays spread over a cycle: its p95 and its range say how far.
    poll = satellite['lanes']['poll']
    low, high = poll['model_range_ms']
    assert low < poll['model_p50_ms'] < high < poll['model_p95_ms']
    assert any(t['target'].startswith("satellite poll: median inside the model's 95 % range") for t in targets)
    report = {
        'duration_s': 3.0,
        'poll_interval_ms': 500.0,
        'load_average_before_after': [0.0, 0.0],
        'runs': runs,
        'targets': targets,
    }
    assert '| satellite | push | 300.1 |' in links_markdown(report)
    assert '| 300.1 to 300.1 | 300.1 |' in links_markdown(report)


async def test_a_class_on_one_profile(start_server: StartServer, pages: object) -> None:
    key = session_ids.new_key()
    page_port = await pages(lambda: demo_html(session_ids.issue(key)))  # type: ignore[operator]
    echo = await start_server(session_key=key, allowed_origins=(f'http://127.0.0.1:{page_port}',))
    report = await run_class(run_for(page_port, echo.port), learners=2, duration_s=1.2, page_loads_per_s=2, link='4g')
    assert report['errors'] == [] and report['learners_joined'] == 2
    learners = [session for session in echo.sessions() if session.id != 'default']  # not the echo probe's
    assert len(learners) == 2
    assert all(session.link is not None and session.link.profile.id == '4g' for session in learners)
    assert report['push_delay_ms']['all']['p50'] >= 30 - 1  # half of 4G's 60 ms round trip, on every learner
    assert class_bench.STAGGER_S == 0.3  # the class test's short waits apply here too
