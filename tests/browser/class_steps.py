"""What a teacher and their learners do in a class, as steps in Chromium, shared by the class-mode browser tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz

from ..support.app_process import ConsoleScriptMissing
from ..support.deployment import Deployment, MissingBinary

CONTENT = bundled_content_dir()
QUIZ = load_quiz(CONTENT, load_lesson(CONTENT).anchors)
#: A page's default wait: an app started as a subprocess on a shared machine can take seconds to answer.
SLOW = 15_000


def wrong_option(question_index: int) -> str:
    question = QUIZ.questions[question_index]
    return next(option.id for option in question.options if not option.correct)


def answers_scoring(score: int) -> dict[str, str]:
    """Answers with the first ``score`` questions right and the rest wrong."""
    return {
        question.id: question.correct_option.id if index < score else wrong_option(index)
        for index, question in enumerate(QUIZ.questions)
    }


def open_page(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(SLOW)
    page.goto(url)
    return page


def open_board(context: BrowserContext, url: str) -> Page:
    """The teacher's board at ``url`` (with the token), with a class running: started here if there was none."""
    board = open_page(context, url)
    if board.get_by_test_id('board-start').count():
        board.get_by_test_id('board-start').click()
    return board


def join_class(context: BrowserContext, url: str, nickname: str = '') -> Page:
    """A learner's page once they joined at ``url`` (the join address); no nickname: the class numbers them."""
    page = open_page(context, url)
    if nickname:
        page.get_by_label('Nickname (optional)').fill(nickname)
    page.get_by_role('button', name='Join the class').click()
    expect(page.get_by_test_id('join-joined')).to_be_visible()
    return page


def answer_quiz(page: Page, base_url: str, answers: dict[str, str]) -> None:
    page.goto(base_url + '/quiz')
    for question in QUIZ.questions:
        group = page.locator(f'[role=radiogroup][aria-labelledby="quiz-prompt-{question.id}"]')
        group.get_by_role('radio', name=question.option(answers[question.id]).text, exact=True).click()
    expect(page.get_by_role('button', name='Submit answers')).to_be_enabled()


def running(deployment: Deployment) -> Iterator[Deployment]:
    """A module fixture's body: ``deployment`` started (a missing binary fails the test, naming its Debian package),
    stopped after the module."""
    try:
        deployment.start()
    except (MissingBinary, ConsoleScriptMissing) as missing:
        deployment.stop()
        pytest.fail(str(missing))
    yield deployment
    deployment.stop()
