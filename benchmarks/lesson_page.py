"""Measure the lesson app as a learner meets it: start-up, page load, server memory.

    python benchmarks/lesson_page.py [--runs 5] [--tabs 20]

Reports, for the real console script started as a subprocess on free ports:
- the time from launching the command to the first HTTP 200 on `/` (median of --runs starts);
- the lesson page's load time in headless Chromium (navigation start to the `load` event, and to the
  Mermaid diagram drawn as SVG; median of --runs fresh pages);
- the server's resident memory idle, and with --tabs lesson tabs open at once (the app process and its children,
  e.g. the echo server's process).
Needs the test extras (Playwright) and Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from demos.bench.proc_stats import tree_rss_kib
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, RunningApp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--tabs', type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        startups = []
        for run in range(args.runs):
            running = RunningApp(data_dir=Path(scratch) / f'run{run}')
            running.data_dir.mkdir()
            running.start()
            startups.append(running.started_in_s)
            if run < args.runs - 1:
                running.stop()
        assert running.process is not None
        pid = running.process.pid
        try:
            time.sleep(1.0)
            idle_kib = tree_rss_kib(pid)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                loads, diagrams = [], []
                for _ in range(args.runs):
                    page = browser.new_page()
                    page.goto(running.url + '/', wait_until='load')
                    page.locator('#handshake-diagram svg').first.wait_for()
                    timing = page.evaluate("""() => {
                        const nav = performance.getEntriesByType('navigation')[0];
                        return {load: nav.loadEventEnd - nav.startTime, now: performance.now()};
                    }""")
                    loads.append(timing['load'])
                    diagrams.append(timing['now'])
                    page.close()
                context = browser.new_context()
                tabs = [context.new_page() for _ in range(args.tabs)]
                for tab in tabs:
                    tab.goto(running.url + '/', wait_until='load')
                time.sleep(1.0)
                tabs_kib = tree_rss_kib(pid)
                browser.close()
        finally:
            running.stop()

    print('| measure | median | runs |')
    print('| --- | --- | --- |')
    print(
        f'| command to first HTTP 200 on / | {statistics.median(startups):.2f} s | '
        f'{", ".join(f"{s:.2f}" for s in startups)} |'
    )
    print(f'| lesson page load event | {statistics.median(loads):.0f} ms | {", ".join(f"{x:.0f}" for x in loads)} |')
    print(
        f'| lesson page until the diagram is an SVG | {statistics.median(diagrams):.0f} ms | '
        f'{", ".join(f"{x:.0f}" for x in diagrams)} |'
    )
    print(f'| server RSS idle | {idle_kib / 1024:.1f} MiB | |')
    print(
        f'| server RSS with {args.tabs} lesson tabs open | {tabs_kib / 1024:.1f} MiB | '
        f'{(tabs_kib - idle_kib) / args.tabs:.0f} KiB per tab |'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
