"""Issue 19's low items that only a browser shows: labels not cut off, the presenter's table above the fold."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

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
