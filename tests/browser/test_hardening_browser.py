"""Hardening seen from Chromium: the Content-Security-Policy breaks nothing on /, /quiz and /demo (no violation
while the pages run and the demos reach the echo server), a page cannot write forged lines into the server log,
and a learner whose progress file was damaged is told so."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from itsdangerous import TimestampSigner
from playwright.sync_api import BrowserContext, Page, expect

from lesson.storage.learner_files import LOST_PROGRESS_MESSAGE

from .conftest import RunningApp

pytestmark = pytest.mark.browser
SLOW = 20_000  # ms

# Every violation the page reports, whether or not it reaches the console.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI}`));
"""
# What the demos do against the echo port, whatever the page's current shape: a WebSocket, a fetch, an EventSource.
REACH_ECHO = """async (port) => {
  const base = `${location.hostname}:${port}`;
  const socket = await new Promise((resolve) => {
    const ws = new WebSocket(`ws://${base}/echo`);
    ws.onopen = () => { ws.close(); resolve('open'); };
    ws.onerror = () => resolve('error');
  });
  const poll = await fetch(`http://${base}/poll`).then((r) => r.status, (e) => e.name);
  const sse = await new Promise((resolve) => {
    const source = new EventSource(`http://${base}/sse`);
    source.onopen = () => { source.close(); resolve('open'); };
    source.onerror = () => { source.close(); resolve('error'); };
  });
  return { socket, poll, sse };
}"""

# Every lane has made its requests and shown updates, and the clock is synchronised: all the page's connections ran.
LANES_HAVE_RUN = """() => ['poll', 'longpoll', 'sse', 'push'].every(
    (lane) => Number(document.querySelector(`[data-figure="${lane}-updates"]`)?.dataset.value) >= 2)
  && document.querySelector('[data-figure="clock-offset"]')?.dataset.value"""
SCROLLED_DOWN_AND_DRAWN = """() => window.scrollY + window.innerHeight >= document.body.scrollHeight - 2
  && [...document.querySelectorAll('.lesson-diagram')].every((diagram) => diagram.querySelector('svg'))"""


def csp_errors(messages: list[str]) -> list[str]:
    return [text for text in messages if 'Content Security Policy' in text or 'Content-Security-Policy' in text]


@pytest.mark.parametrize('path', ['/', '/quiz', '/demo'])
def test_the_pages_run_under_the_policy(lesson_app: RunningApp, context: BrowserContext, path: str) -> None:
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on('console', lambda message: console.append(message.text))
    answer = page.goto(lesson_app.url + path)
    assert answer is not None and "frame-ancestors 'none'" in answer.headers['content-security-policy']
    expect(page.locator('header')).to_be_visible(timeout=SLOW)
    page.wait_for_function('window.socket && window.socket.connected', timeout=SLOW)  # NiceGUI's own socket
    if path == '/demo':
        start = page.get_by_role('button', name='Start')
        if start.count():
            start.first.click()
        reached = page.evaluate(REACH_ECHO, lesson_app.echo_port)
        # the server may refuse the bare paths (no session), but the browser let every request out
        assert reached['socket'] in {'open', 'error'} and isinstance(reached['poll'], int), reached
        page.wait_for_function(LANES_HAVE_RUN, timeout=SLOW)
    if path == '/':
        page.keyboard.press('End')  # diagrams and code further down render
        page.wait_for_function(SCROLLED_DOWN_AND_DRAWN, timeout=SLOW)
    assert page.evaluate('window.__csp') == []
    assert csp_errors(console) == []


def test_the_policy_blocks_a_foreign_connection(lesson_app: RunningApp, context: BrowserContext) -> None:
    """The test above can fail: a connection to another port is refused and reported."""
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto(lesson_app.url + '/')
    page.wait_for_function('window.socket && window.socket.connected', timeout=SLOW)
    outcome = page.evaluate('() => fetch("http://127.0.0.1:9/").then(() => "sent", (e) => e.name)')
    assert outcome == 'TypeError'
    page.wait_for_function('window.__csp.length > 0', timeout=SLOW)
    assert 'connect-src' in page.evaluate('window.__csp')[0]


def test_a_page_cannot_forge_or_flood_server_log_lines(lesson_app: RunningApp, page: Page) -> None:
    # The app is shared by the session's browser tests: what the others left in its log (a tab closed mid-request
    # can leave Starlette's 'No response returned.' traceback, starlette#2516) is not this test's to judge
    log_before = len(lesson_app.log)
    page.goto(lesson_app.url + '/')
    page.wait_for_function('window.socket && window.socket.connected && window.did_handshake', timeout=SLOW)
    # each message asks socket.io for an acknowledgement, sent once the server's handler has returned: when all are
    # in, the server has handled (and logged or dropped) every one of them
    page.evaluate("""() => {
      const sent = [];
      const send = (payload) => sent.push(new Promise((done) => window.socket.emit('log', payload, done)));
      const emit = (level, message) => send({ client_id: window.clientId, level, message });
      emit('bogus', 'unknown level');
      emit('critical', 'unknown level');
      send('not an object');
      send({ client_id: 'someone-else', level: 'warning', message: 'not my page' });
      emit('error', 'first line\\nERROR:     forged second line\\x1b[31m');
      for (let i = 0; i < 100; i++) emit('warning', `flood ${i}`);
      const late = new Promise((_, fail) => setTimeout(() => fail(new Error('not all acknowledged')), 15000));
      return Promise.race([Promise.all(sent), late]);
    }""")
    log = lesson_app.log[log_before:]
    assert 'KeyError' not in log and 'Traceback' not in log
    assert 'unknown level' not in log and 'not an object' not in log and 'not my page' not in log
    assert 'first line\\x0aERROR:     forged second line\\x1b[31m' in log
    assert not any(line.startswith('ERROR:     forged') for line in log.splitlines())
    assert log.count('flood ') < 25 and 'too many log lines' in log


def after_a_round_trip(page: Page) -> None:
    """Return once the server has answered an event sent now. Its messages to a page leave in the order it queued
    them, so whatever it queued earlier (a notification at connect) has arrived by then. The event: the header's
    Dark switch, whose effect on the page (the dark body) comes from the server."""
    dark = page.evaluate("document.body.classList.contains('body--dark')")
    page.get_by_role('switch', name='Dark').click()
    page.wait_for_function('(before) => document.body.classList.contains("body--dark") !== before', arg=dark)


def _session_cookie(session_id: str, secret: str) -> str:
    """The cookie Starlette's SessionMiddleware would have set for this session id."""
    data = base64.b64encode(json.dumps({'id': session_id}).encode())
    return TimestampSigner(secret).sign(data).decode()


def test_a_learner_whose_progress_was_damaged_is_told_once(
    start_app: Callable[..., RunningApp], context: BrowserContext
) -> None:
    app = start_app()
    app.stop()
    folder = app.data_dir / 'storage'
    folder.mkdir(parents=True, exist_ok=True)
    whole = json.dumps(
        {
            'quiz': {
                'current': None,
                'attempts': [
                    {'number': 1, 'seed': 0, 'score': 3, 'total': 4, 'submitted_at': '2026-01-01T00:00:00+00:00'}
                ],
            }
        }
    )
    (folder / 'storage-user-damaged-at-rest.json').write_text(whole[:40], encoding='utf-8')
    app.start()
    # and one damaged while the app runs, found when its learner comes back
    (folder / 'storage-user-damaged-live.json').write_text(whole[:40], encoding='utf-8')
    for session_id in ('damaged-at-rest', 'damaged-live'):
        context.clear_cookies()
        context.add_cookies(
            [{'name': 'session', 'value': _session_cookie(session_id, 'browser-test-secret'), 'url': app.url}]
        )
        page = context.new_page()
        page.goto(app.url + '/quiz')
        expect(page.get_by_text(LOST_PROGRESS_MESSAGE)).to_be_visible(timeout=SLOW)
        [kept] = list(folder.glob(f'storage-user-{session_id}.json.unreadable-*'))
        assert kept.read_text(encoding='utf-8') == whole[:40]  # kept aside, bytes untouched
        page.reload()
        page.wait_for_function('window.socket && window.socket.connected && window.did_handshake', timeout=SLOW)
        after_a_round_trip(page)  # what the server queued for the page at connect has arrived
        expect(page.get_by_text(LOST_PROGRESS_MESSAGE)).to_have_count(0)  # told once
        page.close()
    assert 'storage-user-damaged-at-rest.json' in app.log and 'WARNING' in app.log
