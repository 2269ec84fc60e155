"""A class's quiz submit while Redis is away, in Chromium behind HAProxy: graded on the page at once, the page says
it will reach the board by itself, and it does once Redis is back (lesson/teaching/write_back.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from ..support.app_process import ConsoleScriptMissing
from ..support.deployment import Deployment, MissingBinary
from .test_teacher_browser import answer_quiz, answers_scoring

TOKEN = 'teacher-token-for-the-outage-test'
SLOW = 15_000


@pytest.fixture(scope='module')
def one_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = Deployment(Path(tmp_path_factory.mktemp('outage')), count=1, extra_args=['--teacher-token', TOKEN])
    try:
        running.start()
    except (MissingBinary, ConsoleScriptMissing) as missing:
        running.stop()
        pytest.fail(str(missing))
    yield running
    running.stop()


def test_an_attempt_submitted_while_redis_is_down_reaches_the_board_afterwards(
    browser: Browser, one_instance: Deployment
) -> None:
    base = one_instance.url
    teacher, student = (browser.new_context(viewport={'width': 1280, 'height': 720}) for _ in range(2))
    try:
        board = teacher.new_page()
        board.set_default_timeout(SLOW)
        board.goto(f'{base}/teacher?token={TOKEN}')
        if board.get_by_test_id('board-start').count():
            board.get_by_test_id('board-start').click()
        expect(board.get_by_test_id('board-here')).to_have_text('0 here')
        page = student.new_page()
        page.set_default_timeout(SLOW)
        page.goto(base + '/join')
        page.get_by_role('button', name='Join the class').click()
        expect(page.get_by_test_id('join-joined')).to_be_visible()
        answer_quiz(page, base, answers_scoring(3))

        one_instance.redis.stop()
        page.get_by_role('button', name='Submit answers').click()
        expect(page.get_by_text('Your result is saved. The class board cannot be reached right now')).to_be_visible()
        expect(page.get_by_role('button', name='Try again')).to_be_visible()  # graded: the result is on the page

        one_instance.redis.start()  # same port, same append-only file
        expect(board.get_by_test_id('board-submitted')).to_have_text('Submitted: 1 of 1', timeout=30_000)
    finally:
        teacher.close()
        student.close()
