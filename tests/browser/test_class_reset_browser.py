"""A class reset as the students live it: their open pages learn of it at once (pushed, no reload), a late submit is
graded and kept, and one click on the notice's link joins the new class with that attempt counted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from .class_steps import SLOW, answer_quiz, answers_scoring, join_class, open_board, open_page
from .conftest import RunningApp

TOKEN = 'teacher-token-for-the-reset-test'
#: The reset reaches an open page this soon (pushed over its socket, not found at a reload).
PUSHED_WITHIN_MS = 3_000


@pytest.fixture(scope='module')
def reset_app(start_app: Callable[..., RunningApp]) -> RunningApp:
    return start_app('--teacher-token', TOKEN)


def test_a_reset_reaches_open_pages_and_a_late_attempt_counts_in_the_new_class(
    reset_app: RunningApp, new_context: Callable[[], BrowserContext]
) -> None:
    base = reset_app.url
    board = open_board(new_context(), f'{base}/teacher?token={TOKEN}')
    expect(board.get_by_test_id('board-here')).to_have_text('0 here')
    student = new_context()
    join = join_class(student, base + '/join', 'Ana')
    expect(join.get_by_test_id('join-joined')).to_have_text('You are in the class as Ana.')
    demo = open_page(student, base + '/demo')
    quiz = student.new_page()
    quiz.set_default_timeout(SLOW)
    answer_quiz(quiz, base, answers_scoring(3))  # answered, not yet submitted
    for page in (demo, quiz):
        expect(page.get_by_test_id('class-ended')).to_be_hidden()

    board.get_by_test_id('board-reset').click()
    board.get_by_test_id('board-reset-confirm').click()
    # pushed: no page is reloaded by the test
    for page in (demo, quiz):
        expect(page.get_by_test_id('class-ended')).to_be_visible(timeout=PUSHED_WITHIN_MS)
    expect(join.get_by_test_id('join-ended')).to_be_visible(timeout=PUSHED_WITHIN_MS)
    expect(join.get_by_test_id('join-joined')).to_have_count(0)

    quiz.get_by_role('button', name='Submit answers').click()  # the late submit: graded and kept
    expect(quiz.get_by_text('Your result is saved. Your class has ended')).to_be_visible()
    expect(quiz.get_by_role('button', name='Submit answers')).to_have_count(0)  # the attempt is no longer open

    quiz.get_by_test_id('class-rejoin').click()  # one click
    expect(quiz.get_by_test_id('rejoin-joined')).to_have_text('You are in the new class as Ana.')
    expect(quiz.get_by_test_id('rejoin-counted')).to_have_attribute('data-count', '1')
    expect(board.get_by_test_id('board-submitted')).to_have_text('Submitted: 1 of 1')
    quiz.goto(base + '/quiz')
    expect(quiz.get_by_test_id('class-ended')).to_be_hidden()  # in the running class again
