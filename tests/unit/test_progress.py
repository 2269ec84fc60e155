import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lesson.rules.progress import (
    STORE_KEY,
    InProgress,
    ProgressRejected,
    QuizProgress,
    QuizState,
    state_from_store,
    state_to_store,
)
from lesson.rules.quiz import option_order
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz

CONTENT = bundled_content_dir()
QUIZ = load_quiz(CONTENT, load_lesson(CONTENT).anchors)
RIGHT = {q.id: q.correct_option.id for q in QUIZ.questions}
WRONG = {q.id: next(o.id for o in q.options if not o.correct) for q in QUIZ.questions}
NOON = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


def answer_all(progress: QuizProgress, answers: dict[str, str]) -> None:
    current = progress.state.current
    assert current is not None
    for question_id, option_id in answers.items():
        progress.record_answer(current.number, question_id, option_id)


def test_a_new_learner_starts_attempt_one_with_nothing_answered() -> None:
    state = QuizProgress({}, QUIZ).state
    assert state.current == InProgress(1, 0, {})
    assert state.attempts == () and state.best is None


def test_answers_in_progress_are_stored_as_plain_json() -> None:
    store: dict[str, Any] = {}
    progress = QuizProgress(store, QUIZ)
    progress.record_answer(1, 'secure-scheme', 'wss')
    progress.record_answer(1, 'secure-scheme', 'ws')  # changing one's mind replaces the answer
    assert json.loads(json.dumps(store))[STORE_KEY]['current'] == {
        'number': 1,
        'seed': 0,
        'answers': {'secure-scheme': 'ws'},
    }
    assert QuizProgress(store, QUIZ).state.current == InProgress(1, 0, {'secure-scheme': 'ws'})


def test_submitting_grades_keeps_the_attempt_and_the_best() -> None:
    store: dict[str, Any] = {}
    progress = QuizProgress(store, QUIZ)
    answer_all(progress, {**RIGHT, 'receive-event': 'onopen'})
    state = progress.submit(1, NOON)
    assert state.current is None
    (attempt,) = state.attempts
    assert (attempt.number, attempt.score, attempt.total, attempt.percent) == (1, 3, 4, 75)
    assert attempt.submitted_at == NOON and attempt.answers['receive-event'] == 'onopen'
    assert store[STORE_KEY]['best'] == {'number': 1, 'score': 3, 'total': 4}
    assert store[STORE_KEY]['attempts'][0]['submitted_at'] == '2025-01-31T12:00:00+00:00'


def test_retry_opens_a_new_attempt_with_a_new_order_and_keeps_the_history() -> None:
    store: dict[str, Any] = {}
    progress = QuizProgress(store, QUIZ)
    answer_all(progress, WRONG)
    progress.submit(1, NOON)
    state = progress.start_retry()
    assert state.current is not None and state.current.number == 2 and state.current.answers == {}
    assert all(option_order(q, state.current.seed) != option_order(q, 0) for q in QUIZ.questions)
    assert progress.start_retry() == state  # a double click does not skip an attempt
    answer_all(progress, RIGHT)
    state = progress.submit(2, NOON)
    assert [a.score for a in state.attempts] == [0, 4]
    assert state.best is not None and state.best.number == 2


def test_the_best_is_the_first_attempt_to_reach_the_top_score() -> None:
    progress = QuizProgress({}, QUIZ)
    for answers in (RIGHT, WRONG, RIGHT):
        answer_all(progress, answers)
        current = progress.state.current
        assert current is not None
        progress.submit(current.number, NOON)
        progress.start_retry()
    best = progress.state.best
    assert best is not None and best.number == 1


def submitted_store() -> dict[str, Any]:
    store: dict[str, Any] = {}
    progress = QuizProgress(store, QUIZ)
    answer_all(progress, RIGHT)
    progress.submit(1, NOON)
    progress.start_retry()
    progress.record_answer(2, 'secure-scheme', 'ws')
    return store


@pytest.mark.parametrize(
    ('event', 'reason'),
    [
        (lambda p: p.record_answer(2, 'secure-scheme', 'tls'), "no option 'tls'"),
        (lambda p: p.record_answer(2, 'no-such-question', 'ws'), "no question 'no-such-question'"),
        (lambda p: p.record_answer(1, 'secure-scheme', 'wss'), 'attempt 1 was already submitted'),
        (lambda p: p.record_answer(3, 'secure-scheme', 'wss'), 'attempt 3 is not the attempt in progress'),
        (lambda p: p.submit(1, NOON), 'attempt 1 was already submitted'),
        (lambda p: p.submit(2, NOON), 'unanswered'),
    ],
)
def test_crafted_or_repeated_events_are_rejected_without_changing_the_store(event: Any, reason: str) -> None:
    store = submitted_store()
    before = copy.deepcopy(store)
    with pytest.raises(ProgressRejected, match=reason):
        event(QuizProgress(store, QUIZ))
    assert store == before


def test_a_second_submission_of_the_same_attempt_is_rejected() -> None:
    store: dict[str, Any] = {}
    progress = QuizProgress(store, QUIZ)
    answer_all(progress, RIGHT)
    progress.submit(1, NOON)
    before = copy.deepcopy(store)
    with pytest.raises(ProgressRejected):
        progress.submit(1, NOON)
    assert store == before and len(progress.state.attempts) == 1


def test_stored_state_round_trips_through_json() -> None:
    store = submitted_store()
    reloaded = json.loads(json.dumps(store))
    assert state_from_store(reloaded) == state_from_store(store)
    assert state_to_store(state_from_store(reloaded)) == store[STORE_KEY]


@pytest.mark.parametrize('raw', [None, 'garbage', {'attempts': 'x'}, {'current': {'number': 'one'}}])
def test_unreadable_storage_counts_as_not_started(raw: object) -> None:
    assert state_from_store({STORE_KEY: raw}) == QuizState()


def test_answers_the_quiz_no_longer_has_are_dropped_from_the_attempt_in_progress() -> None:
    store = {
        STORE_KEY: {
            'current': {
                'number': 1,
                'seed': 0,
                'answers': {'secure-scheme': 'wss', 'old-question': 'a', 'receive-event': 'x'},
            }
        }
    }
    current = QuizProgress(store, QUIZ).state.current
    assert current is not None and current.answers == {'secure-scheme': 'wss'}


def test_malformed_attempts_are_skipped_and_good_ones_kept() -> None:
    good = {'number': 1, 'seed': 0, 'submitted_at': NOON.isoformat(), 'score': 2, 'total': 4, 'answers': {}}
    state = state_from_store({STORE_KEY: {'current': None, 'attempts': [good, {'number': 2}, 'x']}})
    assert [a.number for a in state.attempts] == [1] and state.current is None
