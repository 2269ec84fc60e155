"""Issue 19's low items that only a browser shows: labels not cut off, the presenter's table above the fold."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .class_steps import QUIZ, answer_quiz, answers_scoring, join_class, open_board, wrong_option
from .conftest import RunningApp

TOKEN = 'teacher-token-for-the-low-items'


@pytest.fixture(scope='module')
def board_app(start_app: Callable[..., RunningApp]) -> RunningApp:
    return start_app('--teacher-token', TOKEN)


def test_the_class_feed_rate_label_is_not_cut_off(board_app: RunningApp, page: Page) -> None:
    page.set_viewport_size({'width': 1280, 'height': 720})
    page.goto(f'{board_app.url}/teacher?token={TOKEN}')
    label = page.get_by_test_id('board-controls').locator('.q-field__label', has_text='Class feed')
    expect(label).to_have_text('Class feed rate')
    widths = label.evaluate('(l) => [l.scrollWidth, l.clientWidth]')
    assert widths[0] <= widths[1], f'the label is cut off: {widths[0]} px of text in {widths[1]} px ("Class feed r…")'


def test_the_board_shows_retries_per_option_and_one_scale_for_every_question(
    board_app: RunningApp, new_context: Callable[[], BrowserContext]
) -> None:
    board = open_board(new_context(), f'{board_app.url}/teacher?token={TOKEN}')
    learner = join_class(new_context(), board_app.url + '/join')
    answer_quiz(learner, board_app.url, answers_scoring(0))  # all wrong first
    learner.get_by_role('button', name='Submit answers').click()
    expect(board.get_by_test_id('board-submitted')).to_contain_text('Submitted: 1')
    learner.get_by_role('button', name='Try again').click()
    answer_quiz(learner, board_app.url, answers_scoring(len(QUIZ.questions)))  # all right on the retry
    learner.get_by_role('button', name='Submit answers').click()
    first = QUIZ.questions[0]
    right, wrong = first.correct_option.id, wrong_option(0)
    expect(board.get_by_test_id(f'board-retries-{first.id}-{right}')).to_have_text('+1 on retries')
    expect(board.get_by_test_id(f'board-retries-{first.id}-{wrong}')).to_have_text('')
    expect(board.get_by_test_id(f'board-count-{first.id}-{wrong}')).to_have_text('1')
    expect(board.get_by_test_id('board-scale')).to_have_text('Every bar on one scale: a full bar is 1 answer.')
    expect(board.get_by_test_id('board-demo-push')).to_contain_text('No request for news')


def test_presenter_mode_shows_the_lanes_table_above_the_fold(board_app: RunningApp, page: Page) -> None:
    page.set_viewport_size({'width': 1280, 'height': 720})
    page.goto(f'{board_app.url}/demo?presenter=1', wait_until='networkidle')
    table = page.locator('[data-lanes-table]')
    expect(table).to_be_visible()
    top = table.evaluate('(t) => t.getBoundingClientRect().top')
    updates = page.locator('[data-figure="push-updates"]').evaluate('(c) => c.getBoundingClientRect().bottom')
    # the issue saw it start at y 854; its first figures are what a projector must show without scrolling
    assert top < 400 and updates < 720, (top, updates)


def test_a_running_demo_comes_back_running_after_its_page_reloads(board_app: RunningApp, page: Page) -> None:
    """NiceGUI reloads a page whose app instance died (the proxy sent it to another): the demo must not come back
    idle with every count at 0 and nothing said."""
    page.goto(board_app.url + '/demo')
    start = page.get_by_role('button', name='Start')
    expect(start).to_be_enabled()
    start.click()
    expect(page.locator('[data-figure="push-updates"]')).not_to_have_attribute('data-value', '0')
    page.reload()
    expect(page.locator('[data-resumed]')).to_contain_text('started again by itself')
    expect(page.get_by_role('button', name='Stop')).to_be_enabled()
    for lane in ('poll', 'push'):
        expect(page.locator(f'[data-figure="{lane}-updates"]')).not_to_have_attribute('data-value', '0')
    page.get_by_role('button', name='Stop').click()
    page.reload()  # stopped by the learner: it stays stopped
    expect(page.get_by_role('button', name='Start')).to_be_enabled()
    expect(page.locator('[data-resumed]')).to_have_count(0)
