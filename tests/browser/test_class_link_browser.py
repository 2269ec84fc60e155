"""The class link in Chromium: a teacher puts the class on 3G from the board, a student's demo page shows it (its
own Link control set to it and greyed out), the student's run travels it, and the board's demo totals say they were
measured on 3G; when the teacher ends it, the page is back on its own link."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from .class_steps import join_class, open_board
from .conftest import RunningApp

TOKEN = 'teacher-token-for-the-class-link-test'
#: 3G's one-way delay is 281 ms (562.5 ms round trip): a pushed update cannot arrive sooner.
PUSH_AT_LEAST_MS = 250


@pytest.fixture(scope='module')
def class_app(start_app: Callable[..., RunningApp]) -> RunningApp:
    return start_app('--teacher-token', TOKEN)


def test_the_teacher_puts_the_class_on_3g_and_the_board_says_so(
    class_app: RunningApp, new_context: Callable[[], BrowserContext]
) -> None:
    base = class_app.url
    board = open_board(new_context(), f'{base}/teacher?token={TOKEN}')
    student = join_class(new_context(), base + '/join', 'Ada')
    student.goto(base + '/demo')
    link = student.locator('[data-control=link]')
    expect(link).to_be_enabled()

    board.get_by_test_id('board-link-start').click()  # the board's choice starts at 3G
    expect(board.get_by_text('The class is on 3G')).to_be_visible()
    expect(student.locator('[data-class-link]')).to_have_attribute('data-profile', '3g')
    expect(student.locator('[data-class-link]')).to_contain_text('3G')
    expect(link).to_have_value('3g')
    expect(link).to_be_disabled()

    student.get_by_role('button', name='Start').click()
    for lane in ('poll', 'push'):  # a summary is sent once both lanes have carried an update
        expect(student.locator(f'[data-figure="{lane}-updates"]')).to_have_attribute(
            'data-value', re.compile(r'^[1-9]'), timeout=30_000
        )
    push_p50 = float(student.locator('[data-figure="push-delay-p50"]').get_attribute('data-value') or 0)
    assert push_p50 >= PUSH_AT_LEAST_MS, f'push median {push_p50} ms: the run did not travel 3G'
    student.get_by_role('button', name='Stop').click()
    expect(board.get_by_test_id('board-demo')).to_contain_text('Your class sent')
    expect(board.get_by_test_id('board-demo-links')).to_have_text('Measured on the link: 3G (1 learner).')

    board.get_by_test_id('board-link-stop').click()
    expect(student.locator('[data-class-link]')).to_have_count(0)
    expect(link).to_be_enabled()
    expect(link).to_have_value('same-room')
