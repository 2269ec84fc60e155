"""A class's quiz submit while Redis is away, in Chromium behind HAProxy: graded on the page at once, the page says
it will reach the board by itself, and it does once Redis is back (lesson/teaching/write_back.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from ..support.deployment import Deployment
from .class_steps import answer_quiz, answers_scoring, join_class, open_board, running

TOKEN = 'teacher-token-for-the-outage-test'


@pytest.fixture(scope='module')
def one_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from running(
        Deployment(Path(tmp_path_factory.mktemp('outage')), count=1, extra_args=['--teacher-token', TOKEN])
    )


def test_an_attempt_submitted_while_redis_is_down_reaches_the_board_afterwards(
    new_context: Callable[[], BrowserContext], one_instance: Deployment
) -> None:
    base = one_instance.url
    board = open_board(new_context(), f'{base}/teacher?token={TOKEN}')
    expect(board.get_by_test_id('board-here')).to_have_text('0 here')
    page = join_class(new_context(), base + '/join')
    answer_quiz(page, base, answers_scoring(3))

    one_instance.redis.stop()
    page.get_by_role('button', name='Submit answers').click()
    expect(page.get_by_text('Your result is saved. The class board cannot be reached right now')).to_be_visible()
    expect(page.get_by_role('button', name='Try again')).to_be_visible()  # graded: the result is on the page

    one_instance.redis.start()  # same port, same append-only file
    expect(board.get_by_test_id('board-submitted')).to_have_text('Submitted: 1 of 1', timeout=30_000)
