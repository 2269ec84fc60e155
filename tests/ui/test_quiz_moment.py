"""The submit moment without a browser: a learner's result does not wait for the other learners' submits.

Fifty learners press Submit and their submits stay in flight (counting each attempt for the class is held, as a slow
disk or Redis holds it); one more learner submits meanwhile. Their result must be in their page at once, and so must
the fifty's: what a learner sees of their own attempt never waits for the class's bookkeeping. Speed is the
benchmark's (``websocket-lesson bench --moment N``); this is about order.
"""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from nicegui import app
from nicegui.testing import User

from lesson.panels.quiz_result import QuizResult
from lesson.rules.progress import STORE_KEY
from lesson.rules.quiz import Quiz
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz
from lesson.teaching import membership

CONTENT = bundled_content_dir()
QUIZ: Quiz = load_quiz(CONTENT, load_lesson(CONTENT).anchors)
TOTAL = len(QUIZ.questions)
OTHERS = 50
#: Seconds for everything here to settle (no network; it settles at once or never).
SETTLE_S = 5.0


def latest(user: User) -> dict[str, Any] | None:
    element = user.find(marker='quiz-results').elements.pop()
    assert isinstance(element, QuizResult)
    return element.state['latest']


def send(user: User, event_type: str, *args: object) -> None:
    """An event of the attempt component, as the browser's socket.io message carries it."""
    assert user.client is not None  # a page is open
    (element,) = [e for e in user.client.elements.values() if 'quiz-attempt' in e._markers]
    listener = next(listener for listener in element._event_listeners.values() if listener.type == event_type)
    user.client.handle_event({'id': element.id, 'listener_id': listener.id, 'args': [json.dumps(a) for a in args]})


async def answered(user: User) -> User:
    client = await user.open('/quiz')
    (element,) = [e for e in client.elements.values() if 'quiz-attempt' in e._markers]
    for sent in json.loads(element.props['questions-json']):
        right = QUIZ.question(sent['id']).correct_option.text
        send(user, 'answer', [sent['id'], sent['options'].index(right)])
    assert len(app.storage.user[STORE_KEY]['current']['answers']) == TOTAL
    return user


async def settled(condition: Callable[[], bool]) -> bool:
    for _ in range(int(SETTLE_S / 0.01)):
        if condition():
            return True
        await asyncio.sleep(0.01)  # polling the pages' state, not a wait for a result
    return False


async def test_a_result_is_delivered_while_fifty_other_submits_are_in_flight(
    create_user: Callable[[], User], monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    counted: list[int] = []
    in_flight = 0

    async def held_count(user_store: object, attempt: object) -> str | None:
        nonlocal in_flight
        in_flight += 1
        await gate.wait()  # the class's store is slow: every submit stays in flight until the gate opens
        in_flight -= 1
        counted.append(1)
        return None

    monkeypatch.setattr(membership, 'count_attempt', held_count)
    others = [await answered(create_user()) for _ in range(OTHERS)]
    last = await answered(create_user())

    for user in others:
        send(user, 'submit')
    assert await settled(lambda: in_flight == OTHERS), f'{in_flight} of {OTHERS} submits reached the class store'
    send(last, 'submit')
    assert await settled(lambda: latest(last) is not None), 'the last learner got no result while others were held'
    assert in_flight == OTHERS + 1 and not counted  # nothing was let through: the result did not wait for them
    assert all((result := latest(user)) is not None and result['score'] == TOTAL for user in others)

    gate.set()
    assert await settled(lambda: len(counted) == OTHERS + 1)
