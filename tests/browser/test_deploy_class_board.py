"""A class spread over two instances behind HAProxy, sharing Redis: the teacher's board on one instance sees the
students on both, live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from ..support.app_process import ConsoleScriptMissing
from ..support.deployment import Deployment, MissingBinary
from .test_teacher_browser import answer_quiz, answers_scoring

TOKEN = 'teacher-token-for-the-deployment'
#: Across instances an event goes through Redis pub/sub: allow more than the one-instance 1 s, still "live".
ACROSS_INSTANCES_MS = 5_000


@pytest.fixture(scope='module')
def class_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = Deployment(Path(tmp_path_factory.mktemp('class-deploy')), count=2, extra_args=['--teacher-token', TOKEN])
    try:
        running.start()
    except (MissingBinary, ConsoleScriptMissing) as missing:
        running.stop()
        pytest.fail(str(missing))
    yield running
    running.stop()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def pinned(browser: Browser, made: list[BrowserContext], deployment: Deployment, instance: str) -> BrowserContext:
    """A browser whose proxy cookie already names ``instance``, as after its first page load there."""
    context = browser.new_context(viewport={'width': 1280, 'height': 720})
    context.add_cookies([{'name': 'SERVERID', 'value': instance, 'url': deployment.url}])
    made.append(context)
    return context


def served_by(context: BrowserContext) -> str:
    return next(cookie['value'] for cookie in context.cookies() if cookie['name'] == 'SERVERID')


def join(context: BrowserContext, base: str, nickname: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(base + '/join')
    page.get_by_label('Nickname (optional)').fill(nickname)
    page.get_by_role('button', name='Join the class').click()
    expect(page.get_by_test_id('join-joined')).to_have_text(f'You are in the class as {nickname}.')
    return page


def test_students_on_two_instances_reach_one_teachers_board(
    browser: Browser, class_deployment: Deployment, contexts: list[BrowserContext]
) -> None:
    base = class_deployment.url
    teacher = pinned(browser, contexts, class_deployment, 'app1')
    board = teacher.new_page()
    board.set_default_timeout(15_000)
    board.goto(f'{base}/teacher?token={TOKEN}')
    if board.get_by_test_id('board-start').count():
        board.get_by_test_id('board-start').click()
    expect(board.get_by_test_id('board-here')).to_have_text('0 here')

    ada = pinned(browser, contexts, class_deployment, 'app1')
    bob = pinned(browser, contexts, class_deployment, 'app2')
    students = [(join(ada, base, 'Ada'), 4), (join(bob, base, 'Bob'), 2)]
    assert (served_by(teacher), served_by(ada), served_by(bob)) == ('app1', 'app1', 'app2')
    expect(board.get_by_test_id('board-here')).to_have_text('2 here', timeout=ACROSS_INSTANCES_MS)
    expect(board.get_by_test_id('board-names')).to_contain_text('Bob')  # joined on the other instance

    for count, (page, score) in enumerate(students, 1):
        answer_quiz(page, base, answers_scoring(score))
        page.get_by_role('button', name='Submit answers').click()
        expect(board.get_by_test_id('board-submitted')).to_have_text(
            f'Submitted: {count} of 2', timeout=ACROSS_INSTANCES_MS
        )
    assert served_by(bob) == 'app2'  # Bob's answers really came in through the other instance
