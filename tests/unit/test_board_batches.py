"""The class board takes a class's changes in batches, and its delay figure is the batch's oldest answer's."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

import pytest

from lesson.pages.teacher.board import draw_in_batches

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which('node')
BATCH_S = 0.15


async def test_two_hundred_changes_at_once_are_a_few_draws_and_a_change_after_quiet_is_not_held() -> None:
    loop = asyncio.get_running_loop()
    dirty = asyncio.Event()
    draws: list[float] = []  # when each draw began (the loop's clock)

    async def draw() -> bool:
        draws.append(loop.time())
        return len(draws) < 100

    drawer = loop.create_task(draw_in_batches(dirty, draw, BATCH_S))
    await asyncio.sleep(0)  # the drawer waits for a change
    for _ in range(200):  # a class submitting within 100 ms
        dirty.set()
        await asyncio.sleep(0.0005)
        if len(draws) == 0:
            raise AssertionError('the first change after a quiet spell was held back')
    await asyncio.sleep(2 * BATCH_S)
    assert 1 <= len(draws) <= 3, draws  # 200 changes, a few draws
    assert all(later - earlier >= BATCH_S for earlier, later in pairwise(draws))

    await asyncio.sleep(BATCH_S)  # quiet: the next lone change is drawn as soon as the drawer runs
    before = len(draws)
    dirty.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(draws) == before + 1
    drawer.cancel()


async def test_the_drawing_stops_when_the_page_is_gone() -> None:
    dirty = asyncio.Event()
    dirty.set()
    drawn: list[int] = []

    async def gone() -> bool:
        drawn.append(1)
        return False

    await asyncio.wait_for(draw_in_batches(dirty, gone, BATCH_S), 1.0)
    assert drawn == [1]


MEASURE = """
import panel from './board_delay.mjs';
globalThis.window = { boardDelays: [], boardServerDelays: [] };
const self = { seen: 0, offsetMs: 0, lastMs: null };
const now = Date.now();
// one batch: three answers given 900, 400 and 100 ms ago, sent 10 ms ago
const batch = [[1, now - 900, now - 10], [2, now - 400, now - 10], [3, now - 100, now - 10]];
panel.methods.measure.call(self, { answers: batch });
const first = self.lastMs;
// the next update repeats the recent answers and adds one: only the new one counts
panel.methods.measure.call(self, { answers: [[2, now - 400, now - 10], [3, now - 100, now - 10], [4, now - 50, now]] });
console.log(JSON.stringify({ first, second: self.lastMs, measured: window.boardDelays.length }));
"""


def test_the_board_says_how_long_the_oldest_answer_of_a_batch_waited(tmp_path: Path) -> None:
    if NODE is None:
        pytest.fail("node is not installed: apt-get install -y nodejs (the panels' pure JavaScript runs in it)")
    shutil.copy(ROOT / 'lesson' / 'panels' / 'board_delay.js', tmp_path / 'board_delay.mjs')
    (tmp_path / 'test.mjs').write_text(MEASURE, encoding='utf-8')
    done = subprocess.run([NODE, str(tmp_path / 'test.mjs')], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert 900 <= shown['first'] < 1500  # the oldest of the batch, not the newest (100 ms)
    assert 50 <= shown['second'] < 600
    assert shown['measured'] == 4  # every answer measured once
