"""A class spread over two instances behind HAProxy, sharing Redis: the teacher's board on one instance sees the
students on both, live."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from ..support.deployment import Deployment
from .class_steps import answer_quiz, answers_scoring, join_class, open_board, running

TOKEN = 'teacher-token-for-the-deployment'
#: Across instances an event goes through Redis pub/sub: allow more than the one-instance 1 s, still "live".
ACROSS_INSTANCES_MS = 5_000


@pytest.fixture(scope='module')
def class_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from running(
        Deployment(Path(tmp_path_factory.mktemp('class-deploy')), count=2, extra_args=['--teacher-token', TOKEN])
    )


def pinned(context: BrowserContext, deployment: Deployment, instance: str) -> BrowserContext:
    """``context`` with a proxy cookie that already names ``instance``, as after its first page load there."""
    context.add_cookies([{'name': 'SERVERID', 'value': instance, 'url': deployment.url}])
    return context


def served_by(context: BrowserContext) -> str:
    return next(cookie['value'] for cookie in context.cookies() if cookie['name'] == 'SERVERID')


def join(context: BrowserContext, base: str, nickname: str) -> Page:
    page = join_class(context, base + '/join', nickname)
    expect(page.get_by_test_id('join-joined')).to_have_text(f'You are in the class as {nickname}.')
    return page


def test_students_on_two_instances_reach_one_teachers_board(
    new_context: Callable[[], BrowserContext], class_deployment: Deployment
) -> None:
    base = class_deployment.url
    teacher = pinned(new_context(), class_deployment, 'app1')
    board = open_board(teacher, f'{base}/teacher?token={TOKEN}')
    expect(board.get_by_test_id('board-here')).to_have_text('0 here')

    ada = pinned(new_context(), class_deployment, 'app1')
    bob = pinned(new_context(), class_deployment, 'app2')
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
