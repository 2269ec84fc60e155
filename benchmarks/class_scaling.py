"""``bench --class`` against 1 and 2 app instances behind HAProxy (with Redis), on this machine.

    .venv/bin/python -m benchmarks.class_scaling [--sizes 10,20,30,...] [--duration 6] [--json]

For each instance count, simulated classes of growing size
(``demos.bench.class_run``: every learner loads ``/demo``
through the proxy, takes the proxy's routing cookie like a browser, and runs the four lanes and the echo through
``/echo-server/`` on the same port) until two classes in a row miss a target; the largest class that met them all
is what that deployment serves. Then the ratio 2 instances / 1 instance, and the proxy's added delay: the same class on
one instance, once straight to its ports and once through the proxy (push p50 and p95).

The targets, per class (``demos.bench.class_report.class_targets``, with the CPU one per instance): push delay p95
<= 20 ms, no lost update, echo round trip p99 <= 10 ms while /demo loads, /demo render median <= 50 ms, each
instance's processes <= 100 % of one core. Everything stays on 127.0.0.1; the deployment is stopped after each run.
The simulated learners run in this process, on the same two cores as the instances: the report gives the machine's
load and this process's CPU, which bound what any number of instances can show here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Run as a script too (python benchmarks/class_scaling.py): the repository's own packages (tests.support) are found.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demos.bench.class_run import ClassRun, run_class
from demos.bench.learner import Target
from demos.bench.proc_stats import tree_cpu_seconds, tree_rss_kib
from demos.bench.targets import target
from demos.server.echo_process import loop_factory
from lesson.web.deployment import ECHO_PREFIX
from tests.support.deployment import Deployment

DEFAULT_SIZES = (10, 20, 30, 40, 50, 60, 80, 100)
PAGE_LOADS_PER_S = 2.0


def _pids(deployment: Deployment) -> list[int]:
    return [app.process.pid for app in deployment.apps if app.process is not None]


def run_once(instances: int, learners: int, duration_s: float, *, through_proxy: bool = True) -> dict[str, Any]:
    """One class on a fresh deployment of ``instances`` instances; the class bench's report plus per-instance CPU."""
    with (
        tempfile.TemporaryDirectory(prefix='websocket-lesson-scaling-') as folder,
        Deployment(Path(folder), count=instances) as deployment,
    ):
        pids = _pids(deployment)
        first = deployment.apps[0]
        target_ = (
            Target(deployment.proxy.port, deployment.proxy.port, ECHO_PREFIX)
            if through_proxy
            else Target(first.port, first.echo_port)
        )
        run = ClassRun(
            target_,
            lambda: sum(tree_cpu_seconds(pid) for pid in pids),
            lambda: sum(tree_rss_kib(pid) for pid in pids),
        )
        proxy_pid = deployment.proxy.process.pid if deployment.proxy.process else None
        proxy_before = tree_cpu_seconds(proxy_pid) if proxy_pid else 0.0
        per_instance_before = [tree_cpu_seconds(pid) for pid in pids]
        load_before = os.getloadavg()[0]
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            report = runner.run(run_class(run, learners, duration_s, PAGE_LOADS_PER_S))
        report['per_instance_cpu_s'] = [
            tree_cpu_seconds(pid) - before for pid, before in zip(pids, per_instance_before, strict=True)
        ]
        report['proxy_cpu_s'] = (tree_cpu_seconds(proxy_pid) - proxy_before) if proxy_pid else 0.0
        report['load_avg_1m'] = (load_before, os.getloadavg()[0])
    report['instances'] = instances
    report['through_proxy'] = through_proxy
    # CPU per instance: the class bench's "app processes together <= 100 %" is for one instance; here the busiest
    # instance's share of the quiet phase's CPU (each instance's share of the whole run splits it)
    quiet = report['cpu_percent']['quiet']
    targets = [t for t in report['targets'] if not t['target'].startswith('app processes together')]
    spent = report['per_instance_cpu_s']
    if quiet is not None and report['feed_started'] and sum(spent) > 0:
        busiest = quiet * max(spent) / sum(spent)
        report['busiest_instance_cpu_percent'] = busiest
        targets.insert(0, target(f'each instance <= 100 % of one core ({learners} learners)', busiest, 100.0, unit='%'))
    report['targets'] = targets
    return report


def served(report: dict[str, Any]) -> bool:
    """Every learner joined and every target was met."""
    return (
        report['learners_joined'] == report['learners']
        and not report['errors_total']
        and bool(report['targets'])
        and all(t['met'] for t in report['targets'])
    )


def largest_served(instances: int, sizes: Sequence[int], duration_s: float, log: list[dict[str, Any]]) -> int:
    """The largest class size (of ``sizes``, tried in order until two in a row miss) served at the targets; 0 when
    none was."""
    best = misses = 0
    for size in sizes:
        report = run_once(instances, size, duration_s)
        log.append(report)
        missed = [t['target'] for t in report['targets'] if not t['met']]
        print(
            f'  {instances} instance(s), {size} learners: '
            + ('all targets met' if served(report) else f'missed {missed or report["errors"][:3]}'),
            file=sys.stderr,
            flush=True,
        )
        if served(report):
            best, misses = size, 0
        else:
            # one miss on a shared machine can be a neighbour's burst; two in a row is the limit
            misses += 1
            if misses == 2:
                break
    return best


def _p(report: dict[str, Any], key: str) -> float | None:
    summary = (report['push_delay_ms'] or {}).get('quiet') or {}
    value = summary.get(key)
    return float(value) if value is not None else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m benchmarks.class_scaling', description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default=','.join(map(str, DEFAULT_SIZES)), help='class sizes to try, in order')
    parser.add_argument('--instances', default='1,2', help='instance counts to compare (default: 1,2)')
    parser.add_argument('--duration', type=float, default=6.0, help='seconds per phase (default: 6)')
    parser.add_argument('--proxy-delay-class', type=int, default=20, help='class size for the proxy delay (20)')
    parser.add_argument('--json', action='store_true', help='print every report as JSON')
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(',')]
    counts = [int(count) for count in args.instances.split(',')]

    runs: list[dict[str, Any]] = []
    served_by = {}
    for count in counts:
        print(f'{count} instance(s) behind HAProxy:', file=sys.stderr, flush=True)
        served_by[count] = largest_served(count, sizes, args.duration, runs)

    print('proxy delay: one instance, straight and through HAProxy', file=sys.stderr, flush=True)
    direct = run_once(1, args.proxy_delay_class, args.duration, through_proxy=False)
    proxied = run_once(1, args.proxy_delay_class, args.duration, through_proxy=True)

    if args.json:
        print(json.dumps({'served': served_by, 'runs': runs, 'proxy_delay': [direct, proxied]}, indent=2, default=str))
        return 0
    lines = [
        f'## Learners served at the targets, behind HAProxy (sizes tried: {args.sizes}; {args.duration:g} s phases)',
        '',
        '| instances | largest class served at every target |',
        '| ---: | ---: |',
        *(f'| {count} | {served_by[count]} |' for count in counts),
    ]
    if 1 in served_by and 2 in served_by and served_by[1]:
        lines += ['', f'Ratio 2 instances / 1 instance: {served_by[2] / served_by[1]:.2f}x.']
    lines += [
        '',
        '| instances | learners | push p50 / p95, ms | echo p99 under loads (probe), ms | /demo render p50, ms '
        '| busiest instance CPU, % | load avg before | all targets |',
        '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |',
    ]
    for run in runs:
        # The figure the target judges: the probe in a process of its own (the learners' own echoes queue in the
        # benchmark's loop with everything else it runs)
        echo = ((run.get('echo_probe_rtt_ms') or run['echo_rtt_ms']).get('page_loads') or {}).get('p99')
        render = (run['render_ms'].get('page_loads') or {}).get('p50')
        lines.append(
            f'| {run["instances"]} | {run["learners"]} | {_fmt(_p(run, "p50"))} / {_fmt(_p(run, "p95"))} '
            f'| {_fmt(echo)} | {_fmt(render)} | {_fmt(run.get("busiest_instance_cpu_percent"))} '
            f'| {run["load_avg_1m"][0]:.2f} | {"yes" if served(run) else "no"} |'
        )
    d50, p50, d95, p95 = _p(direct, 'p50'), _p(proxied, 'p50'), _p(direct, 'p95'), _p(proxied, 'p95')
    lines += [
        '',
        f"## The proxy's added delay ({args.proxy_delay_class} learners, one instance)",
        '',
        '| push delay | straight to the instance | through HAProxy | added |',
        '| --- | ---: | ---: | ---: |',
    ]
    for name, straight, through in (('p50', d50, p50), ('p95', d95, p95)):
        added = through - straight if straight is not None and through is not None else None
        lines.append(f'| {name}, ms | {_fmt(straight)} | {_fmt(through)} | {_fmt(added)} |')
    lines += ['', f'HAProxy CPU in the proxied run: {proxied["proxy_cpu_s"]:.2f} s. Machine: {os.cpu_count()} CPUs.']
    print('\n'.join(lines))
    return 0


def _fmt(value: float | None) -> str:
    return 'n/a' if value is None else f'{value:.2f}'


if __name__ == '__main__':
    raise SystemExit(main())
