"""The lanes panel's words for a link (demos/static/link_reading.js), run in node on the echo server's real answer to
a ``link`` command: the right sentence per lane, filled with the model's figures; nothing on loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from demos.protocol.lanes import COMPARED_LANES
from demos.protocol.link import profile_named
from demos.server.session_links import LinkChoice, link_reply

STATIC = Path(__file__).parents[2] / 'demos' / 'static'
TEXTS = {
    'link_intro': 'one way {one_way_ms}, set-up {setup_ms}',
    'link_poll': 'poll {median_ms} every {interval_ms}',
    'link_poll_bound': 'poll costs {question_ms}, median {median_ms}',
    'link_longpoll': 'longpoll waiting, {median_ms}',
    'link_longpoll_bound': 'longpoll re-arms in {window_ms}, updates every {between_ms}, median {median_ms}',
    'link_longpoll_edge': 'on the edge: {base_ms} to {window_ms} more, p95 {p95_ms}, {waiting_percent} waiting',
    'link_sse': 'sse {median_ms}',
    'link_push': 'push {median_ms}',
    'link_loss': 'lost {loss_percent} %: 1 in {one_in} waits {stall_ms}',
    'link_error': 'refused: {error}',
}


def read_in_node(reply: dict[str, Any], command: list[object], texts: dict[str, str] = TEXTS) -> tuple[Any, Any]:
    node = shutil.which('node')
    if node is None:
        pytest.fail("node is not installed: apt-get install -y nodejs (the panels' pure JavaScript runs in it)")
    lanes = [{'id': lane.id, 'title': lane.id.upper()} for lane in COMPARED_LANES]
    script = f"""
        globalThis.window = globalThis;
        const {{ readFileSync }} = require('node:fs');
        const read = (name) => readFileSync({json.dumps(str(STATIC))} + '/' + name, 'utf-8');
        for (const name of ['figures.js', 'link_reading.js']) new Function(read(name))();
        console.log(JSON.stringify([
          wsDemo.linkReading({json.dumps(reply)}, {json.dumps(texts)}, {json.dumps(lanes)}),
          wsDemo.linkCommand(...{json.dumps(command)}),
        ]));
    """
    done = subprocess.run([node, '-e', script], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    reading, command = json.loads(done.stdout)
    return reading, command


def test_3g_reads_as_polls_back_to_back_and_streams_at_half_a_round_trip() -> None:
    reply = link_reply(LinkChoice(profile_named('3g'), 500.0), 5.0)
    custom = {'rtt_ms': 200, 'jitter_ms': '', 'down_kbit_s': '', 'up_kbit_s': 500, 'loss_percent': 1}
    reading, command = read_in_node(reply, ['custom', custom, 250, 10])
    forecast = reply['forecast']
    assert reading['intro'] == 'one way 281.25, set-up 563'
    poll, longpoll, sse, push = (line['text'] for line in reading['lines'])
    assert (
        poll == f'poll costs {round(forecast["poll"]["round_trip_ms"])}, median {round(forecast["poll"]["median_ms"])}'
    )
    assert longpoll.startswith('longpoll re-arms in 11') and 'updates every 200,' in longpoll
    assert (sse, push) == ('sse 282', 'push 282')
    assert [line['title'] for line in reading['lines']] == ['POLL', 'LONGPOLL', 'SSE', 'PUSH']
    # An empty custom field: null (no limit) for a bandwidth, else left to the server's default.
    assert command == {
        'profile': 'custom',
        'poll_interval_ms': 250,
        'rate_per_s': 10,
        'rtt_ms': 200,
        'down_kbit_s': None,
        'up_kbit_s': 500,
        'loss_percent': 1,
    }


def test_a_lossy_link_adds_its_stalls_and_loopback_says_nothing() -> None:
    lossy = link_reply(LinkChoice(profile_named('lossy-wifi'), 500.0), 10.0)
    reading, _ = read_in_node(lossy, ['lossy-wifi', {}, 500, 10])
    push = reading['lines'][3]['text']
    one_in = round(1 / lossy['forecast']['push']['stalled_share'])
    assert push == f'push 10 lost 2 %: 1 in {one_in} waits 220'
    loopback, command = read_in_node(link_reply(LinkChoice(profile_named('same-room'), 500.0), 5.0), ['3g', {}, 500, 5])
    assert loopback is None
    assert command == {'profile': '3g', 'poll_interval_ms': 500, 'rate_per_s': 5}


def test_on_4g_long_polling_is_said_to_sit_on_the_edge_and_3g_is_not() -> None:
    reply = link_reply(LinkChoice(profile_named('4g'), 500.0), 5.0)
    reading, _ = read_in_node(reply, ['4g', {}, 500, 5])
    longpoll = reply['forecast']['longpoll']
    text = reading['lines'][1]['text']
    assert 50 < longpoll['waiting_share'] * 100 < 55
    edge = (
        f'on the edge: {round(longpoll["base_ms"])} to {round(longpoll["cycle_ms"])} more, '
        f'p95 {round(longpoll["p95_ms"])}, {round(longpoll["waiting_share"] * 100)} waiting'
    )
    assert text.startswith('longpoll re-arms in 12') and edge in text
    far_from_it, _ = read_in_node(link_reply(LinkChoice(profile_named('3g'), 500.0), 5.0), ['3g', {}, 500, 5])
    assert 'on the edge' not in far_from_it['lines'][1]['text']


def test_nearly_every_update_waiting_is_not_said_to_be_all() -> None:
    reply = link_reply(LinkChoice(profile_named('3g'), 500.0), 5.0)
    assert reply['forecast']['longpoll']['waiting_share'] > 0.995
    words = dict(TEXTS, link_longpoll_bound='{waiting_percent} in 100 wait')
    reading, _ = read_in_node(reply, ['3g', {}, 500, 5], words)
    assert reading['lines'][1]['text'] == '99 in 100 wait'
