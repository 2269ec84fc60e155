"""The lanes panel's delay chart as numbers (demos/static/delay_chart.js), run in node: axis steps a reader can add
up, the delay axis from 0 to a step above the longest delay, the points in the chart box's pixels, in seq order."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

STATIC = Path(__file__).resolve().parents[2] / 'demos' / 'static'


def in_node(expression: str) -> Any:
    node = shutil.which('node')
    if node is None:
        pytest.fail("node is not installed: apt-get install -y nodejs (the panels' pure JavaScript runs in it)")
    script = f"""
        globalThis.window = globalThis;
        new Function(require('node:fs').readFileSync({json.dumps(str(STATIC / 'delay_chart.js'))}, 'utf-8'))();
        console.log(JSON.stringify({expression}));
    """
    done = subprocess.run([node, '-e', script], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_steps_are_one_two_or_five_times_a_power_of_ten() -> None:
    assert in_node('[0, 0.3, 1, 1.5, 3, 7, 42, 180].map(wsDemo.niceStep)') == [1, 0.5, 1, 2, 5, 10, 50, 200]


def test_samples_become_ticks_and_points_in_the_boxs_pixels() -> None:
    box = {'width': 148, 'height': 120, 'left': 40, 'right': 8, 'top': 10, 'bottom': 10}
    # push: seq 1 and 11 took 100 and 300 ms (the later one received first); a server clock 10 ms ahead
    chart = in_node(f'wsDemo.delayChart([["push", [[11, 0, 290], [1, 0, 90]]], ["poll", []]], 10, {json.dumps(box)})')
    assert [tick['value'] for tick in chart['yTicks']] == [0, 100, 200, 300]  # 300 / 4 -> a step of 100
    assert [tick['y'] for tick in chart['yTicks']] == pytest.approx([110, 110 - 100 / 3, 110 - 200 / 3, 10])
    assert [tick['value'] for tick in chart['xTicks']] == [2, 4, 6, 8, 10]  # 10 / 5 -> a step of 2
    assert chart['series'] == [
        {'id': 'push', 'count': 2, 'points': '40.0,76.7 140.0,10.0'},
        {'id': 'poll', 'count': 0, 'points': ''},
    ]
