"""A class spread over instances (``--redis-url``, as behind HAProxy): the teacher's class link on one instance's
board reaches a student's demo page on another instance, and a page on an instance started later; ending it
reaches them too. (The relay itself: tests/deploy/test_class_moments_redis.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from ..support.deployment import MissingBinary, RedisServer
from .class_steps import SLOW, open_board
from .conftest import RunningApp
from .test_demo_browser import open_demo

TOKEN = 'teacher-token-for-the-instances-test'


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[Callable[[], RunningApp]]:
    redis = RedisServer(tmp_path / 'redis')
    try:
        redis.start()
    except MissingBinary as missing:
        pytest.fail(str(missing))
    started: list[RunningApp] = []

    def start() -> RunningApp:
        data = tmp_path / f'app-{len(started)}'
        data.mkdir()
        app = RunningApp(data, extra_args=['--redis-url', redis.url, '--teacher-token', TOKEN])
        started.append(app)
        app.start()
        return app

    yield start
    for app in started:
        app.stop()
    redis.stop()


def demo_page(context: BrowserContext, app: RunningApp) -> Page:
    page = context.new_page()
    page.set_default_timeout(SLOW)
    open_demo(page, app)
    return page


def test_the_class_link_reaches_students_on_every_instance(
    instances: Callable[[], RunningApp], new_context: Callable[[], BrowserContext]
) -> None:
    teachers, others = instances(), instances()
    board = open_board(new_context(), f'{teachers.url}/teacher?token={TOKEN}')
    student = demo_page(new_context(), others)

    board.get_by_test_id('board-link-start').click()  # 3G, the board's first choice
    expect(board.get_by_text('1 other instance did the same.')).to_be_visible()
    expect(student.locator('[data-class-link]')).to_have_attribute('data-profile', '3g')
    expect(student.locator('[data-control=link]')).to_be_disabled()

    # An instance started while the class is on 3G: its pages are on it from the first.
    latecomer = demo_page(new_context(), instances())
    expect(latecomer.locator('[data-class-link]')).to_have_attribute('data-profile', '3g')

    board.get_by_test_id('board-link-stop').click()
    expect(board.get_by_text('2 other instances did the same.')).to_be_visible()
    for page in (student, latecomer):
        expect(page.locator('[data-class-link]')).to_have_count(0)
        expect(page.locator('[data-control=link]')).to_be_enabled()
