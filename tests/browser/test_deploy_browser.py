"""Two app instances behind HAProxy with Redis, in Chromium: one public port, progress that follows the learner,
an instance killed mid-class, Redis restarted mid-quiz.

The class board across the two instances is tests/browser/test_deploy_class_board.py; the class store's own
cross-process test is tests/deploy/test_class_store_redis.py.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from lesson.web.deployment import ECHO_PREFIX

from ..support.deployment import Deployment
from .class_steps import QUIZ, running

TOTAL = len(QUIZ.questions)
HUB_OPEN = '() => Boolean(window.wsDemo && wsDemo.hub && wsDemo.hub.isOpen)'


@pytest.fixture(scope='module')
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from running(Deployment(Path(tmp_path_factory.mktemp('deploy')), count=2))


def pinned(browser: Browser, deployment: Deployment, instance: str) -> BrowserContext:
    """A learner's browser whose proxy cookie already names ``instance`` (as after their first page load)."""
    context = browser.new_context(viewport={'width': 1280, 'height': 900})
    context.add_cookies([{'name': 'SERVERID', 'value': instance, 'url': deployment.url}])
    return context


def served_by(context: BrowserContext) -> str:
    return next(cookie['value'] for cookie in context.cookies() if cookie['name'] == 'SERVERID')


def answer_all(page: Page, right: bool) -> None:
    for question in QUIZ.questions:
        option = question.correct_option if right else next(o for o in question.options if not o.correct)
        group = page.locator(f'[role=radiogroup][aria-labelledby="quiz-prompt-{question.id}"]')
        group.get_by_role('radio', name=option.text, exact=True).click()
    expect(page.get_by_role('status')).to_have_text(f'Answered {TOTAL} of {TOTAL}')


def score_text(right: bool) -> str:
    return f'{TOTAL} / {TOTAL} (100 %)' if right else f'0 / {TOTAL} (0 %)'


def expect_history(page: Page, right: bool) -> None:
    history = page.locator('.q-expansion-item').filter(has_text='Attempt 1 ·')
    expect(history).to_contain_text(f'{score_text(right)} · best')


def test_the_demo_runs_through_the_one_public_port(browser: Browser, deployment: Deployment) -> None:
    context = pinned(browser, deployment, 'app2')
    page = context.new_page()
    problems: list[str] = []
    page.on('console', lambda message: problems.append(message.text) if message.type == 'error' else None)
    page.goto(deployment.url + '/demo', wait_until='networkidle')
    page.wait_for_function(HUB_OPEN, timeout=15_000)
    urls = page.evaluate('() => wsDemo.hub.urls')
    assert urls['inspect'].startswith(f'ws://127.0.0.1:{deployment.proxy.port}{ECHO_PREFIX}/inspect?session=')
    assert urls['poll'].startswith(f'http://127.0.0.1:{deployment.proxy.port}{ECHO_PREFIX}/poll?session=')
    # an echo round trip through the proxy to app2's echo server, at the address the page was given
    echoed = page.evaluate("""() => new Promise((resolve, reject) => {
      const socket = new WebSocket(wsDemo.hub.urls.echo);
      socket.onopen = () => socket.send('through the proxy');
      socket.onmessage = (event) => { resolve(event.data); socket.close(); };
      socket.onerror = () => reject(new Error('the echo socket failed'));
    })""")
    assert echoed == 'through the proxy'
    assert served_by(context) == 'app2'
    assert not [p for p in problems if 'Content Security Policy' in p or 'WebSocket' in p], problems
    context.close()


def test_progress_follows_the_learner_and_survives_a_killed_instance(browser: Browser, deployment: Deployment) -> None:
    ada, bo = pinned(browser, deployment, 'app1'), pinned(browser, deployment, 'app2')
    ada_page, bo_page = ada.new_page(), bo.new_page()
    for page, right in ((ada_page, True), (bo_page, False)):
        page.set_default_timeout(15_000)
        page.goto(deployment.url + '/quiz', wait_until='networkidle')
        answer_all(page, right)
        page.get_by_role('button', name='Submit answers').click()
        expect(page.get_by_text(score_text(right), exact=True)).to_be_visible()
    assert (served_by(ada), served_by(bo)) == ('app1', 'app2')

    # Bo's progress, written by app2, is found by app1
    bo.add_cookies([{'name': 'SERVERID', 'value': 'app1', 'url': deployment.url}])
    bo_page.goto(deployment.url + '/quiz', wait_until='networkidle')
    expect_history(bo_page, right=False)
    assert served_by(bo) == 'app1'

    # Ada is on the demo page of app1 when app1 dies
    ada_page.goto(deployment.url + '/demo', wait_until='networkidle')
    ada_page.wait_for_function(HUB_OPEN, timeout=15_000)
    first_session = ada_page.evaluate('() => wsDemo.hub.session')
    deployment.kill(0)
    deployment.proxy.wait_for({'app1': False, 'app2': True})
    # her page notices and comes back on app2, with a demo session of app2's (NiceGUI reloads a page whose
    # server does not know it; the proxy has sent her to the live instance)
    ada_page.wait_for_function(
        f'() => Boolean(window.wsDemo && wsDemo.hub && wsDemo.hub.isOpen && wsDemo.hub.session !== {first_session!r})',
        timeout=30_000,
    )
    assert served_by(ada) == 'app2'
    ada_page.goto(deployment.url + '/quiz', wait_until='networkidle')
    expect_history(ada_page, right=True)

    deployment.apps[0].start()  # back for the next test
    deployment.proxy.wait_for({'app1': True, 'app2': True})
    ada.close()
    bo.close()


def test_a_redis_restart_loses_no_submitted_attempt(browser: Browser, deployment: Deployment) -> None:
    cy = pinned(browser, deployment, 'app2')
    page = cy.new_page()
    page.set_default_timeout(15_000)
    page.goto(deployment.url + '/quiz', wait_until='networkidle')
    answer_all(page, right=True)
    app = deployment.apps[1]
    log_before = len(app.log)

    deployment.redis.stop()
    page.get_by_role('button', name='Submit answers').click()
    expect(page.get_by_text(score_text(True), exact=True)).to_be_visible()  # the page goes on from memory
    deadline = time.monotonic() + 10
    while 'is unreachable' not in app.log[log_before:]:
        assert time.monotonic() < deadline, app.log[log_before:]
        time.sleep(0.1)  # the health check pings every second
    page.goto(deployment.url + '/', wait_until='networkidle')  # pages keep being served meanwhile
    expect(page.get_by_text(re.compile('Your best quiz score'))).to_be_visible()

    deployment.redis.start()  # same port, same append-only file
    deadline = time.monotonic() + 20
    while 'reachable again' not in app.log[log_before:]:
        assert time.monotonic() < deadline, app.log[log_before:]
        time.sleep(0.1)
    # the attempt reached Redis (its own key, written again once Redis was back) ...
    key = f'websocket-lesson:nicegui:user-{session_id(cy)}'
    deadline = time.monotonic() + 10
    while '"attempts":[{' not in deployment.redis.command('get', key).replace(' ', ''):
        assert time.monotonic() < deadline, f'the attempt never reached Redis: {deployment.redis.command("get", key)}'
        time.sleep(0.1)
    # ... and the other instance, which never saw this learner, shows it
    cy.add_cookies([{'name': 'SERVERID', 'value': 'app1', 'url': deployment.url}])
    page.goto(deployment.url + '/quiz', wait_until='networkidle')
    expect_history(page, right=True)
    assert served_by(cy) == 'app1'
    cy.close()


def session_id(context: BrowserContext) -> str:
    """The learner's NiceGUI session id, from the signed session cookie (base64 JSON before the first dot)."""
    value = next(cookie['value'] for cookie in context.cookies() if cookie['name'] == 'session')
    payload = value.split('.', 1)[0]
    return json.loads(base64.b64decode(payload + '=' * (-len(payload) % 4)))['id']
