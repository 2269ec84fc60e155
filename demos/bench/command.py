"""``websocket-lesson bench``: the demo page's comparison, headless, as a table.

Polling and push against the embedded echo server (:mod:`demos.bench.comparison`), for a matrix of client counts
and polling intervals. ``--load`` runs the classroom load test instead (:mod:`demos.bench.load`). ``--class N``
runs a whole class against the app started by its console script: N simulated learners with the traffic of one
``/demo`` page each, and ``/demo`` page loads (:mod:`demos.bench.class_run`).

The server runs in a child process (:mod:`demos.bench.server_process`), so its CPU time is its own and the
clients (this process) do not steal its core; both run on the event loop the app runs on (uvloop, under uvicorn,
when installed). Push clients are lean sockets (:class:`demos.bench.clients.PushSubscriber`), so a hundred of them
in one process measure the server's delivery rather than their own queueing. Everything stays on 127.0.0.1 and is
bounded in clients and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
from dataclasses import asdict
from typing import Any

from demos.bench.app_under_test import AppCommandMissing
from demos.bench.class_report import class_markdown
from demos.bench.class_run import run_against_app
from demos.bench.clients import BROWSER_ORIGIN
from demos.bench.comparison import Cell, comparison_markdown, comparison_targets, run_cell, scalability_2010
from demos.bench.link_run import links_markdown, run_links
from demos.bench.load import load_markdown, load_targets, run_load
from demos.bench.moment import add_moment_options, moment_main
from demos.bench.server_process import ServerProcess
from demos.protocol.link import CUSTOM_ID, PROFILE_IDS
from demos.server.echo_process import loop_factory


def parse_numbers(text: str) -> list[float]:
    try:
        numbers = [float(part) for part in text.split(',') if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected numbers separated by commas, not {text!r}') from None
    if not numbers or any(n <= 0 for n in numbers):
        raise argparse.ArgumentTypeError(f'expected positive numbers, not {text!r}')
    return numbers


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='websocket-lesson bench',
        description='Polling against push on the embedded echo server, measured on 127.0.0.1. '
        'Prints Markdown tables (or JSON with --json).',
    )
    parser.add_argument(
        '--clients',
        type=parse_numbers,
        default=None,
        help='client counts, comma-separated (default: 10,100; with --load: 1000)',
    )
    parser.add_argument(
        '--intervals',
        type=parse_numbers,
        default=[100.0, 1000.0],
        help='polling intervals in ms, comma-separated (default: 100,1000)',
    )
    parser.add_argument('--rate', type=float, default=10.0, help='feed updates per second (default: 10)')
    parser.add_argument(
        '--duration',
        type=float,
        default=None,
        help='seconds each measurement runs (default: 3; with --load: 30; with --class: 20 per phase)',
    )
    parser.add_argument(
        '--load',
        action='store_true',
        help='run the load test: many push subscribers, memory, echo against bare websockets',
    )
    parser.add_argument('--echo-clients', type=int, default=10, help='--load: concurrent echo clients (default: 10)')
    parser.add_argument(
        '--echo-duration',
        type=float,
        default=None,
        help='--load: seconds of echo round trips per server (default: 5, or --duration if less)',
    )
    _add_class_options(parser)
    add_moment_options(parser)
    parser.add_argument(
        '--link',
        type=lambda text: [part.strip() for part in text.split(',') if part.strip()],
        default=None,
        metavar='PROFILES',
        help='run the lanes under link profiles (e.g. 4g,3g,satellite) and print measured vs model per lane '
        '(see demos/bench/link_run.py); with --class: the whole class on one profile',
    )
    parser.add_argument('--json', action='store_true', help='print the report as JSON')
    return parser


def _add_class_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``--class``: a simulated class against the app started by its console script."""
    parser.add_argument(
        '--class',
        dest='class_size',
        type=int,
        default=None,
        metavar='N',
        help='run the class benchmark: N simulated learners, each with the traffic of one /demo page, '
        'against the app started by its console script (see demos/bench/class_run.py)',
    )
    parser.add_argument(
        '--page-loads-per-s',
        type=float,
        default=5.0,
        help='--class: /demo loads per second during the second phase (default: 5)',
    )
    parser.add_argument(
        '--app-command',
        default=None,
        metavar='PATH',
        help='--class, --moment: the websocket-lesson console script to start (default: the one next to this '
        'Python), e.g. an older release installed in a venv of its own',
    )


MAX_CLIENTS = 5000
#: Simulated learners at most: each holds about six sockets in this one process.
MAX_CLASS = 500


def main(argv: list[str]) -> int:
    """Run the benchmark; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.moment is not None:
        _raise_file_limit(args.moment * 4 + 200)
        return moment_main(args)
    if args.class_size is not None:
        return _class_main(args)
    if args.link is not None:
        return _link_main(args)
    clients = [int(c) for c in (args.clients or ([1000] if args.load else [10, 100]))]
    if max(clients) > MAX_CLIENTS:
        print(f'bench: at most {MAX_CLIENTS} clients on one machine', file=sys.stderr)
        return 2
    duration = args.duration or (30.0 if args.load else 3.0)
    _raise_file_limit(max(clients) * 2 + 200)
    if args.load:
        echo_duration = args.echo_duration or min(5.0, duration)
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            report = runner.run(_load(max(clients), args.rate, duration, args.echo_clients, echo_duration))
        print(json.dumps(report, indent=2) if args.json else load_markdown(report))
        return 0
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        report = runner.run(_comparison(clients, args.intervals, args.rate, duration))
    print(json.dumps(report, indent=2) if args.json else comparison_markdown(report))
    return 0


def _class_main(args: argparse.Namespace) -> int:
    if args.load or args.clients:
        print('bench: --class runs on its own, without --load or --clients', file=sys.stderr)
        return 2
    if not 1 <= args.class_size <= MAX_CLASS:
        print(f'bench: --class takes 1 to {MAX_CLASS} learners', file=sys.stderr)
        return 2
    if args.page_loads_per_s <= 0:
        print('bench: --page-loads-per-s must be positive', file=sys.stderr)
        return 2
    if args.link is not None and (len(args.link) != 1 or not _known_links(args.link)):
        print('bench: --class takes one --link profile (the whole class on it)', file=sys.stderr)
        return 2
    _raise_file_limit(args.class_size * 10 + 200)
    try:
        link = args.link[0] if args.link else None
        report = run_against_app(
            args.app_command, args.class_size, args.duration or 20.0, args.page_loads_per_s, link=link
        )
        report['link'] = link
    except AppCommandMissing as missing:
        print(f'bench: {missing}', file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else class_markdown(report))
    return 0


def _known_links(links: list[str]) -> bool:
    if links and all(p in PROFILE_IDS and p != CUSTOM_ID for p in links):
        return True
    print(f'bench: --link takes profiles among {", ".join(PROFILE_IDS[:-1])}', file=sys.stderr)
    return False


def _link_main(args: argparse.Namespace) -> int:
    if not _known_links(args.link):
        return 2
    try:
        report = run_links(args.app_command, args.link, args.duration or 30.0)
    except AppCommandMissing as missing:
        print(f'bench: {missing}', file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else links_markdown(report))
    return 0


def _raise_file_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def _server_settings(clients: int) -> dict[str, Any]:
    # The rate limit is lifted so the echo figures measure the server, not its policy, and the per-address caps
    # because every simulated learner is this machine; every other setting is the app's default.
    return {
        'max_connections': max(2000, clients * 2 + 100),
        'connections_per_address': 0,
        'sessions_per_address': 0,
        'messages_per_s': 1e9,
        'message_burst': 10**9,
        'allowed_origins': (BROWSER_ORIGIN,),
    }


async def _comparison(clients: list[int], intervals: list[float], rate: float, duration: float) -> dict[str, Any]:
    cells: list[Cell] = []
    async with ServerProcess(_server_settings(max(clients))) as server:
        for count in clients:
            cells.append(await run_cell(server, 'push', count, None, rate, duration))
            for interval in intervals:
                cells.append(await run_cell(server, 'poll', count, interval, rate, duration))
    return {
        'machine': {'cpus': os.cpu_count(), 'python': sys.version.split()[0]},
        'cells': [asdict(cell) for cell in cells],
        'scalability_2010': scalability_2010(cells),
        'targets': comparison_targets(cells),
    }


async def _load(clients: int, rate: float, duration: float, echo_clients: int, echo_duration: float) -> dict[str, Any]:
    async with ServerProcess(_server_settings(clients)) as server:
        report = await run_load(server, clients, rate, duration, echo_clients, echo_duration)
    report['machine'] = {'cpus': os.cpu_count(), 'python': sys.version.split()[0]}
    report['targets'] = load_targets(report)
    return report


if __name__ == '__main__':
    raise SystemExit(main(sys.argv[1:]))
