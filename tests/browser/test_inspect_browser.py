"""The protocol inspection panels in Chromium: frame anatomy, the handshake computed, break-it controls, the long
polling and SSE lanes, the quiz quoting the learner's run, and accessibility in both themes and on a phone.

Figures are read from `data-*` attributes (what the learner reads, without parsing prose). One page per test, on the
session-wide app; the page's own echo session keeps the tests from seeing each other's frames.
"""

from __future__ import annotations

import json

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


def test_a_dropped_connection_is_1006_and_unclean_a_server_close_keeps_its_code(lesson_app: RunningApp,
                                                                                 page: Page) -> None:
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
    expect(page.locator('[data-log=frames] [data-direction=server-to-client][data-close-code="1008"]')) \
        .to_have_count(1, timeout=SLOW)


def test_a_server_ping_is_answered_by_the_browser(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    connect_console(page)
    page.get_by_role('button', name='Ping from the server').click()
    frames = page.locator('[data-log=frames]')
    expect(frames.locator('[data-direction=server-to-client][data-opcode=ping]')).to_have_count(1, timeout=SLOW)
    expect(frames.locator('[data-direction=client-to-server][data-opcode=pong]')).to_have_count(1, timeout=SLOW)


def test_four_lanes_long_polling_and_sse_get_every_update_and_the_quiz_quotes_the_run(
        lesson_app: RunningApp, page: Page) -> None:
    sse_requests: list[str] = []
    page.on('request', lambda request: sse_requests.append(request.url) if '/sse?' in request.url else None)
    open_demo(page, lesson_app)
    page.get_by_role('button', name='Start').click()
    for lane in ('poll', 'longpoll', 'sse', 'push'):
        wait_for_figure_at_least(page, f'{lane}-updates', 8)
    page.get_by_role('button', name='Stop', exact=True).click()
    page.wait_for_timeout(800)  # the last batch of samples and a counter refresh

    figures = {lane: {name: figure(page, f'{lane}-{name}') for name in
                      ('updates', 'requests', 'empty', 'connections', 'bytes-per-update', 'delay-p50', 'delay-p95')}
               for lane in ('poll', 'longpoll', 'sse', 'push')}
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

    page.goto(lesson_app.url + '/quiz')
    for group in page.locator('[role=radiogroup]').all():
        group.get_by_role('radio').first.click()
    page.get_by_role('button', name='Submit answers').click()
    requests = int(figures['poll']['requests'])
    quote = page.get_by_text('In your run on the demo page, polling made')
    expect(quote).to_contain_text(f'polling made {requests} requests', timeout=SLOW)
    expect(page.get_by_text('In your run on the demo page, the WebSocket delivered')).to_be_visible()


def test_demo_in_both_themes_has_no_serious_accessibility_violation(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    connect_console(page)
    page.get_by_role('button', name='Echo 125 bytes').click()
    expect(page.locator('[data-log=frames] [data-payload-length="125"]').first).to_be_visible(timeout=SLOW)
    expect(page.locator('#echo-console svg').first).to_be_visible(timeout=SLOW)
    assert serious_violations(page) == []
    page.get_by_role('switch', name='Dark').click()
    expect(page.locator('body.body--dark')).to_have_count(1)
    page.wait_for_timeout(1000)  # Quasar's loading bar (the switch's round trip) has gone
    violations = serious_violations(page)
    assert violations == [], '\n'.join(violations)
    page.get_by_role('switch', name='Dark').click()  # the choice is kept per learner: leave it light


def test_live_logs_pause_by_keyboard_and_charts_follow_reduced_motion(lesson_app: RunningApp, page: Page) -> None:
    page.emulate_media(reduced_motion='reduce')
    open_demo(page, lesson_app)
    expect(page.locator('[data-motion]')).to_have_attribute('data-motion', 'reduced', timeout=SLOW)
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
