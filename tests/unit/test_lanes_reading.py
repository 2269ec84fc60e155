"""The lanes panel's summary paragraph says what the run measured (issue 19): the polling sentence claims "from 0
to a whole interval" only when p95 is within the interval, and missed updates are named, lane by lane. The panel's
own `reading` runs in node on a run's figures, with the texts of content/demo.md."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from lesson.panels import lanes
from lesson.storage.content_files import bundled_content_dir

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which('node')


def panel_texts() -> dict[str, str]:
    front = (bundled_content_dir() / 'demo.md').read_text(encoding='utf-8').split('+++')[1]
    table: dict[str, str] = tomllib.loads(front)['lanes_panel']
    assert set(lanes.TEXT_KEYS) <= set(table)
    return table


def reading(tmp_path: Path, poll_p95: float, seqs: dict[str, list[int]]) -> str:
    if NODE is None:
        pytest.fail("node is not installed: apt-get install -y nodejs (the panels' JavaScript runs in it)")
    shutil.copy(ROOT / 'lesson' / 'panels' / 'lanes_panel.js', tmp_path / 'lanes_panel.mjs')
    shutil.copy(ROOT / 'demos' / 'static' / 'figures.js', tmp_path / 'figures.cjs')
    script = f"""
        globalThis.window = globalThis;
        await import('./figures.cjs');
        const panel = (await import('./lanes_panel.mjs')).default;
        const summary = (p50, p95) => ({{ p50, p95, mean: p50, count: 10 }});
        const run = {{
          texts: {json.dumps(panel_texts())}, ready: true, pollIntervalMs: 500,
          lanes: [['poll', 'HTTP polling'], ['longpoll', 'HTTP long polling'], ['sse', 'Server-Sent Events'],
                  ['push', 'WebSocket push']].map(([id, title]) => ({{ id, title }})),
          summaries: {{ poll: summary(240, {poll_p95}), longpoll: summary(3, 5), sse: summary(2, 4),
                        push: summary(2, 4) }},
          counts: {{ poll: {{ requests: 40, empty: 10 }}, longpoll: {{ requests: 30 }} }},
          seqs: Object.fromEntries(Object.entries({json.dumps(seqs)}).map(([id, s]) => [id, new Set(s)])),
        }};
        console.log(JSON.stringify(panel.computed.reading.call(run)));
    """
    (tmp_path / 'test.mjs').write_text(script, encoding='utf-8')
    done = subprocess.run([NODE, str(tmp_path / 'test.mjs')], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    text: str = json.loads(done.stdout)
    return text


ALL = list(range(1, 31))


def test_a_run_within_the_interval_keeps_the_claim_and_names_no_missed_update(tmp_path: Path) -> None:
    text = reading(tmp_path, 480, {lane: ALL for lane in ('poll', 'longpoll', 'sse', 'push')})
    assert 'anywhere from 0 to a whole 500 ms interval' in text
    assert 'missed' not in text


def test_an_outage_is_said_a_p95_above_the_interval_and_the_missed_updates_by_lane(tmp_path: Path) -> None:
    push = [n for n in ALL if not 10 <= n < 24]  # 14 updates sent while its socket was down
    text = reading(tmp_path, 652, {'poll': ALL, 'longpoll': ALL, 'sse': ALL, 'push': push})
    assert 'anywhere from 0' not in text
    assert 'the p95 of 652 ms is longer than the whole 500 ms interval' in text
    assert 'Updates missed (gaps in the numbering): WebSocket push 14.' in text
