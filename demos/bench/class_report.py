"""The report of a class run: its figures as plain data, the targets it measures, and its Markdown.

Pure: everything measured is passed in, so a test builds a report from hand-made logs.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from demos.bench.learner import POLL_INTERVAL_S, RATE_PER_S, LearnerLog
from demos.bench.phases import MAX_PAGE_LOADS_IN_FLIGHT, PageLoads, Phase
from demos.bench.targets import fmt, target, targets_markdown
from demos.protocol.metrics import delivery_delays, summarize

#: Errors kept in the report (the first ones; the rest are counted).
ERRORS_KEPT = 20


def summary_dict(values: Sequence[float]) -> dict[str, float] | None:
    summary = summarize(values)
    return summary.as_dict() if summary else None


def _delays(logs: Sequence[LearnerLog], lane: str, phase: Phase | None) -> list[float]:
    """The lane's delivery delays received during ``phase`` (all of them for None); one machine, one clock."""
    samples = [s for log in logs for s in getattr(log, lane) if phase is None or phase.holds(s[2])]
    return delivery_delays(samples)


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
    _idle, quiet, with_loads = phases
    joined = [log for log in logs if log.session and log.page_load is not None]
    inspect_errors = sorted({log.inspect_error for log in joined if log.inspect_error})
    feed_started = bool(joined) and not inspect_errors
    sources = sorted({log.session_source for log in joined})
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
        'notes': _notes(inspect_errors, sources),
        'cpu_percent': _cpu_percent(phases, len(joined)),
        'updates_made': sum(log.made() for log in joined),
        'lost_updates': _lost(joined) if feed_started else None,
        'push_delay_ms': _delays_by_phase(joined, 'push', quiet, with_loads) if feed_started else None,
        'sse_delay_ms': _delays_by_phase(joined, 'sse', quiet, with_loads) if feed_started else None,
        'clock_round_trip_ms': summary_dict([rtt for log in joined for rtt in log.clock_round_trips_ms]),
        'polls': sum(log.poll.requests for log in joined),
        'long_polls': sum(log.longpoll.requests for log in joined),
        'echo_rtt_ms': {
            'quiet': summary_dict([rtt for log in joined for sent, rtt in log.echo if quiet.holds(sent)]),
            'page_loads': summary_dict([rtt for log in joined for sent, rtt in log.echo if with_loads.holds(sent)]),
        },
        'render_ms': {
            'page_loads': summary_dict(loads.timings_ms),
            'learner_joins': summary_dict([log.page_load.elapsed_ms for log in joined if log.page_load]),
        },
        'page_loads': _page_loads(loads),
        'rss_kib': rss,
        # behind a proxy: how many learners each instance got (the routing cookie of their page load)
        'routes': dict(Counter(log.page_load.route for log in joined if log.page_load and log.page_load.route)),
        'errors': errors[:ERRORS_KEPT],
        'errors_total': len(errors),
    }
    report['targets'] = class_targets(report)
    return report


def _notes(inspect_errors: Sequence[str], sources: Sequence[str]) -> list[str]:
    """What a reader must know to read the figures: an app without the inspection stream, or unsigned ids."""
    notes: list[str] = []
    if inspect_errors:
        notes.append(
            f"no inspection stream ({', '.join(inspect_errors)}): this app starts a feed from its page's "
            'Python code, which a simulated learner cannot run, so the lanes carried no updates; '
            'push/SSE delay and lost updates are not measured, and CPU per learner is that of idle lanes '
            '(polls, held long polls, open sockets and echo) only'
        )
    if 'invented' in sources:
        notes.append(
            'the page embeds no signed session id: the learners used ids of their own (this app accepts any id)'
        )
    return notes


def _cpu_percent(phases: tuple[Phase, Phase, Phase], joined: int) -> dict[str, float | None]:
    """The app's CPU in each phase, per learner, and this benchmark's own, in % of one core."""
    idle, quiet, with_loads = phases
    idle_percent = _percent(idle.app_cpu_s, idle.wall_s)
    quiet_percent = _percent(quiet.app_cpu_s, quiet.wall_s)
    per_learner = quiet_percent / joined if quiet_percent is not None and joined else None
    above_idle = (
        (quiet_percent - idle_percent) / joined
        if quiet_percent is not None and idle_percent is not None and joined
        else None
    )
    return {
        'idle': idle_percent,
        'quiet': quiet_percent,
        'page_loads': _percent(with_loads.app_cpu_s, with_loads.wall_s),
        'per_learner': per_learner,
        'per_learner_above_idle': above_idle,
        'bench_client_quiet': _percent(quiet.bench_cpu_s, quiet.wall_s),
        'bench_client_page_loads': _percent(with_loads.bench_cpu_s, with_loads.wall_s),
    }


def _lost(joined: Sequence[LearnerLog]) -> dict[str, int]:
    """Updates each lane never delivered, summed over the learners; push and SSE together too."""
    lost = {
        lane: sum(
            log.lost(getattr(log, lane) if lane in ('push', 'sse') else getattr(log, lane).samples) for log in joined
        )
        for lane in ('push', 'sse', 'poll', 'longpoll')
    }
    lost['push_and_sse'] = lost['push'] + lost['sse']
    return lost


def _delays_by_phase(
    joined: Sequence[LearnerLog], lane: str, quiet: Phase, with_loads: Phase
) -> dict[str, dict[str, float] | None]:
    return {
        'quiet': summary_dict(_delays(joined, lane, quiet)),
        'page_loads': summary_dict(_delays(joined, lane, with_loads)),
        'all': summary_dict(_delays(joined, lane, None)),
    }


def _page_loads(loads: PageLoads) -> dict[str, Any]:
    return {
        'made': len(loads.timings_ms),
        'failed': len(loads.failed),
        'skipped': loads.skipped,
        'html_bytes_median': statistics.median(loads.html_bytes) if loads.html_bytes else None,
        'failures': loads.failed[:ERRORS_KEPT],
    }


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


def _pcts(summary: dict[str, float] | None, *keys: str) -> str:
    return ' / '.join(fmt((summary or {}).get(key), 1) for key in keys)


def class_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: the setting, one table of the figures by phase, the totals, notes and targets."""
    lines = [*_heading(report), '', *_figures_table(report), '', _totals(report)]
    for note in report['notes']:
        lines += ['', f'Note: {note}.']
    if report['errors_total']:
        lines += [
            '',
            f'Errors ({report["errors_total"]}, first {min(ERRORS_KEPT, report["errors_total"])}):',
            *(f'- {error}' for error in report['errors']),
        ]
    lines += ['', '## Targets (reported, not enforced)', '', *targets_markdown(report['targets'])]
    return '\n'.join(lines)


def _heading(report: dict[str, Any]) -> list[str]:
    machine, app = report.get('machine', {}), report.get('app', {})
    return [
        f'## A class of {report["learners"]} on the app ({report["learners_joined"]} joined; '
        f'{report["rate_per_s"]:g} updates/s, polling every {report["poll_interval_ms"]:g} ms, '
        f'{report["duration_s"]:g} s per phase)',
        '',
        f'Machine: {machine.get("cpus", "?")} CPUs, load average (1 min) '
        f'{fmt(machine.get("load_avg_1m_before"), 2)} before and '
        f'{fmt(machine.get("load_avg_1m_after"), 2)} after the run. '
        f'App: `{app.get("command", "?")}`. '
        f'Session ids: {report["session_ids"]}; inspection stream: {report["inspect"]}.',
    ]


def _figures_table(report: dict[str, Any]) -> list[str]:
    cpu, rss = report['cpu_percent'], report['rss_kib']
    push = report['push_delay_ms'] or {}
    sse = report['sse_delay_ms'] or {}
    echo, render = report['echo_rtt_ms'], report['render_ms']
    probe = report.get('echo_probe_rtt_ms') or {}
    return [
        f'| measure | quiet | with /demo loads at {report["page_loads_per_s"]:g}/s |',
        '| --- | ---: | ---: |',
        f'| app CPU, % of one core (idle before the class: {fmt(cpu["idle"])}) | {fmt(cpu["quiet"])} '
        f'| {fmt(cpu["page_loads"])} |',
        f'| app CPU per learner, % of one core (above idle: {fmt(cpu["per_learner_above_idle"], 2)}) '
        f'| {fmt(cpu["per_learner"], 2)} | |',
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
        f'| app RSS, MiB (idle before the class: {fmt(rss["idle"] / 1024)}) | {fmt(rss["after_quiet"] / 1024)} '
        f'| {fmt(rss["page_loads_peak"] / 1024)} (peak) |',
        f"| this benchmark's own CPU, % of one core | {fmt(cpu['bench_client_quiet'])} "
        f'| {fmt(cpu["bench_client_page_loads"])} |',
    ]


def _totals(report: dict[str, Any]) -> str:
    lost = report['lost_updates']
    lost_text = (
        f'{lost["push"]} push, {lost["sse"]} SSE, {lost["poll"]} poll, {lost["longpoll"]} long poll'
        if lost is not None
        else 'not measured (no feed)'
    )
    loads = report['page_loads']
    return (
        f'Updates made: {report["updates_made"]:,}; lost: {lost_text}. Polls: {report["polls"]:,}; long polls: '
        f'{report["long_polls"]:,}. Page loads: {loads["made"]} answered, '
        f'{loads["failed"]} failed, {loads["skipped"]} skipped (over '
        f'{MAX_PAGE_LOADS_IN_FLIGHT} in flight); HTML {fmt((loads["html_bytes_median"] or 0) / 1024)}'
        ' KiB.'
    )
