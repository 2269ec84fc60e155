"""The demo panels' browser logic and their texts, without a browser: the pure functions of lesson/panels/*.js run
in node on frames the project's own decoder made, and every text a panel needs is in content/demo_panels.toml and
used by its script."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from websockets.frames import Close, Frame, Opcode

from demos.protocol.frames import decode_frame
from demos.server.frame_log import frame_entry
from lesson.panels import break_it, frames, handshake, lesson_code, restart

ROOT = Path(__file__).resolve().parents[2]
PANELS = ROOT / 'lesson' / 'panels'
TEXTS = tomllib.loads((ROOT / 'content' / 'demo_panels.toml').read_text(encoding='utf-8'))
MODULES = {
    'frames': frames,
    'handshake': handshake,
    'break_it': break_it,
    'lesson_code': lesson_code,
    'restart': restart,
}
NODE = shutil.which('node')


@pytest.mark.parametrize('table', sorted(MODULES))
def test_every_text_a_panel_needs_is_in_the_content_and_every_text_there_is_used(table: str) -> None:
    module = MODULES[table]
    keys = set(module.TEXT_KEYS)
    assert keys <= set(TEXTS[table]), keys - set(TEXTS[table])
    assert set(TEXTS[table]) <= keys, f'texts no panel asks for: {set(TEXTS[table]) - keys}'
    script = (PANELS / f'{table}_panel.js').read_text(encoding='utf-8')
    for key in keys:
        # texts.key, texts[...] with 'key', or a family picked by a template literal (close_code_${code}).
        family = key.rsplit('_', 1)[0] + '_${'
        assert f'texts.{key}' in script or f"'{key}'" in script or family in script, f'{table}_panel.js: {key}'


def test_a_panel_given_another_panels_texts_says_what_is_missing() -> None:
    with pytest.raises(KeyError, match='send_button'):
        frames.checked_texts('frames', frames.TEXT_KEYS, TEXTS['restart'])


def test_the_burst_stays_within_what_the_server_accepts() -> None:
    plan = break_it.BurstPlan.for_server(max_message_bytes=16_384, message_burst=20)
    assert (plan.count, plan.size) == (20, 16_384)
    assert break_it.BurstPlan.for_server(10**6, 1000).as_props() == {'count': 80, 'size': 60_000, 'pauseS': 3.0}


def run_node(script: str, tmp_path: Path) -> Any:
    """Run an ES module that imports the panels (copied as .mjs) and prints one JSON value."""
    if NODE is None:
        pytest.fail("node is not installed: apt-get install -y nodejs (the panels' pure JavaScript runs in it)")
    for source in PANELS.glob('*_panel.js'):
        shutil.copy(source, tmp_path / f'{source.stem}.mjs')
    shutil.copy(ROOT / 'demos' / 'static' / 'break_it.js', tmp_path / 'break_it.cjs')
    (tmp_path / 'test.mjs').write_text(script, encoding='utf-8')
    done = subprocess.run([NODE, str(tmp_path / 'test.mjs')], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def entry(
    frame: Frame, *, mask: bool, index: int = 0, connection: int = 1, direction: str = 'client→server'
) -> dict[str, object]:
    decoded = decode_frame(frame.serialize(mask=mask, extensions=[]))
    assert decoded is not None
    return {'index': index, 'at': 0, 'connection': connection, 'direction': direction, **frame_entry(decoded[0])}


def test_a_frame_is_shown_field_by_field(tmp_path: Path) -> None:
    sent = entry(Frame(Opcode.TEXT, b'A' * 126), mask=True, index=7)
    closed = entry(Frame(Opcode.CLOSE, Close(1008, 'bye').serialize()), mask=False, direction='server→client')
    shown = run_node(
        f"""
        import {{ frameLines, frameHeading, frameAttributes }} from './frames_panel.mjs';
        const texts = {json.dumps(TEXTS['frames'])};
        const frames = {json.dumps([sent, closed])};
        const shown = frames.map((f) => [frameHeading(f, texts), frameLines(f, texts), frameAttributes(f)]);
        console.log(JSON.stringify(shown));
    """,
        tmp_path,
    )
    assert isinstance(shown, list)
    (heading, lines, attributes), (_, close_lines, close_attributes) = shown
    assert heading == '#7 · connection 1 · browser → server · text'
    assert lines[0].startswith('FIN 1 · RSV1 0 RSV2 0 RSV3 0 · opcode 0x1 (text) · MASK 1, masking key ')
    assert sent['masking_key'] in lines[0]
    assert lines[1].startswith('payload length 126 in the 16-bit form: the 7-bit field says 126')
    assert lines[2] == 'header 8 bytes, frame 134 bytes on the wire'
    assert lines[-1] == 'as text: ' + 'A' * len(bytes.fromhex(str(sent['payload_preview'])))
    assert attributes == {
        'data-frame-index': 7,
        'data-direction': 'client-to-server',
        'data-opcode': 'text',
        'data-length-form': '16-bit',
        'data-payload-length': 126,
        'data-header-size': 8,
        'data-masked': 'true',
        'data-close-code': '',
    }
    assert 'close code 1008 “bye”' in close_lines
    assert not any('masking key' in line or 'unmasked' in line for line in close_lines)
    assert close_attributes['data-close-code'] == 1008 and close_attributes['data-masked'] == 'false'


def test_wire_bytes_count_the_data_frames_of_the_newest_connection_closed_with_the_reason(tmp_path: Path) -> None:
    def run(connection: int, first_index: int, size: int) -> list[dict[str, object]]:
        frames_of_run = [
            entry(Frame(Opcode.TEXT, b'x' * size), mask=True, connection=connection),
            entry(Frame(Opcode.TEXT, b'x' * size), mask=False, connection=connection, direction='server→client'),
            entry(Frame(Opcode.CLOSE, Close(1000, 'compression off').serialize()), mask=True, connection=connection),
        ]
        for offset, frame in enumerate(frames_of_run):
            frame['index'] = first_index + offset
        return frames_of_run

    entries = run(1, 0, 10) + run(2, 3, 200)  # the same reason twice: the newer connection counts
    measured = run_node(
        f"""
        globalThis.window = globalThis;
        const {{ readFileSync }} = await import('node:fs');
        new Function(readFileSync(new URL('./break_it.cjs', import.meta.url), 'utf-8'))();
        const entries = {json.dumps(entries)};
        console.log(JSON.stringify([wsDemo.wireBytes(entries, 'compression off'), wsDemo.wireBytes(entries, 'other')]));
    """,
        tmp_path,
    )
    assert measured == [{'out': 200 + 4 + 4, 'in': 200 + 4, 'messages': 1, 'compressed': 0}, None]


def test_the_close_that_ended_a_connection_is_kept_apart_from_failed_reconnects(tmp_path: Path) -> None:
    events = [
        {'kind': 'connecting'},
        {'kind': 'open'},
        {'kind': 'close', 'code': 1001, 'clean': True},
        {'kind': 'reconnecting'},
        {'kind': 'connecting'},
        {'kind': 'close', 'code': 1006, 'clean': False},
        {'kind': 'connecting'},
        {'kind': 'close', 'code': 1006, 'clean': False},
    ]
    states = run_node(
        f"""
        import {{ closeState, NO_CLOSE }} from './break_it_panel.mjs';
        let state = NO_CLOSE;
        const seen = [];
        for (const event of {json.dumps(events)}) {{ state = closeState(state, event); seen.push(state); }}
        state = closeState(closeState(state, {{ kind: 'open' }}), {{ kind: 'close', code: 1000, clean: true }});
        seen.push(state);
        console.log(JSON.stringify(seen));
    """,
        tmp_path,
    )
    assert isinstance(states, list)
    assert states[2] == {'opened': False, 'lastCode': 1001, 'lastClean': True, 'failedAttempts': 0}
    assert states[7] == {'opened': False, 'lastCode': 1001, 'lastClean': True, 'failedAttempts': 2}
    assert states[8] == {'opened': False, 'lastCode': 1000, 'lastClean': True, 'failedAttempts': 0}


def test_the_burst_figures_and_the_chart_place_the_marks_on_the_same_time_axis(tmp_path: Path) -> None:
    samples = [[0, 0], [2, 4_800_000], [300, 600_000], [3100, 600_000], [3300, 120_000], [3600, 0]]
    marks = [{'kind': 'paused', 'atMs': -100, 'label': 'p'}, {'kind': 'resumed', 'atMs': 3000, 'label': 'r'}]
    figures, geometry, unresumed = run_node(
        f"""
        import {{ burstFigures, chartGeometry, CHART }} from './break_it_panel.mjs';
        const samples = {json.dumps(samples)};
        console.log(JSON.stringify([burstFigures(samples, 3000, true), chartGeometry(samples, {json.dumps(marks)}),
                                    burstFigures(samples.slice(0, 3), null, false)]));
    """,
        tmp_path,
    )
    assert figures == {'peak': 4_800_000, 'atResume': 600_000, 'drainedMs': 3600}
    assert unresumed == {'peak': 4_800_000, 'atResume': None, 'drainedMs': None}
    points = [tuple(map(float, point.split(','))) for point in geometry['points'].split()]
    paused_x, resumed_x = (mark['x'] for mark in geometry['marks'])
    assert paused_x == 64  # the earliest moment is the left edge
    assert points[0][0] > paused_x and points[3][0] > resumed_x > points[2][0]  # 3000 ms between 300 and 3100
    assert min(y for _, y in points) == geometry['top']  # the peak touches the top
    assert points[0][1] == points[-1][1] == geometry['baseline']
    assert re.fullmatch(r'[-\d., ]+', geometry['points'])
