"""The live demos in Chromium against the real app: polling and push measured, the echo console, the lesson's
code, text that stays text, a server restart survived, a phone-sized screen and an accessibility scan.

Figures are read from `data-figure`/`data-value` attributes (what the learner reads, without parsing prose);
WebSocket traffic is watched with `page.on('websocket')`, because `page.on('request')` does not see frames.
"""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import Dialog, Page, WebSocket, expect

from lesson.storage.content_files import bundled_content_dir, load_lesson

from .accessibility import serious_violations
from .conftest import OffsiteRequests, RunningApp

SNIPPET = load_lesson(bundled_content_dir()).code('first-socket').source
XSS_PAYLOAD = '<img src=x onerror="window.__xss = true; alert(1)">'
POLL_INTERVAL_MS = 250
RUN_S = 4.0
SLOW = 15_000  # ms: a shared 2-core machine can be slow to start Chromium's sockets


def figure(page: Page, name: str) -> float:
    value = page.locator(f'[data-figure="{name}"]').get_attribute('data-value')
    assert value not in (None, ''), f'{name} has no value yet'
    return float(value)


def wait_for_figure_at_least(page: Page, name: str, minimum: float, timeout: float = SLOW) -> None:
    page.wait_for_function(
        '([name, minimum]) => Number(document.querySelector(`[data-figure="${name}"]`)?.dataset.value) >= minimum',
        arg=[name, minimum],
        timeout=timeout,
    )


def open_demo(page: Page, app: RunningApp) -> None:
    page.goto(app.url + '/demo')
    expect(page.locator('[data-url=push]')).to_contain_text(f':{app.echo_port}/push?session=', timeout=SLOW)
    # Start is enabled once the page's inspection stream is open: a press then always works.
    expect(page.get_by_role('button', name='Start')).to_be_enabled(timeout=SLOW)


def choose(page: Page, control: str, option: str) -> None:
    page.locator(f'[data-control={control}]').select_option(label=option)


def test_polling_and_push_side_by_side(lesson_app: RunningApp, page: Page, offsite_requests: OffsiteRequests) -> None:
    pushed_seqs: list[int] = []
    poll_times: list[float] = []

    def watch_socket(socket: WebSocket) -> None:
        if '/push?' in socket.url:
            socket.on(
                'framereceived',
                lambda payload: pushed_seqs.extend(
                    [message['seq']] if (message := json.loads(payload))['type'] == 'update' else []
                ),
            )

    page.on('websocket', watch_socket)
    page.on('request', lambda request: poll_times.append(time.monotonic()) if '/poll?' in request.url else None)
    open_demo(page, lesson_app)
    choose(page, 'poll-interval', '250 ms')

    page.get_by_role('button', name='Start').click()
    wait_for_figure_at_least(page, 'push-updates', 1)
    page.wait_for_timeout(RUN_S * 1000)
    seen_before_stop = len(pushed_seqs)
    page.get_by_role('button', name='Stop').click()
    # The last batch of samples and the server's last counts: wait until the figures agree with what was seen.
    # (Updates in flight while the socket closes may reach the wire but not the page: it stopped listening.)
    page.wait_for_function("() => document.querySelector('[data-status=push]').textContent.includes('closed')")
    page.wait_for_function(
        "(n) => Number(document.querySelector('[data-figure=poll-connections]').dataset.value) >= n",
        arg=len(poll_times) - 1,
    )
    page.wait_for_function(
        "(n) => Number(document.querySelector('[data-figure=push-updates]').dataset.value) >= n", arg=seen_before_stop
    )

    # Polling kept its interval (one request at a time, start to start), within generous bounds.
    assert len(poll_times) >= RUN_S * 1000 / POLL_INTERVAL_MS * 0.6
    mean_gap_ms = (poll_times[-1] - poll_times[0]) / (len(poll_times) - 1) * 1000
    assert POLL_INTERVAL_MS * 0.8 <= mean_gap_ms <= POLL_INTERVAL_MS * 1.6, mean_gap_ms
    assert abs(figure(page, 'poll-requests') - len(poll_times)) <= 1
    # Every poll was its own TCP connection (the server counts them); push used one.
    assert figure(page, 'poll-connections') >= len(poll_times) - 1
    assert figure(page, 'push-connections') == 1

    # Every pushed update arrived, numbered from the first one, with no gap.
    assert pushed_seqs == list(range(1, len(pushed_seqs) + 1)), pushed_seqs
    assert seen_before_stop <= figure(page, 'push-updates') <= len(pushed_seqs)
    assert figure(page, 'push-missing') == 0
    assert figure(page, 'poll-missing') == 0

    # Push is faster, and cheaper per update.
    assert figure(page, 'push-delay-p50') < figure(page, 'poll-delay-p50')
    assert figure(page, 'push-delay-p95') < POLL_INTERVAL_MS
    assert 0 < figure(page, 'push-bytes-per-update') < figure(page, 'poll-bytes-per-update')
    expect(page.locator('[data-figure=deflate]')).to_have_attribute('data-value', re.compile('on|off'))
    expect(page.locator('[data-reading=lanes]')).to_contain_text('Push sent each update the moment it was made')
    assert offsite_requests.urls == []


def test_echo_console_shows_the_handshake_and_a_round_trip_as_text(lesson_app: RunningApp, page: Page) -> None:
    sent: list[str] = []
    received: list[str] = []
    dialogs: list[str] = []

    def watch_socket(socket: WebSocket) -> None:
        if '/echo?' in socket.url:
            socket.on('framesent', lambda payload: sent.append(str(payload)))
            socket.on('framereceived', lambda payload: received.append(str(payload)))

    def answer_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on('websocket', watch_socket)
    page.on('dialog', answer_dialog)
    open_demo(page, lesson_app)

    page.get_by_role('button', name='Connect', exact=True).click()
    expect(page.locator('[data-figure=ready-state]')).to_have_attribute('data-value', 'OPEN', timeout=SLOW)
    handshake = page.locator('[data-handshake=echo]')
    for line in (
        'GET /echo?session=',
        'Upgrade: websocket',
        'Sec-WebSocket-Key: ',
        'Sec-WebSocket-Version: 13',
        'HTTP/1.1 101 Switching Protocols',
        'Sec-WebSocket-Accept: ',
    ):
        expect(handshake).to_contain_text(line)

    page.get_by_label('Message to send').fill(XSS_PAYLOAD)
    page.get_by_role('button', name='Send').click()
    expect(page.locator('[data-log-text=received]')).to_have_text(XSS_PAYLOAD, timeout=SLOW)
    assert sent == [XSS_PAYLOAD] and received == [XSS_PAYLOAD]
    # The echo stayed text: no element was made of it and its handler never ran.
    assert page.locator('[data-log=console] img').count() == 0
    assert page.evaluate('window.__xss') is None
    assert dialogs == []

    page.get_by_role('button', name='Disconnect').click()
    expect(page.locator('[data-log-kind=close]')).to_contain_text('code 1000', timeout=SLOW)
    expect(page.locator('[data-figure=ready-state]')).to_have_attribute('data-value', 'CLOSED')
    diagram = page.locator('[data-diagram=console]')
    expect(diagram).to_contain_text('101 Switching Protocols', timeout=SLOW)
    expect(diagram).to_contain_text('close frame 1000')


def test_the_lessons_code_runs_and_logs_open_message_close(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    page.get_by_role('button', name="Run the lesson's code").click()
    lines = page.locator('[data-console-line=log]')
    expect(lines).to_have_text(
        ['Connection opened', "Message received: Hello from the lesson's code", 'Connection closed'], timeout=SLOW
    )
    ran = page.locator('[data-code=lesson-ran]')
    expect(ran).to_contain_text(f'ws://127.0.0.1:{lesson_app.echo_port}/echo?session=')
    ran_text = ran.locator('code').inner_text()
    # Only the address differs from the lesson's text.
    assert re.sub(r"'ws://[^']*'", "'wss://example-server.com'", ran_text).strip() == SNIPPET.strip()


def test_phone_width_does_not_scroll_sideways(lesson_app: RunningApp, page: Page) -> None:
    page.set_viewport_size({'width': 375, 'height': 812})
    open_demo(page, lesson_app)
    page.get_by_role('button', name='Connect', exact=True).click()
    expect(page.locator('[data-figure=ready-state]')).to_have_attribute('data-value', 'OPEN', timeout=SLOW)
    page.get_by_role('button', name='Start').click()
    wait_for_figure_at_least(page, 'push-updates', 2)
    overflow = page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
    page.get_by_role('button', name='Stop').click()
    assert overflow <= 0


def test_demo_has_no_serious_accessibility_violation(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    expect(page.locator('[data-diagram=console]')).to_be_visible(timeout=SLOW)
    assert serious_violations(page) == []


def test_a_restarted_echo_server_is_survived(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    page.get_by_role('button', name='Connect', exact=True).click()
    expect(page.locator('[data-figure=ready-state]')).to_have_attribute('data-value', 'OPEN', timeout=SLOW)
    page.get_by_role('button', name='Start').click()
    wait_for_figure_at_least(page, 'push-updates', 1)

    page.get_by_role('button', name='Take the echo server down for 3 s').click()
    expect(page.locator('[data-status=push]')).to_contain_text('trying again', timeout=SLOW)
    expect(page.locator('[data-status=poll]')).to_contain_text('failed', timeout=SLOW)
    expect(page.locator('[data-log-kind=reconnecting]').first).to_contain_text('trying again', timeout=SLOW)
    wait_for_figure_at_least(page, 'poll-failed', 1)

    # Back within the downtime plus a backoff step or two.
    expect(page.locator('[data-status=push]')).to_have_text('open', timeout=20_000)
    expect(page.locator('[data-figure=ready-state]')).to_have_attribute('data-value', 'OPEN', timeout=20_000)
    expect(page.locator('[data-status=poll]')).to_contain_text('asking every', timeout=SLOW)
    updates_after_return = figure(page, 'push-updates')
    wait_for_figure_at_least(page, 'push-updates', updates_after_return + 2)
    # The server's count reaches the page over the inspection stream, which reconnects on its own schedule.
    wait_for_figure_at_least(page, 'push-connections', 2)
    assert figure(page, 'push-connections') == 2
    assert figure(page, 'push-failed') >= 1
    page.get_by_role('button', name='Stop').click()
