"""The protocol inspection panels in Chromium: frame anatomy, the handshake computed, break-it controls, the long
polling and SSE lanes, the quiz quoting the learner's run, and accessibility in both themes and on a phone.

Figures are read from `data-*` attributes (what the learner reads, without parsing prose). One page per test, on the
session-wide app; the page's own echo session keeps the tests from seeing each other's frames.
"""

from __future__ import annotations

import json
import time

from playwright.sync_api import Page, WebSocket, expect

from .accessibility import serious_violations
from .conftest import RunningApp
from .test_demo_browser import SLOW, figure, open_demo, wait_for_figure_at_least


def connect_console(page: Page) -> None:
    page.get_by_role('button', name='Connect', exact=True).click()
    expect(page.locator('[data-figure=ready-state]')).to_have_attribute('data-value', 'OPEN', timeout=SLOW)


def test_126_bytes_use_the_16_bit_length_form_masked_one_way_only(lesson_app: RunningApp, page: Page) -> None:
    sent_sizes: list[int] = []

    def watch_socket(socket: WebSocket) -> None:
        if '/echo?' in socket.url:
            socket.on('framesent', lambda payload: sent_sizes.append(len(payload)))

    page.on('websocket', watch_socket)
    open_demo(page, lesson_app)
    page.get_by_role('button', name='Echo 125 bytes').click()  # connects the console first
    page.get_by_role('button', name='Echo 126 bytes').click()
    frames = page.locator('[data-log=frames]')
    sent_126 = frames.locator('[data-direction=client-to-server][data-payload-length="126"]')
    echoed_126 = frames.locator('[data-direction=server-to-client][data-payload-length="126"]')
    expect(sent_126).to_have_attribute('data-length-form', '16-bit', timeout=SLOW)
    expect(sent_126).to_have_attribute('data-header-size', '8')  # 2 + 2 of length + 4 of mask
    expect(sent_126).to_have_attribute('data-masked', 'true')
    expect(sent_126).to_contain_text('masking key')
    expect(echoed_126).to_have_attribute('data-length-form', '16-bit', timeout=SLOW)
    expect(echoed_126).to_have_attribute('data-header-size', '4')
    expect(echoed_126).to_have_attribute('data-masked', 'false')
    sent_125 = frames.locator('[data-direction=client-to-server][data-payload-length="125"]')
    expect(sent_125).to_have_attribute('data-length-form', '7-bit')
    expect(sent_125).to_have_attribute('data-header-size', '6')
    assert sent_sizes == [125, 126]


def test_the_handshake_is_recomputed_and_matches(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    connect_console(page)
    expect(page.locator('[data-figure=handshake-match]')).to_have_attribute('data-value', 'match', timeout=SLOW)
    key = page.locator('[data-handshake-step=key]').inner_text()
    assert f'Sec-WebSocket-Key: {key}' in page.locator('[data-handshake=echo]').inner_text()
    accept = page.locator('[data-handshake-step=server-accept]').inner_text()
    assert page.locator('[data-handshake-step=expected]').inner_text() == accept
    assert len(page.locator('[data-handshake-step=sha1]').inner_text()) == 40


def test_a_dropped_connection_is_1006_and_unclean_a_server_close_keeps_its_code(
    lesson_app: RunningApp, page: Page
) -> None:
    open_demo(page, lesson_app)
    connect_console(page)
    page.get_by_role('button', name='Drop the TCP connection').click()
    expect(page.locator('[data-figure=last-close-code]')).to_have_attribute('data-value', '1006', timeout=SLOW)
    expect(page.locator('[data-figure=last-close-clean]')).to_have_attribute('data-value', 'false')
    expect(page.locator('[data-log-kind=close]').last).to_contain_text('not clean')

    # The console reconnects by itself; then the server closes with the learner's code (1008 is the default).
    expect(page.locator('[data-figure=ready-state]')).to_have_attribute('data-value', 'OPEN', timeout=SLOW)
    page.get_by_role('button', name='Server closes with this code').click()
    expect(page.locator('[data-figure=last-close-code]')).to_have_attribute('data-value', '1008', timeout=SLOW)
    expect(page.locator('[data-figure=last-close-clean]')).to_have_attribute('data-value', 'true')
    expect(page.locator('[data-log=frames] [data-direction=server-to-client][data-close-code="1008"]')).to_have_count(
        1, timeout=SLOW
    )


def test_a_server_ping_is_answered_by_the_browser(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    connect_console(page)
    page.get_by_role('button', name='Ping from the server').click()
    frames = page.locator('[data-log=frames]')
    expect(frames.locator('[data-direction=server-to-client][data-opcode=ping]')).to_have_count(1, timeout=SLOW)
    expect(frames.locator('[data-direction=client-to-server][data-opcode=pong]')).to_have_count(1, timeout=SLOW)
    expect(page.locator('[data-status=ping]')).to_contain_text('Pong back after', timeout=SLOW)
    # The server's own measure, from the command's reply. It may read 0: websockets times pongs with the event
    # loop's clock, which under uvloop ticks in whole milliseconds (a loopback pong takes less).
    assert 0 <= figure(page, 'ping-round-trip') < 5000


def test_four_lanes_long_polling_and_sse_get_every_update_and_the_quiz_quotes_the_run(
    lesson_app: RunningApp, page: Page
) -> None:
    sse_requests: list[str] = []
    page.on('request', lambda request: sse_requests.append(request.url) if '/sse?' in request.url else None)
    run_summaries: list[str] = []  # what the page sent its server for the quiz: one summary per run

    def watch_page_socket(socket: WebSocket) -> None:
        if '/_nicegui_ws/' in socket.url or 'socket.io' in socket.url:
            socket.on(
                'framesent',
                lambda payload: run_summaries.append(str(payload)) if 'poll_requests' in str(payload) else None,
            )

    page.on('websocket', watch_page_socket)
    open_demo(page, lesson_app)
    page.get_by_role('button', name='Start').click()
    for lane in ('poll', 'longpoll', 'sse', 'push'):
        wait_for_figure_at_least(page, f'{lane}-updates', 8)
    run_summaries.clear()
    page.get_by_role('button', name='Stop', exact=True).click()
    # The server's counts come over the inspection stream a moment after the browser's own figures.
    page.wait_for_function(
        """() => {
        const value = (name) => Number(document.querySelector(`[data-figure="${name}"]`)?.dataset.value);
        return value('longpoll-connections') >= value('longpoll-requests') - 1 && value('sse-connections') >= 1
            && value('push-connections') >= 1;
    }""",
        timeout=SLOW,
    )

    figures = {
        lane: {
            name: figure(page, f'{lane}-{name}')
            for name in ('updates', 'requests', 'empty', 'connections', 'bytes-per-update', 'delay-p50', 'delay-p95')
        }
        for lane in ('poll', 'longpoll', 'sse', 'push')
    }
    print('four lanes:', json.dumps(figures))
    for lane in ('longpoll', 'sse', 'push'):
        assert figure(page, f'{lane}-missing') == 0, lane
    assert figures['sse']['connections'] == 1 and len(sse_requests) == 1
    assert figures['push']['connections'] == 1
    # Long polling: one request per answer, answered as soon as an update exists.
    assert figures['longpoll']['requests'] >= figures['longpoll']['updates'] / 10
    assert figures['longpoll']['connections'] >= figures['longpoll']['requests'] - 1
    assert figures['longpoll']['delay-p50'] < figures['poll']['delay-p50']
    assert figures['sse']['bytes-per-update'] < figures['poll']['bytes-per-update']
    expect(page.locator('[data-good-for=sse]')).to_contain_text('Server to browser only')

    # The run's summary is sent once its last samples are in: the quiz can quote it once it has left the page.
    deadline = time.monotonic() + SLOW / 1000
    while not run_summaries and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # lets Playwright deliver the socket's events; the condition is the summary
    assert run_summaries, 'the page never sent its run summary'
    page.goto(lesson_app.url + '/quiz')
    for group in page.locator('[role=radiogroup]').all():
        group.get_by_role('radio').first.click()
    page.get_by_role('button', name='Submit answers').click()
    requests = int(figures['poll']['requests'])
    quote = page.get_by_text('In your run on the demo page, polling made')
    expect(quote).to_contain_text(f'polling made {requests} requests', timeout=SLOW)
    expect(page.get_by_text('In your run on the demo page (link: same room), the WebSocket delivered')).to_be_visible()


def test_demo_in_both_themes_has_no_serious_accessibility_violation(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    connect_console(page)
    page.get_by_role('button', name='Echo 125 bytes').click()
    expect(page.locator('[data-log=frames] [data-payload-length="125"]').first).to_be_visible(timeout=SLOW)
    expect(page.locator('#echo-console svg').first).to_be_visible(timeout=SLOW)
    assert serious_violations(page) == []
    page.get_by_role('switch', name='Dark').click()
    expect(page.locator('body.body--dark')).to_have_count(1, timeout=SLOW)
    # Quasar's loading bar (the switch's round trip to the page server) is gone before contrast is measured.
    page.wait_for_function(
        "[...document.querySelectorAll('.q-loading-bar')].every((bar) => getComputedStyle(bar).opacity === '0')",
        timeout=SLOW,
    )
    violations = serious_violations(page)
    assert violations == [], '\n'.join(violations)
    page.get_by_role('switch', name='Dark').click()  # the choice is kept per learner: leave it light


def test_live_logs_pause_by_keyboard_and_charts_follow_reduced_motion(lesson_app: RunningApp, page: Page) -> None:
    page.emulate_media(reduced_motion='reduce')
    open_demo(page, lesson_app)
    expect(page.locator('[data-chart=backpressure]')).to_have_attribute('data-motion', 'reduced', timeout=SLOW)
    for name in ('console', 'frames', 'lesson-code'):
        log = page.locator(f'[data-log={name}]')
        expect(log).to_have_attribute('role', 'log')
        expect(log).to_have_attribute('aria-live', 'off')
        expect(page.locator(f'[data-log-announcer={name}]')).to_have_attribute('aria-live', 'polite')
    pause = page.locator('[data-log-pause=frames]')
    pause.focus()
    page.keyboard.press('Enter')
    expect(pause).to_have_attribute('aria-pressed', 'true')
    page.get_by_role('button', name='Echo 125 bytes').click()
    expect(page.locator('[data-log-held=frames]')).to_contain_text('2 new entries waiting', timeout=SLOW)
    assert page.locator('[data-log=frames] [data-frame-index]').count() == 0
    pause.focus()
    page.keyboard.press('Enter')
    expect(pause).to_have_attribute('aria-pressed', 'false')
    # The frames held back while paused are shown on resume.
    expect(page.locator('[data-log=frames] [data-frame-index]').first).to_be_visible(timeout=SLOW)
    expect(page.locator('[data-log-held=frames]')).to_be_hidden()


def test_new_panels_fit_a_phone(lesson_app: RunningApp, page: Page) -> None:
    page.set_viewport_size({'width': 375, 'height': 812})
    open_demo(page, lesson_app)
    page.get_by_role('button', name='Echo 126 bytes').click()
    expect(page.locator('[data-log=frames] [data-payload-length="126"]').first).to_be_visible(timeout=SLOW)
    expect(page.locator('[data-figure=handshake-match]')).to_have_attribute('data-value', 'match', timeout=SLOW)
    overflow = page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
    assert overflow <= 0


def send_from_console(page: Page, text: str) -> None:
    page.get_by_label('Message to send').fill(text)
    page.get_by_role('button', name='Send', exact=True).click()


def test_the_frame_log_follows_the_newest_entry_unless_scrolled_up(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    log = page.locator('[data-log=frames]')
    expect(log).to_contain_text('No frames yet')  # an empty log says what will appear
    connect_console(page)
    for number in range(1, 13):
        send_from_console(page, f'message {number}')
    echoes = log.locator('[data-direction=server-to-client][data-opcode=text]')
    expect(echoes).to_have_count(12, timeout=SLOW)
    at_bottom = 'e => e.scrollHeight - e.scrollTop - e.clientHeight < 24'
    page.wait_for_function(f'() => ({at_bottom})(document.querySelector("[data-log=frames]"))', timeout=SLOW)
    assert log.evaluate('e => e.scrollHeight > e.clientHeight')  # 24 frames do not fit: it really scrolled
    expect(echoes.last).to_contain_text('message 12')
    expect(page.locator('[data-log-newer=frames]')).to_have_count(0)

    log.evaluate('e => { e.scrollTop = 0; e.dispatchEvent(new Event("scroll")); }')
    send_from_console(page, 'one more')
    newer = page.locator('[data-log-newer=frames]')
    expect(newer).to_contain_text('2 newer entries below', timeout=SLOW)
    assert log.evaluate('e => e.scrollTop') == 0  # the reader's place is kept
    newer.click()
    page.wait_for_function(f'() => ({at_bottom})(document.querySelector("[data-log=frames]"))', timeout=SLOW)
    expect(newer).to_have_count(0)


def test_back_pressure_is_drawn_with_the_servers_pause_and_resume(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    chart = page.locator('[data-chart=backpressure]')
    expect(chart).to_contain_text('will be drawn here')
    page.get_by_role('button', name="Pause the server's reading for 3 s, then burst").click()  # connects first
    expect(page.locator('[data-figure=backpressure-drained]')).not_to_have_attribute('data-value', '', timeout=30_000)
    peak = figure(page, 'backpressure-peak')
    at_resume = figure(page, 'backpressure-at-resume')
    print(
        'back-pressure:',
        {name: figure(page, f'backpressure-{name}') for name in ('peak', 'at-resume', 'kernels-took', 'drained')},
    )
    assert 1_000_000 < peak <= 80 * 60_000  # send() queued much of the burst at once
    # The kernels took some in while the server was paused (on loopback's autotuned buffers, not all of it).
    assert 0 <= at_resume < peak
    assert figure(page, 'backpressure-kernels-took') == peak - at_resume
    marks = chart.locator('[data-mark]')
    expect(marks).to_have_count(2)
    paused_at, resumed_at = (float(marks.nth(i).get_attribute('data-at') or 'nan') for i in range(2))
    assert marks.nth(0).get_attribute('data-mark') == 'paused' and marks.nth(1).get_attribute('data-mark') == 'resumed'
    assert paused_at <= 0 < resumed_at  # the server paused before the burst and read again after it
    assert 2_000 < resumed_at - paused_at < 6_000  # a 3 s pause, as the page heard it
    if at_resume > 0:  # what the kernels could not hold drained only once the server read again
        assert figure(page, 'backpressure-drained') >= resumed_at - 100
    status = page.locator('[data-status=backpressure]')
    expect(status).to_contain_text('reads again')
    # The status line is under the back-pressure chart, not under the closing controls.
    assert chart.evaluate(
        '(c) => Boolean(c.compareDocumentPosition(document.querySelector('
        '"[data-status=backpressure]") ) & Node.DOCUMENT_POSITION_FOLLOWING)'
    )
    assert page.locator('[data-status=break-it]').evaluate(
        '(s) => Boolean(s.compareDocumentPosition(document.querySelector("[data-chart=backpressure]")) '
        '& Node.DOCUMENT_POSITION_FOLLOWING)'
    )


def test_compression_is_measured_in_frame_bytes_per_direction(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    page.get_by_role('button', name='Compare the same 5 messages without and with permessage-deflate').click()
    for cell in ('off-out', 'off-in', 'on-out', 'on-in'):
        expect(page.locator(f'[data-figure=compression-{cell}]')).not_to_have_attribute('data-value', '', timeout=SLOW)
    sizes = {cell: figure(page, f'compression-{cell}') for cell in ('off-out', 'off-in', 'on-out', 'on-in')}
    print('compression:', sizes)
    assert figure(page, 'compression-off-compressed') == 0 and figure(page, 'compression-on-compressed') == 1
    assert sizes['on-out'] < sizes['off-out'] / 2 and sizes['on-in'] < sizes['off-in'] / 2
    assert sizes['off-out'] > sizes['off-in']  # the same text each way; the browser's frames carry a 4-byte mask


def test_when_the_server_goes_away_the_close_and_the_failed_reconnects_are_shown_apart(
    lesson_app: RunningApp, page: Page
) -> None:
    open_demo(page, lesson_app)
    connect_console(page)
    page.get_by_role('button', name='Take the echo server down for 3 s').click()
    restart = page.locator('[data-status=restart]')
    expect(restart).to_have_attribute('data-value', 'down')
    expect(page.locator('[data-figure=last-close-code]')).to_have_attribute('data-value', '1001', timeout=SLOW)
    expect(page.locator('[data-figure=last-close-clean]')).to_have_attribute('data-value', 'true')
    wait_for_figure_at_least(page, 'reconnect-failed', 1)
    expect(restart).to_have_attribute('data-value', 'back', timeout=20_000)
    expect(page.locator('[data-figure=ready-state]')).to_have_attribute('data-value', 'OPEN', timeout=20_000)
    # The failed attempts never opened, so they did not replace the close that ended the connection.
    expect(page.locator('[data-figure=last-close-code]')).to_have_attribute('data-value', '1001')
    expect(page.locator('[data-figure=last-close-clean]')).to_have_attribute('data-value', 'true')
