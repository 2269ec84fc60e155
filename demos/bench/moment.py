"""``websocket-lesson bench --moment N``: the teacher says "submit now", and N learners do, within one window.

The app is started by its console script (any installed copy: ``--app-command``, e.g. an older commit's venv, for a
before/after comparison). A scripted teacher opens the board (``/teacher``) and starts a class; N scripted students,
each its own cookie jar, join it on ``/join`` (a nickname, then the button) and open ``/quiz``, 10 at a time; they
choose an answer to every question; then each presses Submit at a random moment of one window (default 100 ms). No
browser: plain HTTP (httpx) and the socket.io protocol NiceGUI's page speaks (:mod:`demos.bench.page_client`).

The report: each student's join (``/join`` loaded, joined, ``/quiz`` loaded and connected) p50/p95 and the whole
class's; each student's time from pressing Submit to the message that carries their graded result (p50/p95/max);
results delivered of N; socket disconnects; the board's time to show "Submitted: N" after the last submit; the app's
CPU (its process tree) per submit over the moment; its resident memory per joined learner; the machine's load
average. Everything stays on 127.0.0.1 and is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import secrets
import ssl
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx

from demos.bench.app_under_test import AppCommandMissing, AppUnderTest
from demos.bench.page_client import PageError, PageTab

T = TypeVar('T')

JOIN_CONCURRENCY = 10
#: Students that may fail to join before the others are not tried: a refused join waits out STEP_TIMEOUT_S.
MAX_JOIN_FAILURES = 10
#: Seconds a step may take before the student counts as failed (a bound on the whole run, not a target).
STEP_TIMEOUT_S = 60.0
#: How the pages say what the benchmark waits for. The graded result: the heading the server-drawn result had
#: (``quiz-result-heading``), or the result the quiz's component is handed (``quiz-result`` in its call).
RESULT = r'quiz-result-heading|"quiz-result"|showResult'
JOINED = r'You are in the class as'
ANSWERED_ALL = r'Answered (\d+) of \1\b'
SUBMITTED = r'Submitted: (\d+) of (\d+)'
CLASS_SHOWN = r'Class of \d'
#: Seconds between one student's answers: a class answers over minutes; without a pause the answers of the whole
#: class (800 events for 200 students) would land in the same second, which no class does and the board is not about.
ANSWER_GAP_S = 0.05
#: Seconds between the students being ready and the window opening (every submit is scheduled before it opens).
LEAD_S = 0.5
#: Seconds the board has, after the last result, to show every submit (then the run reports that it did not).
BOARD_WAIT_S = 10.0
#: Seconds of the class joined and idle, to tell the app's own background CPU from the moment's.
IDLE_S = 1.0


@dataclass
class Student:
    index: int
    http: httpx.AsyncClient
    tab: PageTab | None = None
    join_ms: float | None = None
    #: The three steps of joining, in ms (their sum is ``join_ms``).
    join_steps_ms: dict[str, float] = field(default_factory=dict)
    submitted_at: float | None = None
    result_at: float | None = None
    disconnects: int = 0
    disconnect_reasons: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def result_ms(self) -> float | None:
        if self.submitted_at is None or self.result_at is None:
            return None
        return (self.result_at - self.submitted_at) * 1000


@dataclass
class Board:
    tab: PageTab
    #: (arrival, submitted count) of every "Submitted: n of m" the board was sent.
    counts: list[tuple[float, int]] = field(default_factory=list)

    def first_showing(self, wanted: int) -> float | None:
        return next((arrived for arrived, n in self.counts if n >= wanted), None)


#: One TLS context for every client (plain HTTP on loopback uses none): httpx loads the CA bundle for each client it
#: makes otherwise, some 25 ms each, which stalled this process's loop for 5 s while 200 students were set up, long
#: enough for the teacher's open socket to miss its pings.
_TLS = ssl.create_default_context()


def http_client(base: str, *, follow_redirects: bool = False) -> httpx.AsyncClient:
    """One browser's HTTP side: its own cookie jar."""
    return httpx.AsyncClient(base_url=base, timeout=STEP_TIMEOUT_S, verify=_TLS, follow_redirects=follow_redirects)


async def _bounded(work: Awaitable[T]) -> T:
    return await asyncio.wait_for(work, STEP_TIMEOUT_S)


async def open_board(base: str, token: str) -> Board:
    """The teacher's board, with a class started when none runs."""
    # the teacher's token is exchanged for a cookie and a redirect, as a browser follows it
    tab = PageTab(http_client(base, follow_redirects=True))
    await tab.open(f'/teacher?token={token}')
    board = Board(tab)
    tab.watch(SUBMITTED, lambda arrived, found: board.counts.append((arrived, int(found.group(1)))))
    with contextlib.suppress(PageError):  # a class runs already
        start = tab.find(**{'data-testid': 'board-start'})
        shown = tab.expect(CLASS_SHOWN)
        await tab.emit(start, 'click')
        await _bounded(shown)
    return board


class JoinsFailing(RuntimeError):
    """So many students could not join that the rest are not tried (each would wait out its step's timeout)."""


async def join(student: Student, failures: list[int]) -> None:
    """``/join`` with a nickname, then ``/quiz``, as a learner following the join screen's address does."""
    if len(failures) >= MAX_JOIN_FAILURES:
        raise JoinsFailing(f'not tried: {len(failures)} students could not join before')
    try:
        await _join(student)
    except Exception:
        failures.append(student.index)
        raise


async def _join(student: Student) -> None:
    started = time.perf_counter()
    page = PageTab(student.http)
    try:
        await page.open('/join')
        loaded = time.perf_counter()
        await page.emit(page.find(**{'data-testid': 'join-nickname'}), 'update:value', f'Student {student.index}')
        joined = page.expect(JOINED)
        await page.emit(page.find(**{'data-testid': 'join-button'}), 'click')
        await _bounded(joined)
    finally:
        student.disconnects += page.disconnects
        student.disconnect_reasons += page.disconnect_reasons
        await page.close()  # the learner follows the link to the quiz: this page's socket goes
    in_class = time.perf_counter()
    student.tab = PageTab(student.http)
    await student.tab.open('/quiz')
    done = time.perf_counter()
    student.join_ms = (done - started) * 1000
    student.join_steps_ms = {
        '/join loaded and connected': (loaded - started) * 1000,
        'the Join button answered': (in_class - loaded) * 1000,
        '/quiz loaded and connected': (done - in_class) * 1000,
    }


def _attempt_component(tab: PageTab) -> str | None:
    """The element of a page that draws the attempt in the browser (events ``answer`` and ``submit``), if any; an
    older app draws radio groups and a Submit button on the server instead, and is answered the way it speaks."""
    for element_id, element in tab.elements.items():
        if any(event['type'] == 'answer' for event in element.get('events', ())):
            return element_id
    return None


async def answer(student: Student, rng: random.Random) -> None:
    """A choice for every question (an option index, as the page sends it); with server-drawn radios, until the page
    counts them all (the attempt component counts in the browser: its answers are handled in the order sent)."""
    tab = student.tab
    assert tab is not None
    if (component := _attempt_component(tab)) is not None:
        for question in json.loads(tab.elements[component]['props']['questions-json']):
            await asyncio.sleep(ANSWER_GAP_S)
            await tab.emit(component, 'answer', [question['id'], rng.randrange(len(question['options']))])
        return
    counted = tab.expect(ANSWERED_ALL)
    for group in tab.find_all('q-option-group'):
        await tab.emit(group, 'update:modelValue', rng.randrange(len(tab.elements[group]['props']['options'])))
    await _bounded(counted)


async def submit_at(student: Student, at: float) -> None:
    tab = student.tab
    assert tab is not None
    component = _attempt_component(tab)
    target, event = (component, 'submit') if component is not None else (tab.find(label='Submit answers'), 'click')
    result = tab.expect(RESULT)
    await asyncio.sleep(max(0.0, at - time.perf_counter()))
    student.submitted_at = await tab.emit(target, event)
    student.result_at, _ = await _bounded(result)


async def _each(students: Sequence[Student], step: Any, limit: int | None = None) -> None:
    """Run ``step(student)`` for every student (``limit`` at a time); a failure is the student's, not the run's."""
    gate = asyncio.Semaphore(limit or len(students) or 1)

    async def guarded(student: Student) -> None:
        async with gate:
            try:
                await step(student)
            except Exception as error:
                student.error = student.error or f'{type(error).__name__}: {error}'

    await asyncio.gather(*(guarded(student) for student in students))


async def _idle_cpu(app: AppProcesses) -> float:
    """The app's CPU seconds per second with the class joined and nobody acting (its timers, sockets' pings)."""
    cpu, wall = app.cpu_seconds(), time.perf_counter()
    await asyncio.sleep(IDLE_S)
    return (app.cpu_seconds() - cpu) / (time.perf_counter() - wall)


@dataclass
class Measures:
    """What the run measured beside the students' own logs."""

    join_total_s: float = 0.0
    board_after_last_ms: float | None = None
    moment_cpu_s: float = 0.0
    moment_wall_s: float = 0.0
    idle_cpu_per_s: float = 0.0
    rss_before_kib: int = 0
    rss_joined_kib: int = 0
    board_disconnects: int = 0
    board_disconnect_reasons: list[str] = field(default_factory=list)


class AppProcesses(Protocol):
    """What the moment needs of the app it runs against: one instance (:class:`AppUnderTest`) or several behind a
    proxy (``benchmarks/moment_deploy.py``), its address and its processes' CPU time and memory together."""

    @property
    def url(self) -> str: ...

    def cpu_seconds(self) -> float: ...

    def rss_kib(self) -> int: ...


async def run_moment(app: AppProcesses, token: str, students: int, window_ms: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    board = await open_board(app.url, token)
    measures = Measures(rss_before_kib=app.rss_kib())
    class_ = [Student(i, http_client(app.url)) for i in range(1, students + 1)]
    started = time.perf_counter()
    failures: list[int] = []
    await _each(class_, lambda s: join(s, failures), JOIN_CONCURRENCY)
    measures.join_total_s = time.perf_counter() - started
    measures.rss_joined_kib = app.rss_kib()
    ready = [s for s in class_ if s.error is None]
    await _each(ready, lambda s: answer(s, rng), JOIN_CONCURRENCY)
    ready = [s for s in ready if s.error is None]
    measures.idle_cpu_per_s = await _idle_cpu(app)
    opens = time.perf_counter() + LEAD_S
    schedule = {s.index: opens + rng.uniform(0, window_ms / 1000) for s in ready}
    cpu_before, wall_before = app.cpu_seconds(), time.perf_counter()
    await _each(ready, lambda s: submit_at(s, schedule[s.index]))
    last_submit = max((s.submitted_at for s in ready if s.submitted_at is not None), default=None)
    deadline = time.perf_counter() + BOARD_WAIT_S
    while board.first_showing(len(ready)) is None and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)  # polling this process's own record of what the board was sent
    measures.moment_cpu_s = app.cpu_seconds() - cpu_before
    measures.moment_wall_s = time.perf_counter() - wall_before
    shown = board.first_showing(len(ready))
    if shown is not None and last_submit is not None:
        measures.board_after_last_ms = (shown - last_submit) * 1000
    for student in class_:
        if student.tab is not None:
            student.disconnects += student.tab.disconnects
            student.disconnect_reasons += student.tab.disconnect_reasons
            await student.tab.close()
        await student.http.aclose()
    measures.board_disconnects = board.tab.disconnects
    measures.board_disconnect_reasons = list(board.tab.disconnect_reasons)
    await board.tab.close()
    await board.tab.http.aclose()
    return moment_report(class_, measures, window_ms=window_ms)


def _summary(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    return {'p50': statistics.median(ordered), 'p95': at(0.95), 'max': ordered[-1], 'n': len(ordered)}


def moment_report(class_: Sequence[Student], measures: Measures, *, window_ms: float) -> dict[str, Any]:
    """The figures as plain data (JSON-ready). Pure: everything measured is passed in."""
    n = len(class_)
    joined = [s for s in class_ if s.join_ms is not None]
    results = [ms for s in class_ if (ms := s.result_ms) is not None]
    errors = [f'student {s.index}: {s.error}' for s in class_ if s.error]
    submits = sum(s.submitted_at is not None for s in class_)
    return {
        'students': n,
        'window_ms': window_ms,
        'joined': len(joined),
        'join_ms': _summary([s.join_ms for s in joined if s.join_ms is not None]),
        'join_steps_ms': {
            step: _summary([s.join_steps_ms[step] for s in joined if step in s.join_steps_ms])
            for step in (joined[0].join_steps_ms if joined else {})
        },
        'join_total_s': measures.join_total_s,
        'join_concurrency': JOIN_CONCURRENCY,
        'submitted': submits,
        'results_delivered': len(results),
        'result_ms': _summary(results),
        'disconnects': sum(s.disconnects for s in class_) + measures.board_disconnects,
        'disconnect_reasons': dict(Counter(why for s in class_ for why in s.disconnect_reasons)),
        'board_disconnect_reasons': measures.board_disconnect_reasons,
        'board_after_last_submit_ms': measures.board_after_last_ms,
        'app_cpu_ms_per_submit': measures.moment_cpu_s * 1000 / submits if submits else None,
        # the same less what the app spends idle over as long (its timers and the sockets' keep-alives)
        'app_cpu_ms_per_submit_above_idle': (measures.moment_cpu_s - measures.idle_cpu_per_s * measures.moment_wall_s)
        * 1000
        / submits
        if submits
        else None,
        'moment_wall_s': measures.moment_wall_s,
        'rss_per_learner_kib': (measures.rss_joined_kib - measures.rss_before_kib) / len(joined) if joined else None,
        'rss_kib': {'before_join': measures.rss_before_kib, 'joined': measures.rss_joined_kib},
        'errors': errors[:20],
        'errors_total': len(errors),
    }


def moment_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 20's targets, as far as this run measures them (reported, not enforced)."""
    n = report['students']
    result = report['result_ms'] or {}
    rows = [
        ('app CPU per submit <= 5 ms', report['app_cpu_ms_per_submit'], 5.0, 'ms'),
        (f'results delivered = {n}', report['results_delivered'], n, 'of N'),
        ('result p95 <= 1000 ms', result.get('p95'), 1000.0, 'ms'),
        ('result max <= 2000 ms', result.get('max'), 2000.0, 'ms'),
        ('socket disconnects = 0', report['disconnects'], 0, ''),
        (f'board shows {n} within 1000 ms of the last submit', report['board_after_last_submit_ms'], 1000.0, 'ms'),
        (f'{n} join and open /quiz, 10 at a time, <= 10 s', report['join_total_s'], 10.0, 's'),
    ]
    targets = []
    for name, measured, limit, unit in rows:
        met = measured is not None and (measured >= limit if name.startswith('results') else measured <= limit)
        targets.append({'target': name, 'measured': measured, 'unit': unit, 'met': met})
    return targets


def _fmt(value: float | None, digits: int = 0) -> str:
    return 'n/a' if value is None else f'{value:,.{digits}f}'


def moment_markdown(report: dict[str, Any]) -> str:
    join, result = report['join_ms'] or {}, report['result_ms'] or {}
    machine = report.get('machine', {})
    lines = [
        f'## {report["students"]} students submit within {report["window_ms"]:g} ms',
        '',
        f'App: `{report.get("app", {}).get("command", "?")}`. Machine: {machine.get("cpus", "?")} CPUs, load average '
        f'(1 min) {_fmt(machine.get("load_avg_1m_before"), 2)} before, {_fmt(machine.get("load_avg_1m_after"), 2)} '
        f"after; this benchmark's own CPU {_fmt(machine.get('bench_cpu_s'), 1)} s.",
        '',
        '| measure | value |',
        '| --- | ---: |',
        f'| joined (of {report["students"]}) | {report["joined"]} |',
        f'| join + open /quiz per student, p50 / p95, ms | {_fmt(join.get("p50"))} / {_fmt(join.get("p95"))} |',
        *(
            f'| of which {step}, p50 / p95, ms | {_fmt((steps or {}).get("p50"))} / {_fmt((steps or {}).get("p95"))} |'
            for step, steps in report['join_steps_ms'].items()
        ),
        f'| join + open /quiz, all ({report["join_concurrency"]} at a time), s | {_fmt(report["join_total_s"], 1)} |',
        f'| results delivered | {report["results_delivered"]} of {report["submitted"]} submitted |',
        f'| submit to graded result p50 / p95 / max, ms | {_fmt(result.get("p50"))} / {_fmt(result.get("p95"))} / '
        f'{_fmt(result.get("max"))} |',
        f"| socket disconnects (reasons: students' {report['disconnect_reasons'] or 'none'}, "
        f"the board's {report['board_disconnect_reasons'] or 'none'}) "
        f'| {report["disconnects"]} |',
        f'| board shows all submitted, ms after the last submit | {_fmt(report["board_after_last_submit_ms"])} |',
        f'| app CPU per submit, ms (above idle) | {_fmt(report["app_cpu_ms_per_submit"], 1)} '
        f'({_fmt(report["app_cpu_ms_per_submit_above_idle"], 1)}) |',
        f'| the moment, s (window opens to the board showing all, or {BOARD_WAIT_S:g} s after) '
        f'| {_fmt(report["moment_wall_s"], 2)} |',
        f'| app RSS per joined learner, KiB | {_fmt(report["rss_per_learner_kib"])} |',
    ]
    if report['errors_total']:
        lines += ['', f'Errors ({report["errors_total"]}):', *(f'- {error}' for error in report['errors'])]
    lines += ['', '| target | measured | met |', '| --- | ---: | :---: |']
    for t in report.get('targets', []):
        lines.append(f'| {t["target"]} | {_fmt(t["measured"], 1)} {t["unit"]} | {"yes" if t["met"] else "NO"} |')
    return '\n'.join(lines)


#: The app's per-address caps on joining, lifted by environment variable (an app that has no such cap ignores them):
#: every scripted student comes from 127.0.0.1, where a real class of 200 comes from many phones (or, behind one
#: school router, from one address the teacher would raise the caps for).
ONE_ADDRESS_CLASS = {
    'WEBSOCKET_LESSON_JOINS_PER_MINUTE_PER_ADDRESS': '0',
    'WEBSOCKET_LESSON_LEARNERS_PER_ADDRESS': '0',
}


def allow_one_address_class() -> None:
    """Lift the per-address caps for the apps this process starts from now on (their environment is this one's)."""
    for name, value in ONE_ADDRESS_CLASS.items():
        os.environ.setdefault(name, value)


def app_flags(token: str, students: int) -> list[str]:
    """The flags every instance runs with: the teacher's token, and room for the class."""
    # one argument with '=': a random token may begin with '-', which argparse would take for a flag
    return [f'--teacher-token={token}', '--max-learners', str(max(students, 200))]


def run_measured(app: AppProcesses, token: str, students: int, window_ms: float, seed: int = 1) -> dict[str, Any]:
    """Run the moment against a started app; the report with the machine's load and this process's own CPU."""
    load_before = os.getloadavg()
    bench_before = resource.getrusage(resource.RUSAGE_SELF)
    report = asyncio.run(run_moment(app, token, students, window_ms, seed))
    bench_after = resource.getrusage(resource.RUSAGE_SELF)
    report['machine'] = {
        'cpus': os.cpu_count(),
        'load_avg_1m_before': load_before[0],
        'load_avg_1m_after': os.getloadavg()[0],
        'bench_cpu_s': (bench_after.ru_utime + bench_after.ru_stime) - (bench_before.ru_utime + bench_before.ru_stime),
    }
    report['targets'] = moment_targets(report)
    return report


def run_against_app(app_command: str | None, students: int, window_ms: float, seed: int = 1) -> dict[str, Any]:
    """Start the app (``app_command``, else the console script next to this Python), run the moment, stop it."""
    token = secrets.token_urlsafe(24)
    allow_one_address_class()
    with AppUnderTest(app_command, extra_args=app_flags(token, students)) as app:
        report = run_measured(app, token, students, window_ms, seed)
        report['app'] = {'command': app.command, 'started_in_s': app.started_in_s}
    return report


#: Simulated students at most: each holds a socket.io connection and an HTTP client in this one process.
MAX_STUDENTS = 500


def add_moment_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``--moment`` (``--app-command`` is shared with ``--class``)."""
    parser.add_argument(
        '--moment',
        type=int,
        default=None,
        metavar='N',
        help='run the submit moment: a scripted teacher and N scripted students join, open /quiz, answer and '
        'submit within one window, against the app started by its console script (see demos/bench/moment.py)',
    )
    parser.add_argument(
        '--window-ms',
        type=float,
        default=100.0,
        help='--moment: the window every student submits within, in ms (default: 100)',
    )


def moment_main(args: argparse.Namespace) -> int:
    """``bench --moment N``: run it and print the report (Markdown, or JSON with ``--json``)."""
    if not 1 <= args.moment <= MAX_STUDENTS:
        print(f'bench: --moment takes 1 to {MAX_STUDENTS} students', file=sys.stderr)
        return 2
    if args.window_ms < 0:
        print('bench: --window-ms must not be negative', file=sys.stderr)
        return 2
    try:
        report = run_against_app(args.app_command, args.moment, args.window_ms)
    except AppCommandMissing as missing:
        print(f'bench: {missing}', file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else moment_markdown(report))
    return 0
