"""The app's CPU per learner with the real /demo page: a few learners in headless Chromium, one context each.

    python benchmarks/class_browser.py [--learners 3] [--duration 20] [--idle 5] [--app-command PATH] [--json]

The app is started through its console script (``--app-command``: any installed copy, e.g. an older release in a
venv of its own) on free loopback ports with a temporary data directory. Then:

1. idle: the app's CPU with no page open (the baseline);
2. pages open: each learner opens ``/demo`` and waits until it is ready (``[data-figure="push-updates"]`` exists and
   the Start button is enabled), picks polling every 500 ms and 5 updates/s where the page has those controls, and
   the app's CPU is read again before anyone presses Start;
3. running: every learner presses Start; after a short warm-up the app's CPU is read over ``--duration`` seconds,
   and each page's own figures (updates received on push and polling) show that its lanes ran.

The app's CPU is that of its process and its children (the echo server's process), from /proc (see
``demos/bench/proc_stats.py``); Chromium's own CPU is not in it. Needs the test extras (Playwright) and
/usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from demos.bench.app_under_test import AppUnderTest
from tests.support.app_process import CHROMIUM, CHROMIUM_ARGS

READY_TIMEOUT_MS = 60_000
WARM_UP_S = 2.0
POLL_INTERVAL_MS = '500'
RATE_PER_S = '5'


@dataclass
class Window:
    """The app's CPU over a stretch of wall time."""

    cpu_s: float
    wall_s: float

    @property
    def percent(self) -> float:
        return self.cpu_s / self.wall_s * 100


def measure(cpu_seconds: Callable[[], float], seconds: float) -> Window:
    cpu_before, started = cpu_seconds(), time.perf_counter()
    time.sleep(seconds)
    return Window(cpu_seconds() - cpu_before, time.perf_counter() - started)


def pick_if_present(page: Page, control: str, value: str) -> bool:
    """Choose ``value`` in the page's ``<select data-control=...>``; False when the page has no such control."""
    select = page.locator(f'select[data-control="{control}"]')
    if select.count() == 0:
        return False
    select.first.select_option(value)
    return True


def figure(page: Page, name: str) -> float | None:
    """A figure the page shows, by its ``data-figure`` name (its ``data-value``, else its text)."""
    element = page.locator(f'[data-figure="{name}"]').first
    if element.count() == 0:
        return None
    raw = element.get_attribute('data-value') or element.inner_text()
    try:
        return float(raw.replace(',', ''))
    except ValueError:
        return None


def run(learners: int, duration_s: float, idle_s: float, app_command: str | None) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    with AppUnderTest(app_command) as app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            time.sleep(2.0)  # start-up work (content parsing, first imports) is not the idle baseline
            idle = measure(app.cpu_seconds, idle_s)
            idle_rss = app.rss_kib()
            pages: list[Page] = []
            controls: list[dict[str, bool]] = []
            ready_ms: list[float] = []
            for _ in range(learners):
                page = browser.new_context().new_page()
                started = time.perf_counter()
                page.goto(app.url + '/demo', wait_until='load')
                page.locator('[data-figure="push-updates"]').first.wait_for(state='attached', timeout=READY_TIMEOUT_MS)
                start_button = page.get_by_role('button', name='Start', exact=True)
                expect(start_button).to_be_enabled(timeout=READY_TIMEOUT_MS)
                ready_ms.append((time.perf_counter() - started) * 1000)
                controls.append(
                    {
                        'poll_interval': pick_if_present(page, 'poll-interval', POLL_INTERVAL_MS),
                        'update_rate': pick_if_present(page, 'update-rate', RATE_PER_S),
                    }
                )
                pages.append(page)
            pages_open = measure(app.cpu_seconds, idle_s)
            for page in pages:
                page.get_by_role('button', name='Start', exact=True).click()
            time.sleep(WARM_UP_S)
            before = [figure(page, 'push-updates') or 0 for page in pages]
            running = measure(app.cpu_seconds, duration_s)
            running_rss = app.rss_kib()
            push_updates = [(figure(page, 'push-updates') or 0) - b for page, b in zip(pages, before, strict=True)]
            poll_updates = [figure(page, 'poll-updates') for page in pages]
        finally:
            browser.close()
        command = app.command
    return {
        'learners': learners,
        'duration_s': duration_s,
        'app': {'command': command},
        # Other work on the machine shows in the page timings: the load averages say how much there was.
        'machine': {
            'cpus': os.cpu_count(),
            'python': sys.version.split()[0],
            'load_avg_1m_before': load_before,
            'load_avg_1m_after': os.getloadavg()[0],
        },
        'page_ready_ms': {'median': statistics.median(ready_ms), 'max': max(ready_ms)},
        'controls_set': controls,
        'cpu_percent': {
            'idle': idle.percent,
            'pages_open': pages_open.percent,
            'running': running.percent,
            'per_learner': running.percent / learners,
            'per_learner_above_idle': (running.percent - idle.percent) / learners,
            'per_learner_above_pages_open': (running.percent - pages_open.percent) / learners,
        },
        'rss_kib': {'idle': idle_rss, 'running': running_rss},
        'push_updates_during_run': push_updates,
        'poll_updates_at_end': poll_updates,
    }


def markdown(report: dict[str, Any]) -> str:
    cpu = report['cpu_percent']
    n = report['learners']
    lines = [
        f'## {n} learners on /demo in headless Chromium ({report["duration_s"]:g} s running, '
        f'{report["machine"]["cpus"]} CPUs, load average {report["machine"]["load_avg_1m_before"]:.2f} before, '
        f'{report["machine"]["load_avg_1m_after"]:.2f} after)',
        '',
        f'App: `{report["app"]["command"]}`; pages ready in {report["page_ready_ms"]["median"]:.0f} ms median '
        f'(max {report["page_ready_ms"]["max"]:.0f}).',
        '',
        '| measure | app CPU, % of one core |',
        '| --- | ---: |',
        f'| idle, no page open (baseline) | {cpu["idle"]:.1f} |',
        f'| {n} pages open, not started | {cpu["pages_open"]:.1f} |',
        f'| {n} learners running the four lanes | {cpu["running"]:.1f} |',
        f'| **per learner** (running / {n}) | **{cpu["per_learner"]:.2f}** |',
        f'| per learner above the idle baseline | {cpu["per_learner_above_idle"]:.2f} |',
        f'| per learner above the open pages | {cpu["per_learner_above_pages_open"]:.2f} |',
        '',
        f'App RSS: {report["rss_kib"]["idle"] / 1024:.1f} MiB idle, {report["rss_kib"]["running"] / 1024:.1f} MiB '
        f'running. Push updates each page counted during the run: '
        f'{", ".join(f"{u:g}" for u in report["push_updates_during_run"])}; polling lane at the end: '
        f'{", ".join("n/a" if u is None else f"{u:g}" for u in report["poll_updates_at_end"])}.',
        '',
        f'Target: at most 3 % of a core per learner: {"met" if cpu["per_learner"] <= 3 else "NOT met"}.',
    ]
    if not all(c['poll_interval'] and c['update_rate'] for c in report['controls_set']):
        lines += [
            '',
            'Note: the page has no <select> for the polling interval or update rate; its defaults '
            '(500 ms, 5/s on every version so far) were used.',
        ]
    return '\n'.join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--learners', type=int, default=3, help='browser contexts, one per learner (default: 3)')
    parser.add_argument('--duration', type=float, default=20.0, help='seconds the lanes run (default: 20)')
    parser.add_argument('--idle', type=float, default=5.0, help='seconds of each baseline (default: 5)')
    parser.add_argument(
        '--app-command',
        default=None,
        metavar='PATH',
        help='the websocket-lesson console script to start (default: the one next to this Python)',
    )
    parser.add_argument('--json', action='store_true', help='print the report as JSON')
    args = parser.parse_args()
    if not 1 <= args.learners <= 30:
        parser.error('--learners takes 1 to 30 (each is a Chromium renderer on this machine)')
    report = run(args.learners, args.duration, args.idle, args.app_command)
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
