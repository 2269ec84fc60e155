"""The demo page under NiceGUI's `user` fixture: no JavaScript runs, so this checks what the page shows and the
pure pieces behind it (how the browser's reports become figures, the console's log lines and diagram)."""

from nicegui import ui
from nicegui.testing import User

from demos.frame_log import frame_entry
from demos.frames import decode_frame
from lesson.content_files import bundled_content_dir, load_lesson
from lesson.pages.demo_break_it import wire_bytes
from lesson.pages.demo_console import ConsoleEvent, handshake_text, sequence_diagram
from lesson.pages.demo_frames import frame_heading, frame_lines
from lesson.pages.demo_measure import Comparison
from lesson.pages.demo_sources import CLIENT_FILES, STATIC_DIR
from lesson.progress import DemoRun

SNIPPET = load_lesson(bundled_content_dir()).code('first-socket').source


async def test_demo_page_shows_every_section(user: User) -> None:
    await user.open('/demo')
    for heading in ('Live demos', 'Polling or push', 'Echo console', 'Inside the frames', 'The handshake, computed',
                    'Break it and watch', "Run the lesson's code", 'When the server goes away', 'HTTP polling',
                    'HTTP long polling', 'Server-Sent Events', 'WebSocket push'):
        await user.should_see(heading)
    await user.should_see('each poll is a new TCP connection')
    await user.should_see('Take the echo server down for 3 s')


async def test_demo_page_has_the_anchor_the_lesson_links_to(user: User) -> None:
    await user.open('/demo')
    anchors = {element.props.get('id') for element in user.find(kind=ui.element).elements}
    assert {'polling-vs-push', 'echo-console', 'frame-anatomy', 'handshake-computed', 'break-it',
            'run-the-lesson-code'} <= anchors


async def test_demo_page_shows_the_lesson_snippet_verbatim(user: User) -> None:
    await user.open('/demo')
    code = user.find(marker='demo-lesson-snippet').elements.pop()
    assert isinstance(code, ui.code)
    assert code.content == SNIPPET


async def test_demo_page_shows_the_javascript_that_runs(user: User) -> None:
    await user.open('/demo')
    for name in CLIENT_FILES:
        code = user.find(marker=f'code-{name}').elements.pop()
        assert isinstance(code, ui.code)
        # ui.code drops the file's final newline, nothing else
        assert code.content == (STATIC_DIR / name).read_text(encoding='utf-8').rstrip('\n'), name


async def test_demo_page_loads_every_script_it_shows(user: User) -> None:
    client = await user.open('/demo')
    for name in CLIENT_FILES:
        assert f'/demos-static/{name}?v=' in client.head_html


async def test_figures_carry_their_names_for_the_browser_tests(user: User) -> None:
    await user.open('/demo')
    names = {element.props.get('data-figure') for element in user.find(kind=ui.label).elements}
    for lane in ('poll', 'longpoll', 'sse', 'push'):
        for figure in ('updates', 'requests', 'empty', 'failed', 'connections', 'bytes', 'bytes-per-update',
                       'delay-mean', 'delay-p50', 'delay-p95', 'missing'):
            assert f'{lane}-{figure}' in names
    assert {'push-frames', 'deflate', 'ready-state', 'last-close-code', 'last-close-clean', 'handshake-match',
            'backpressure-peak', 'backpressure-drained', 'compression-off-out', 'compression-on-in'} <= names


async def test_controls_are_there(user: User) -> None:
    await user.open('/demo')
    for marker in ('demo-start', 'demo-stop', 'demo-reset', 'demo-poll-interval', 'demo-update-rate',
                   'console-connect', 'console-send', 'console-disconnect', 'lesson-code-run', 'echo-restart',
                   'frames-send-125', 'frames-send-126', 'frames-send-65536', 'break-close-1000', 'break-close-code',
                   'break-close-picked', 'break-drop', 'break-ping', 'break-burst', 'break-compression',
                   'console-log-pause', 'frames-log-pause', 'lesson-code-log-pause'):
        assert user.find(marker=marker).elements, marker


def test_browser_reports_become_delays_on_the_server_clock() -> None:
    comparison = Comparison()
    # The server's clock is 100 ms ahead of the browser's; the exchange with the shortest round trip wins.
    comparison.take_report({
        'poll': {'samples': [[1, 1_000.0, 1_150.0], [2, 1_200.0, 1_150.0 + 100]], 'requests': 3,
                 'empty_answers': 1, 'failed_requests': 0, 'running': True, 'interval_ms': 250},
        'push': {'samples': [[1, 1_000.0, 901.0], [2, 1_200.0, 1_101.0]], 'statuses': [{'state': 'open'}],
                 'frames_sent': 5, 'connections_opened': 1, 'extensions': ''},
        'clock_exchanges': [[0.0, 110.0, 20.0, 'push socket'], [50.0, 151.0, 52.0, 'push socket']],
    })
    clock = comparison.clock
    assert clock is not None and clock.offset_ms == 100.0 and clock.exchanges == 2
    assert comparison.delays(comparison.push) == [1.0, 1.0]
    assert comparison.delays(comparison.poll) == [250.0, 150.0]
    assert comparison.run_summary(250) == DemoRun(poll_requests=3, poll_updates=2, poll_empty=1, poll_interval_ms=250,
                                                  poll_delay_p50_ms=200.0, push_updates=2, push_delay_p50_ms=1.0)
    assert comparison.poll.status == 'polling every 250 ms'
    assert comparison.push.status == 'open'
    assert comparison.push.missing_seqs() == 0


def test_gaps_and_reconnections_are_counted() -> None:
    comparison = Comparison()
    comparison.take_report({'push': {'samples': [[1, 0, 1], [2, 0, 1], [5, 0, 1]], 'statuses': [
        {'state': 'closed', 'code': 1001, 'reason': 'server restarting'},
        {'state': 'reconnecting', 'delay_ms': 250, 'attempt': 1}]},
        'poll': {'last_error': 'Failed to fetch', 'failed_requests': 2}})
    assert comparison.push.missing_seqs() == 2
    assert comparison.push.reconnects == 1
    assert 'reconnecting in 250 ms' in comparison.push.status
    assert comparison.poll.status == 'the latest request failed: Failed to fetch'
    assert comparison.poll.failed_requests == 2


def test_console_diagram_keeps_echoed_text_out_of_mermaid_syntax() -> None:
    payload = '<img src=x onerror=alert(1)>; #; B->>S: fake'
    events = [ConsoleEvent('connecting', 0, 'CONNECTING', {}), ConsoleEvent('open', 1, 'OPEN', {}),
              ConsoleEvent('sent', 2, 'OPEN', {'text': payload}),
              ConsoleEvent('received', 3, 'OPEN', {'text': payload}),
              ConsoleEvent('close', 4, 'CLOSED', {'code': 1006, 'clean': False})]
    diagram = sequence_diagram(events)
    assert diagram.splitlines()[0] == 'sequenceDiagram'
    assert 'S-->>B: 101 Switching Protocols' in diagram
    assert 'Note over B,S: connection lost (1006)' in diagram
    assert '<' not in diagram and ';' not in diagram and '#' not in diagram
    assert diagram.count('->>') == 4  # the payload's own arrow was neutralized
    assert events[3].describe() == 'received a text frame:' and events[3].text == payload


def test_handshake_is_shown_as_request_then_response() -> None:
    text = handshake_text({'request_line': 'GET /echo HTTP/1.1', 'request_headers': [['Upgrade', 'websocket']],
                           'status_line': 'HTTP/1.1 101 Switching Protocols',
                           'response_headers': [['Sec-WebSocket-Accept', 'abc=']]})
    assert text.splitlines() == ['GET /echo HTTP/1.1', 'Upgrade: websocket', '',
                                 'HTTP/1.1 101 Switching Protocols', 'Sec-WebSocket-Accept: abc=']


def test_long_polling_and_sse_reports_become_lanes() -> None:
    comparison = Comparison()
    comparison.take_report({
        'longpoll': {'samples': [[1, 0, 5], [2, 10, 12]], 'requests': 3, 'empty_answers': 1, 'running': True},
        'sse': {'samples': [[1, 0, 2], [3, 10, 11]], 'requests': 1, 'connections_opened': 1, 'reconnects': 0,
                'statuses': [{'state': 'open'}]},
    })
    assert [name for name, _ in comparison.lanes()] == ['poll', 'longpoll', 'sse', 'push']
    assert comparison.longpoll.requests == 3 and comparison.longpoll.empty_answers == 1
    assert comparison.longpoll.status == 'asking again the moment each answer is in'
    assert comparison.sse.updates == 2 and comparison.sse.missing_seqs() == 1
    assert comparison.sse.status == 'open'
    assert comparison.run_summary(500) is None  # polling and push have not run: nothing for the quiz


async def test_no_run_is_stored_before_the_demo_ran(user: User) -> None:
    await user.open('/demo')
    from nicegui import app
    assert 'demo_run' not in app.storage.user


def _entry(data: bytes, index: int, direction: str, connection: int = 1) -> dict:
    decoded = decode_frame(data)
    assert decoded is not None
    return {'index': index, 'connection': connection, 'direction': direction, **frame_entry(decoded[0])}


def test_a_frame_is_shown_field_by_field() -> None:
    # A masked text frame of 126 bytes, as a browser sends it (key 01 02 03 04).
    key = bytes([1, 2, 3, 4])
    payload = b'a' * 126
    masked = bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))
    entry = _entry(bytes([0x81, 0x80 | 126, 0, 126]) + key + masked, 7, 'client→server')
    lines = frame_lines(entry)
    assert frame_heading(entry) == '#7 · connection 1 · browser → server · text'
    assert lines[0] == 'FIN 1 · RSV1 0 RSV2 0 RSV3 0 · opcode 0x1 (text) · MASK 1, masking key 01020304'
    assert lines[1].startswith('payload length 126 in the 16-bit form: the 7-bit field says 126')
    assert lines[2] == 'header 8 bytes, frame 134 bytes on the wire'
    assert lines[3] == 'first bytes as sent (masked): 60 63 62 65 60 63 62 65 60 63 62 65 60 63 62 65'
    assert lines[4] == 'unmasked (XOR with the key): ' + ' '.join(['61'] * 16)
    assert lines[5] == 'as text: ' + 'a' * 16
    echo = frame_lines(_entry(bytes([0x81, 5]) + b'hello', 8, 'server→client'))
    assert echo[0].endswith('MASK 0') and echo[2] == 'header 2 bytes, frame 7 bytes on the wire'
    assert not any('unmasked' in line for line in echo)


def test_compression_bytes_are_counted_per_connection_from_the_frame_log() -> None:
    close = bytes([0x88, 0x80 | 16]) + bytes(4) + (1000).to_bytes(2, 'big') + b'compression on'
    entries = [
        _entry(bytes([0x81, 0x85]) + bytes(4) + b'hello', 0, 'client→server', connection=2),
        _entry(bytes([0x81, 5]) + b'hello', 1, 'server→client', connection=2),
        _entry(bytes([0xC1, 0x83]) + bytes(4) + b'abc', 2, 'client→server', connection=3),
        _entry(bytes([0xC1, 3]) + b'abc', 3, 'server→client', connection=3),
        _entry(close, 4, 'client→server', connection=3),
    ]
    assert wire_bytes(entries, 'compression on') == {'out': 9, 'in': 5, 'messages': 1, 'compressed': 1}
    assert wire_bytes(entries, 'compression off') is None
