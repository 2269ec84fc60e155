"""The quiz flow through NiceGUI's `user` fixture: no browser, no JavaScript, the real pages and storage.

The results are drawn in the browser (``lesson/panels/quiz_result.js``), so here they are read as the data the page
server hands that component: its props and its ``showResult`` calls. What they look like is the browser tests'.
"""

import asyncio
import json
import logging
import re
from typing import Any

import pytest
from nicegui import app, ui
from nicegui.testing import User

from lesson.panels.quiz_attempt import QuizAttempt
from lesson.panels.quiz_result import QuizResult, markdown_html
from lesson.rules.progress import DEMO_RUN_KEY, STORE_KEY
from lesson.rules.quiz import Quiz
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz

from ..support.demo_run import RUN

CONTENT = bundled_content_dir()
LESSON = load_lesson(CONTENT)
QUIZ: Quiz = load_quiz(CONTENT, LESSON.anchors)
RIGHT = {q.id: q.correct_option.id for q in QUIZ.questions}
WRONG = {q.id: next(o.id for o in q.options if not o.correct) for q in QUIZ.questions}
TOTAL = len(QUIZ.questions)
#: Seconds a submit's result may take to reach the component here (no network: it is there at once, or never).
RESULT_WAIT_S = 5.0


def hidden_or_not(user: User, marker: str) -> ui.element:
    """The element with this marker (``user.find`` skips hidden ones)."""
    assert user.client is not None  # a page is open
    (element,) = [element for element in user.client.elements.values() if marker in element._markers]
    return element


def attempt(user: User) -> QuizAttempt:
    element = hidden_or_not(user, 'quiz-attempt')
    assert isinstance(element, QuizAttempt)
    return element


def labels(user: User, question_id: str) -> list[str]:
    """The option labels the browser got for this question, in the order it shows them."""
    (question,) = [q for q in json.loads(attempt(user).props['questions-json']) if q['id'] == question_id]
    return list(question['options'])


def shown_choice(user: User, question_id: str) -> str | None:
    """The option the browser is told is chosen (by its text), or None."""
    index = attempt(user).props['answers'].get(question_id)
    return None if index is None else labels(user, question_id)[index]


def stored_answers(user: User) -> dict[str, str]:
    current = (app.storage.user.get(STORE_KEY) or {}).get('current')  # nothing stored before a first answer
    return dict(current['answers']) if current else {}


def choose(user: User, answers: dict[str, str]) -> None:
    """Click an option per question, as the browser's component reports it: the question id and the label's index."""
    for question_id, option_id in answers.items():
        text = QUIZ.question(question_id).option(option_id).text
        send_event(user, attempt(user), 'answer', [question_id, labels(user, question_id).index(text)])


def submit(user: User) -> None:
    send_event(user, attempt(user), 'submit')


def text_of(user: User, marker: str) -> str:
    element = user.find(marker=marker).elements.pop()
    assert isinstance(element, ui.label)
    return element.text


def form_visible(user: User) -> bool:
    return attempt(user).visible


def results(user: User) -> QuizResult:
    element = user.find(marker='quiz-results').elements.pop()
    assert isinstance(element, QuizResult)
    return element


def shown(user: User) -> dict[str, Any]:
    """The learner's results as the component has them now."""
    state = results(user).state
    assert isinstance(state, dict)
    return state


def answer_key(user: User) -> dict[str, Any]:
    key = results(user).answer_key
    assert isinstance(key, dict)
    return key


async def latest_result(user: User) -> dict[str, Any]:
    """Wait (bounded) for the component to be handed a latest result; returns it."""
    for _ in range(int(RESULT_WAIT_S / 0.01)):
        if (latest := shown(user)['latest']) is not None:
            return dict(latest)
        await asyncio.sleep(0.01)  # polling the element's props, not a wait for a result
    raise AssertionError('no result reached the results component')


async def take(user: User, answers: dict[str, str]) -> dict[str, Any]:
    assert form_visible(user) and stored_answers(user) == {}
    choose(user, answers)
    assert stored_answers(user) == answers
    submit(user)
    return await latest_result(user)


def send_event(user: User, element: ui.element, event_type: str, *args: object) -> None:
    """What the browser's socket.io message carries for an event: each argument as JSON."""
    listener = next(listener for listener in element._event_listeners.values() if listener.type == event_type)
    assert user.client is not None  # a page is open
    user.client.handle_event({'id': element.id, 'listener_id': listener.id, 'args': [json.dumps(a) for a in args]})


async def test_all_questions_are_shown_and_a_submit_needs_every_answer(
    user: User, caplog: pytest.LogCaptureFixture
) -> None:
    await user.open('/quiz')
    await user.should_see(QUIZ.title)
    given = attempt(user).props
    assert (given['number'], given['answers']) == (1, {})
    for question, sent in zip(QUIZ.questions, json.loads(given['questions-json']), strict=True):
        assert (sent['id'], sent['prompt']) == (question.id, question.prompt)
        assert sorted(sent['options']) == sorted(option.text for option in question.options)
    choose(user, {QUIZ.questions[0].id: RIGHT[QUIZ.questions[0].id]})
    with caplog.at_level(logging.WARNING):
        submit(user)  # the browser's button is off until every question is answered; a crafted submit is refused
        for _ in range(int(RESULT_WAIT_S / 0.01)):
            if caplog.records:
                break
            await asyncio.sleep(0.01)  # the submit handler runs as a task of its own: polling the log it writes
    assert [r.getMessage().startswith('quiz submission rejected') for r in caplog.records if r.levelno >= 30] == [True]
    assert shown(user)['latest'] is None and form_visible(user)
    assert stored_answers(user) == {QUIZ.questions[0].id: RIGHT[QUIZ.questions[0].id]}


async def test_the_page_sends_labels_only_until_the_learner_submits(user: User) -> None:
    await user.open('/quiz')
    for question in QUIZ.questions:
        await user.should_not_see(question.explanation)
        for option in question.options:
            await user.should_not_see(option.feedback)
    given = json.dumps([attempt(user).props, results(user).props])
    # prompts and labels, nothing else: no option ids, no explanation, no feedback, no key until a first submit
    assert results(user).answer_key is None and results(user).props['answer-key-json'] == ''
    assert 'correct' not in given and 'explanation' not in given and 'feedback' not in given
    assert not any(f'"{option.id}"' in given for question in QUIZ.questions for option in question.options)


async def test_all_right(user: User) -> None:
    await user.open('/quiz')
    latest = await take(user, RIGHT)
    assert (latest['number'], latest['score'], latest['total'], latest['percent']) == (1, TOTAL, TOTAL, 100)
    assert latest['band'] == QUIZ.band_message(100)
    assert latest['answers'] == RIGHT
    key = answer_key(user)
    sections = {section.anchor: section.title for section in LESSON.sections}
    for question, public in zip(QUIZ.questions, json.loads(results(user).props['questions-json']), strict=True):
        assert key[question.id]['correct'] == question.correct_option.id
        assert key[question.id]['explanation'] == markdown_html(question.explanation)
        assert (public['anchor'], public['section']) == (question.lesson_anchor, sections[question.lesson_anchor])
    assert not form_visible(user)  # the form goes; the results show the attempt


async def test_all_wrong_shows_the_choice_the_correct_answer_and_why(user: User) -> None:
    await user.open('/quiz')
    latest = await take(user, WRONG)
    assert (latest['score'], latest['percent'], latest['band']) == (0, 0, QUIZ.band_message(0))
    assert latest['answers'] == WRONG
    key = answer_key(user)
    for question in QUIZ.questions:
        feedback = key[question.id]['feedback']
        assert feedback == {option.id: markdown_html(option.feedback) for option in question.options}
        assert key[question.id]['correct'] != WRONG[question.id]


async def test_mixed(user: User) -> None:
    first, second, *_ = QUIZ.questions
    answers = {**WRONG, first.id: RIGHT[first.id], second.id: RIGHT[second.id]}
    await user.open('/quiz')
    latest = await take(user, answers)
    assert (latest['score'], latest['percent'], latest['band']) == (2, 50, QUIZ.band_message(50))
    assert latest['answers'] == answers


async def test_answers_in_progress_survive_a_reload(user: User) -> None:
    first, second = QUIZ.questions[:2]
    await user.open('/quiz')
    choose(user, {first.id: WRONG[first.id], second.id: RIGHT[second.id]})
    await user.open('/quiz')
    assert shown_choice(user, first.id) == first.option(WRONG[first.id]).text
    assert shown_choice(user, second.id) == second.option(RIGHT[second.id]).text
    assert len(attempt(user).props['answers']) == 2


async def test_retry_shuffles_and_keeps_earlier_results_in_the_history(user: User) -> None:
    await user.open('/quiz')
    first_order = {q.id: labels(user, q.id) for q in QUIZ.questions}
    await take(user, WRONG)
    send_event(user, results(user), 'retry')
    assert form_visible(user)
    assert (attempt(user).props['number'], attempt(user).props['answers']) == (2, {})
    for question in QUIZ.questions:
        order = labels(user, question.id)
        assert sorted(order) == sorted(first_order[question.id]) and order != first_order[question.id]
    state = shown(user)
    assert state['latest'] is None and [a['number'] for a in state['attempts']] == [1]
    await take(user, RIGHT)
    history = shown(user)['attempts']
    assert [(a['number'], a['score'], a['best'], a['answers']) for a in history] == [
        (2, TOTAL, True, RIGHT),
        (1, 0, False, WRONG),
    ]
    # no browser has said its time zone here: the times say UTC
    assert all(re.fullmatch(r'\d{4}-\d\d-\d\d \d\d:\d\d UTC', a['when']) for a in history)


async def test_a_reload_shows_the_latest_result_and_the_history_from_the_start(user: User) -> None:
    await user.open('/quiz')
    await take(user, WRONG)
    await user.open('/quiz')
    assert not form_visible(user)
    state, key = shown(user), answer_key(user)
    assert state['latest']['answers'] == WRONG and [a['number'] for a in state['attempts']] == [1]
    assert set(key) == set(RIGHT)


async def test_a_crafted_unknown_question_changes_nothing(user: User, caplog: pytest.LogCaptureFixture) -> None:
    await user.open('/quiz')
    with caplog.at_level(logging.WARNING):
        for _ in range(250):  # a script's flood (issue 18, finding 9: 5,000 were 5,000 lines): one line a minute
            send_event(user, attempt(user), 'answer', ['no-such-question', 0])
            send_event(user, attempt(user), 'answer', 'not a pair')
    assert [r.getMessage().startswith('quiz answer refused') for r in caplog.records if r.levelno >= 30] == [True]
    await user.open('/quiz')
    assert stored_answers(user) == {} and attempt(user).props['answers'] == {}


async def test_lesson_page_shows_the_best_score_and_a_way_back(user: User) -> None:
    await user.open('/')
    await user.should_not_see(marker='quiz-banner')
    await user.open('/quiz')
    choose(user, {QUIZ.questions[0].id: RIGHT[QUIZ.questions[0].id]})
    await user.open('/')
    await user.should_see('Continue the quiz')
    await user.open('/quiz')
    assert len(attempt(user).props['answers']) == 1
    choose(user, {**RIGHT, QUIZ.questions[-1].id: WRONG[QUIZ.questions[-1].id]})
    submit(user)
    await latest_result(user)
    await user.open('/')
    assert text_of(user, 'quiz-best-score') == f'Your best quiz score: {TOTAL - 1} / {TOTAL} (75 %)'
    await user.should_see('Try the quiz again')
    user.find('Try the quiz again').click()
    await user.should_see(marker='quiz-results')
    assert shown(user)['latest']['score'] == TOTAL - 1


async def test_the_feedback_quotes_the_learners_demo_run(user: User) -> None:
    await user.open('/quiz')
    app.storage.user[DEMO_RUN_KEY] = RUN  # what the demo page stores after a run
    await take(user, RIGHT)
    quotes = shown(user)['quotes']
    assert quotes['main-advantage'].startswith(
        'In your run on the demo page, polling made 48 requests for 12 updates, and 36 of them came back empty.'
    )
    assert 'a median 1.8 ms' in quotes['server-has-news']
    assert 'polling every 500 ms' in quotes['server-has-news']
    # only beside the questions the run speaks to
    assert set(quotes) == {q.id for q in QUIZ.questions if QUIZ.run_quote(q.id) is not None}
    assert {q for q, entry in answer_key(user).items() if entry['quotes_run']} == set(quotes)


async def test_no_quote_without_a_demo_run(user: User) -> None:
    await user.open('/quiz')
    await take(user, WRONG)
    # None: in its place the page says what would appear there, and where to get it (drawn in the browser)
    quotes = shown(user)['quotes']
    assert quotes and all(quote is None for quote in quotes.values())


def zone_said(user: User, name: object) -> None:
    """The component's ``zone`` event, as its mounted() sends it."""
    send_event(user, results(user), 'zone', name)


async def test_attempt_times_are_in_the_browsers_time_zone(user: User) -> None:
    await user.open('/quiz')
    zone_said(user, 'Asia/Kolkata')  # UTC+05:30
    assert shown(user)['attempts'] == []  # the empty history says what will be there (drawn in the browser)
    await take(user, RIGHT)
    when = shown(user)['attempts'][0]['when']
    assert re.fullmatch(r'\d{4}-\d\d-\d\d \d\d:\d\d IST', when), when
    await user.open('/quiz')  # a new page says its zone again; until then UTC, then the same attempt in IST
    assert shown(user)['attempts'][0]['when'].endswith(' UTC')
    zone_said(user, 'Asia/Kolkata')
    assert shown(user)['attempts'][0]['when'] == when


async def test_an_unknown_browser_time_zone_falls_back_to_utc(user: User) -> None:
    await user.open('/quiz')
    zone_said(user, '../../etc/passwd')
    await take(user, RIGHT)
    assert shown(user)['attempts'][0]['when'].endswith(' UTC')


def send_option_index(user: User, question_id: str, raw: object) -> None:
    """What the browser's socket.io message carries when a radio is clicked: the question id and an option index."""
    send_event(user, attempt(user), 'answer', [question_id, raw])


@pytest.mark.parametrize('raw', [-1, 99, 'x', None, 1.5, {}, True, [0]])
async def test_a_crafted_option_index_is_refused_with_one_warning(
    user: User, caplog: pytest.LogCaptureFixture, raw: object
) -> None:
    first, second = QUIZ.questions[:2]
    await user.open('/quiz')
    send_option_index(user, first.id, 0)  # the same path with a real index records an answer
    assert list(stored_answers(user)) == [first.id]
    chosen = shown_choice(user, first.id)
    stored = json.dumps(app.storage.user[STORE_KEY], sort_keys=True)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        send_option_index(user, first.id, raw)
        send_option_index(user, second.id, raw)
    refusals = [record for record in caplog.records if record.levelno >= logging.WARNING]
    # the second refusal is counted for the next line a minute on (once a minute per address)
    assert [record.getMessage().startswith('quiz answer refused: option index') for record in refusals] == [True]
    assert all(record.exc_info is None and '\n' not in record.getMessage() for record in refusals)
    assert (shown_choice(user, first.id), shown_choice(user, second.id)) == (chosen, None)
    assert json.dumps(app.storage.user[STORE_KEY], sort_keys=True) == stored
