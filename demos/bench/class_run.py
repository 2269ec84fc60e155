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
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from demos.bench.app_under_test import AppUnderTest
from demos.bench.class_report import class_report, class_targets, summary_dict
from demos.bench.clients import HOST
from demos.bench.echo_probe import EchoProbe, ProbeSample
from demos.bench.learner import Learner, Target
from demos.bench.link_run import LinkedLearner
from demos.bench.phases import PageLoads, Phase, PhaseClock, load_pages, sample_rss
from demos.bench.proc_stats import process_tree
from demos.server.echo_process import loop_factory

#: Seconds over which the whole class joins.
STAGGER_S = 2.0
#: Seconds after the last learner joined before the first phase is measured, and of the idle baseline.
SETTLE_S = 1.0
IDLE_S = 2.0
#: Seconds after the feeds stop for the last update to reach every lane (a poller asks every 500 ms).
WIND_DOWN_S = 1.5


@dataclass
class ClassRun:
    """What a class run needs from the app: where it is, and how to read its CPU time and memory."""

    target: Target
    app_cpu_seconds: Callable[[], float]
    app_rss_kib: Callable[[], int]


async def run_class(
    run: ClassRun, learners: int, duration_s: float, page_loads_per_s: float, link: str | None = None
) -> dict[str, Any]:
    """Join ``learners`` learners, measure a quiet phase and one with page loads, and report."""
    clock = PhaseClock(run.app_cpu_seconds)
    rss: dict[str, int] = {}
    idle = Phase('idle')
    async with clock.measure(idle):
        await asyncio.sleep(IDLE_S)
    rss['idle'] = run.app_rss_kib()
    # With a link profile, each learner's page puts its session on it before its lanes open (bench --link).
    class_ = [Learner(i, run.target) if link is None else LinkedLearner(i, run.target, link) for i in range(learners)]
    join_errors = await _join(class_)
    await asyncio.sleep(SETTLE_S)
    rss['class_joined'] = run.app_rss_kib()
    # Timed from a process of its own: the learners' event loop here would add its own queueing to every round trip.
    probe = EchoProbe(f'ws://{HOST}:{run.target.echo_port}{run.target.echo_prefix}/echo', duration_s=2 * duration_s + 1)
    probe.start()
    quiet = Phase('quiet')
    async with clock.measure(quiet):
        await asyncio.sleep(duration_s)
    rss['after_quiet'] = run.app_rss_kib()
    loads, with_loads = PageLoads(), Phase('page_loads')
    rss['page_loads_peak'] = await _with_page_loads(run, clock, with_loads, loads, page_loads_per_s, duration_s)
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
        'quiet': summary_dict([s.round_trip_ms for s in probe_samples if quiet.holds(s.sent_at_ms)]),
        'page_loads': summary_dict([s.round_trip_ms for s in probe_samples if with_loads.holds(s.sent_at_ms)]),
    }
    report['targets'] = class_targets(report)
    return report


async def _join(class_: list[Learner]) -> list[str]:
    """Join the learners staggered over :data:`STAGGER_S`, as a class arrives; why those that could not failed."""
    join_errors: list[str] = []

    async def join(learner: Learner, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        try:
            await learner.join()
        except Exception as error:  # one learner that cannot join is reported; the others go on
            join_errors.append(f'learner {learner.log.index} could not join: {type(error).__name__}: {error}')

    stagger = STAGGER_S if len(class_) > 1 else 0.0
    await asyncio.gather(*(join(learner, stagger * i / len(class_)) for i, learner in enumerate(class_)))
    return join_errors


async def _with_page_loads(
    run: ClassRun, clock: PhaseClock, phase: Phase, loads: PageLoads, per_s: float, duration_s: float
) -> int:
    """Measure ``phase`` while newcomers load ``/demo`` ``per_s`` times a second; the app's peak memory, KiB."""
    peaks: list[int] = []
    stop_sampling = asyncio.Event()
    sampler = asyncio.get_running_loop().create_task(sample_rss(run.app_rss_kib, stop_sampling, peaks))
    async with clock.measure(phase):
        await load_pages(run.target.page_port, per_s, duration_s, loads)
    stop_sampling.set()
    await sampler
    return max(peaks, default=run.app_rss_kib())


def run_against_app(
    app_command: str | None, learners: int, duration_s: float, page_loads_per_s: float, link: str | None = None
) -> dict[str, Any]:
    """Start the app (``app_command``, else the console script next to this Python), run the class, stop the app."""
    load_before = os.getloadavg()
    with AppUnderTest(app_command) as app:
        run = ClassRun(Target(app.port, app.echo_port), app.cpu_seconds, app.rss_kib)
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            report = runner.run(run_class(run, learners, duration_s, page_loads_per_s, link))
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
