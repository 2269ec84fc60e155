"""One address joining a class again and again, a fresh cookie jar each time (issue 18, finding 1), and then one
learner from another address: how many the class admits, with the app's limits as given.

The app runs as a subprocess on loopback with a temporary data directory; the joins come from ``--address`` (a
loopback address such as 127.0.0.2 stands for another machine) as scripted pages speaking NiceGUI's socket.io
(:class:`demos.bench.page_client.PageTab`). Run it by hand::

    .venv/bin/python benchmarks/join_flood.py --joins 100
    .venv/bin/python benchmarks/join_flood.py --joins 100 --app-flag=--learners-per-address=0 \\
        --app-flag=--joins-per-minute-per-address=0            # no per-address limits, as before issue 18

Loopback only, bounded by ``--joins`` (at most 1,000) and 10 s per join.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demos.bench.page_client import browser_at, press
from tests.support.app_process import RunningApp

TOKEN = 'teacher-token-for-the-join-flood'
ANSWERS = 'You are in the class|This class is full|learners have joined from your network|Too many joins'


async def flood(url: str, joins: int, address: str, other: str) -> str:
    async with browser_at(url, '127.0.0.1') as teacher:
        await press(teacher, 'Start a class', 'Class of', f'/teacher?token={TOKEN}')
    said: list[str] = []
    started = time.perf_counter()
    for _ in range(joins):
        async with browser_at(url, address) as one:
            said.append(await press(one, 'Join the class', ANSWERS))
    took_s = time.perf_counter() - started
    async with browser_at(url, other) as one:
        last = await press(one, 'Join the class', ANSWERS)
    return f'{joins} joins from {address} in {took_s:.1f} s: {dict(Counter(said))}; then {other}: {last}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--joins', type=int, default=100, help='joins from the one address (1-1000, default 100)')
    parser.add_argument('--address', default='127.0.0.2', help='the one address (default 127.0.0.2)')
    parser.add_argument('--other', default='127.0.0.3', help="the next learner's address (default 127.0.0.3)")
    parser.add_argument('--app-flag', action='append', default=[], help='a flag for the app (repeatable)')
    args = parser.parse_args()
    if not 1 <= args.joins <= 1000:
        parser.error('--joins must be between 1 and 1000')
    with tempfile.TemporaryDirectory() as folder:
        app = RunningApp(Path(folder), extra_args=[f'--teacher-token={TOKEN}', *args.app_flag])
        app.start()
        try:
            print(asyncio.run(flood(app.url, args.joins, args.address, args.other)))
        finally:
            app.stop()


if __name__ == '__main__':
    main()
