"""The submit moment (``websocket-lesson bench --moment N``) through HAProxy, against several instances sharing Redis.

The same scripted teacher and students as :mod:`demos.bench.moment`, behind the proxy as deploy/run-local.sh sets it
up (tests/support/deployment.py): each student's cookie jar keeps the proxy's routing cookie, so its pages and their
sockets stay on one instance; the teacher's board is on one instance and sees the others' students through Redis.
CPU and memory are the instances' together (the proxy and Redis are not counted). Run::

    .venv/bin/python benchmarks/moment_deploy.py --students 200 [--instances 2] [--window-ms 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demos.bench.moment import allow_one_address_class, app_flags, moment_markdown, run_measured
from demos.bench.proc_stats import tree_cpu_seconds, tree_rss_kib
from tests.support.deployment import Deployment


class Instances:
    """The deployment as the moment sees it: the proxy's address, the instances' CPU time and memory summed."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    @property
    def url(self) -> str:
        return self.deployment.url

    def _pids(self) -> list[int]:
        return [app.process.pid for app in self.deployment.apps if app.process is not None]

    def cpu_seconds(self) -> float:
        return sum(tree_cpu_seconds(pid) for pid in self._pids())

    def rss_kib(self) -> int:
        return sum(tree_rss_kib(pid) for pid in self._pids())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--students', type=int, default=200)
    parser.add_argument('--instances', type=int, default=2)
    parser.add_argument('--window-ms', type=float, default=100.0)
    parser.add_argument('--json', action='store_true', help='print the report as JSON')
    args = parser.parse_args()
    token = secrets.token_urlsafe(24)
    allow_one_address_class()
    with tempfile.TemporaryDirectory(prefix='moment-deploy-') as folder:
        flags = app_flags(token, args.students)
        with Deployment(Path(folder), count=args.instances, extra_args=flags) as deployment:
            report = run_measured(Instances(deployment), token, args.students, args.window_ms)
    report['app'] = {'command': f'{args.instances} instances behind HAProxy, with Redis'}
    print(json.dumps(report, indent=2) if args.json else moment_markdown(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
