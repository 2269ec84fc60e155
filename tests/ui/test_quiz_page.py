"""The quiz flow through NiceGUI's `user` fixture: no browser, no JavaScript, the real pages and storage."""

import json
import logging
import re
from dataclasses import replace

import pytest
from nicegui import app, ui
from nicegui.testing import User

from lesson.pages.quiz import run_quote
from lesson.rules.local_time import BROWSER_TIME_ZONE_JS
from lesson.rules.progress import DEMO_RUN_KEY, STORE_KEY, demo_run_from_store, demo_run_to_store
from lesson.rules.quiz import Quiz
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz

CONTENT = bundled_content_dir()
LESSON = load_lesson(CONTENT)
QUIZ: Quiz = load_quiz(CONTENT, LESSON.anchors)
RIGHT = {q.id: q.correct_option.id for q in QUIZ.questions}
WRONG = {q.id: next(o.id for o in q.options if not o.correct) for q in QUIZ.questions}
TOTAL = len(QUIZ.questions)


def radio(user: User, question_id: str) -> ui.radio:
    element = user.find(marker=f'quiz-options-{question_id}').elements.pop()
    assert isinstance(element, ui.radio)
    return element


def choose(user: User, answers: dict[str, str]) -> None:
    for question_id, option_id in answers.items():
        with user:
            radio(user, question_id).value = option_id


def submit_button(user: User) -> ui.button:
    button = user.find(marker='quiz-submit').elements.pop()
    assert isinstance(button, ui.button)
    return button


def text_of(user: User, marker: str) -> str:
    element = user.find(marker=marker).elements.pop()
    if isinstance(element, ui.markdown):
        return element.content
    assert isinstance(element, ui.label)
    return element.text


async def take(user: User, answers: dict[str, str]) -> None:
    await user.should_see(f'Answered 0 of {TOTAL}')
    choose(user, answers)
    await user.should_see(f'Answered {TOTAL} of {TOTAL}')
    user.find(marker='quiz-submit').click()
    await user.should_see(marker='quiz-score')


async def test_all_questions_are_shown_and_submit_waits_for_every_answer(user: User) -> None:
    await user.open('/quiz')
    await user.should_see(QUIZ.title)
    for question in QUIZ.questions:
        await user.should_see(question.prompt)
        for option in question.options:
            await user.should_see(option.text)
    assert not submit_button(user).enabled
    choose(user, {QUIZ.questions[0].id: RIGHT[QUIZ.questions[0].id]})
    await user.should_see(f'Answered 1 of {TOTAL}')
    assert not submit_button(user).enabled
    choose(user, RIGHT)
    await user.should_see(f'Answered {TOTAL} of {TOTAL}')
    assert submit_button(user).enabled


async def test_the_page_sends_labels_only_until_the_learner_submits(user: User) -> None:
    await user.open('/quiz')
    for question in QUIZ.questions:
        sent = radio(user, question.id).props['options']
        assert all(set(item) == {'value', 'label'} for item in sent)  # an index and a label, nothing else
        await user.should_not_see(question.explanation)
        for option in question.options:
            await user.should_not_see(option.feedback)


async def test_each_radio_group_is_labelled_by_its_question(user: User) -> None:
    await user.open('/quiz')
    for question in QUIZ.questions:
        assert radio(user, question.id).props['aria-labelledby'] == f'quiz-prompt-{question.id}'
        await user.should_see(question.prompt)


async def test_all_right(user: User) -> None:
    await user.open('/quiz')
    await take(user, RIGHT)
    assert text_of(user, 'quiz-score') == f'{TOTAL} / {TOTAL} (100 %)'
    assert text_of(user, 'quiz-band') == QUIZ.band_message(100)
    for question in QUIZ.questions:
        assert text_of(user, f'quiz-verdict-{question.id}') == 'Right'
        assert text_of(user, f'quiz-chosen-{question.id}') == f'Your answer: {question.correct_option.text}'
        await user.should_see(question.explanation)
        link = user.find(marker=f'quiz-lesson-link-{question.id}').elements.pop()
        assert link.props['href'] == f'/#{question.lesson_anchor}'


async def test_all_wrong_shows_the_choice_the_correct_answer_and_why(user: User) -> None:
    await user.open('/quiz')
    await take(user, WRONG)
    assert text_of(user, 'quiz-score') == f'0 / {TOTAL} (0 %)'
    assert text_of(user, 'quiz-band') == QUIZ.band_message(0)
    for question in QUIZ.questions:
        chosen = question.option(WRONG[question.id])
        assert text_of(user, f'quiz-verdict-{question.id}') == 'Wrong'
        assert text_of(user, f'quiz-chosen-{question.id}') == f'Your answer: {chosen.text}'
        assert text_of(user, f'quiz-correct-{question.id}') == f'Correct answer: {question.correct_option.text}'
        assert text_of(user, f'quiz-explanation-{question.id}') == question.explanation
        await user.should_see(chosen.feedback)
        await user.should_see(question.correct_option.feedback)


async def test_mixed(user: User) -> None:
    first, second, *rest = QUIZ.questions
    answers = {**WRONG, first.id: RIGHT[first.id], second.id: RIGHT[second.id]}
    await user.open('/quiz')
    await take(user, answers)
    assert text_of(user, 'quiz-score') == f'2 / {TOTAL} (50 %)'
    assert text_of(user, 'quiz-band') == QUIZ.band_message(50)
    assert [text_of(user, f'quiz-verdict-{q.id}') for q in QUIZ.questions] == ['Right', 'Right'] + ['Wrong'] * len(rest)


async def test_answers_in_progress_survive_a_reload(user: User) -> None:
    first, second = QUIZ.questions[:2]
    await user.open('/quiz')
    choose(user, {first.id: WRONG[first.id], second.id: RIGHT[second.id]})
    await user.should_see(f'Answered 2 of {TOTAL}')
    await user.open('/quiz')
    await user.should_see(f'Answered 2 of {TOTAL}')
    assert radio(user, first.id).value == WRONG[first.id]
    assert radio(user, second.id).value == RIGHT[second.id]


async def test_retry_shuffles_and_keeps_earlier_results_in_the_history(user: User) -> None:
    await user.open('/quiz')
    first_order = {q.id: list(radio(user, q.id).options) for q in QUIZ.questions}
    await take(user, WRONG)
    user.find(marker='quiz-retry').click()
    await user.should_see('Attempt 2')
    await user.should_see(f'Answered 0 of {TOTAL}')
    for question in QUIZ.questions:
        order = list(radio(user, question.id).options)
        assert sorted(order) == sorted(first_order[question.id]) and order != first_order[question.id]
    await user.should_see(marker='quiz-history-1')
    await take(user, RIGHT)
    history = [
        element.props['label']
        for element in user.find(marker='quiz-history').elements.pop().descendants()
        if isinstance(element, ui.expansion)
    ]
    assert len(history) == 2
    # no browser to ask for its time zone here: the times say UTC
    assert re.fullmatch(r'Attempt 2 · \d{4}-\d\d-\d\d \d\d:\d\d UTC · 4 / 4 \(100 %\) · best', history[0])
    assert re.fullmatch(r'Attempt 1 · .* · 0 / 4 \(0 %\)', history[1])


async def test_a_crafted_unknown_option_changes_nothing(user: User) -> None:
    question = QUIZ.questions[0]
    await user.open('/quiz')
    choose(user, {question.id: 'no-such-option'})
    await user.should_see(f'Answered 0 of {TOTAL}')
    await user.open('/quiz')
    await user.should_see(f'Answered 0 of {TOTAL}')
    assert radio(user, question.id).value is None


async def test_lesson_page_shows_the_best_score_and_a_way_back(user: User) -> None:
    await user.open('/')
    await user.should_not_see(marker='quiz-banner')
    await user.open('/quiz')
    choose(user, {QUIZ.questions[0].id: RIGHT[QUIZ.questions[0].id]})
    await user.open('/')
    await user.should_see('Continue the quiz')
    await user.open('/quiz')
    await user.should_see(f'Answered 1 of {TOTAL}')
    choose(user, {**RIGHT, QUIZ.questions[-1].id: WRONG[QUIZ.questions[-1].id]})
    user.find(marker='quiz-submit').click()
    await user.should_see(marker='quiz-score')
    await user.open('/')
    assert text_of(user, 'quiz-best-score') == f'Your best quiz score: {TOTAL - 1} / {TOTAL} (75 %)'
    await user.should_see('Try the quiz again')
    user.find('Try the quiz again').click()
    await user.should_see(marker='quiz-score')


RUN = {
    'poll_requests': 48,
    'poll_updates': 12,
    'poll_empty': 36,
    'poll_interval_ms': 500,
    'poll_delay_p50_ms': 251.4,
    'push_updates': 12,
    'push_delay_p50_ms': 1.8,
}


async def test_the_feedback_quotes_the_learners_demo_run(user: User) -> None:
    await user.open('/quiz')
    app.storage.user[DEMO_RUN_KEY] = RUN  # what the demo page stores after a run
    await take(user, RIGHT)
    assert text_of(user, 'quiz-run-quote-main-advantage').startswith(
        'In your run on the demo page, polling made 48 requests for 12 updates, and 36 of them came back empty.'
    )
    assert 'a median 1.8 ms' in text_of(user, 'quiz-run-quote-server-has-news')
    assert 'polling every 500 ms' in text_of(user, 'quiz-run-quote-server-has-news')
    # only beside the questions the run speaks to
    await user.should_not_see(marker='quiz-run-quote-secure-scheme')


async def test_no_quote_without_a_demo_run(user: User) -> None:
    await user.open('/quiz')
    await take(user, WRONG)
    await user.should_see(marker='quiz-explanation-main-advantage')
    await user.should_not_see('In your run')
    # in its place: what would appear there, and where to get it
    for question in QUIZ.questions:
        if QUIZ.run_quote(question.id) is None:
            await user.should_not_see(marker=f'quiz-run-quote-empty-{question.id}')
        else:
            assert 'will quote your own figures' in text_of(user, f'quiz-run-quote-empty-{question.id}')


def test_run_quote_wording_and_unreadable_runs() -> None:
    run = demo_run_from_store({DEMO_RUN_KEY: RUN})
    assert run is not None
    assert run_quote(QUIZ, run, 'main-advantage') == (
        'In your run on the demo page, polling made 48 requests for 12 updates, and 36 of them came back empty. The '
        'WebSocket got its 12 updates over one open connection, without asking once.'
    )
    assert run_quote(QUIZ, run, 'server-has-news') == (
        'In your run on the demo page, the WebSocket delivered each update a median 1.8 ms after the server made it; '
        'polling every 500 ms, an update waited for the next question: a median 251 ms.'
    )
    assert run_quote(QUIZ, run, 'receive-event') is None
    assert run_quote(QUIZ, None, 'main-advantage') is None
    assert run_quote(QUIZ, replace(run, push_delay_p50_ms=None), 'server-has-news') is None
    for broken in (
        None,
        'x',
        {**RUN, 'poll_requests': 0},
        {**RUN, 'poll_updates': -1},
        {**RUN, 'push_updates': '3'},
        {**RUN, 'poll_interval_ms': True},
    ):
        assert demo_run_from_store({DEMO_RUN_KEY: broken}) is None, broken
    assert demo_run_from_store({DEMO_RUN_KEY: {**RUN, 'push_delay_p50_ms': 'fast'}}).push_delay_p50_ms is None
    assert demo_run_to_store(run) == RUN


async def test_attempt_times_are_in_the_browsers_time_zone(user: User) -> None:
    user.javascript_rules[re.compile(re.escape(BROWSER_TIME_ZONE_JS))] = lambda _: 'Asia/Kolkata'  # UTC+05:30
    await user.open('/quiz')
    await user.should_see('Each attempt you submit is listed here')  # the empty history says what will be there
    await take(user, RIGHT)
    summary = user.find(marker='quiz-history-1').elements.pop().props['label']
    assert re.fullmatch(r'Attempt 1 · \d{4}-\d\d-\d\d \d\d:\d\d IST · 4 / 4 \(100 %\) · best', summary), summary
    await user.should_not_see('Each attempt you submit is listed here')


async def test_an_unknown_browser_time_zone_falls_back_to_utc(user: User) -> None:
    user.javascript_rules[re.compile(re.escape(BROWSER_TIME_ZONE_JS))] = lambda _: '../../etc/passwd'
    await user.open('/quiz')
    await take(user, RIGHT)
    assert user.find(marker='quiz-history-1').elements.pop().props['label'].count(' UTC · ') == 1


def send_option_index(user: User, question_id: str, raw: object) -> None:
    """What the browser's socket.io message carries when the radio group changes: the option index as JSON."""
    group = radio(user, question_id)
    listener = next(
        listener for listener in group._event_listeners.values() if listener.type == 'update:modelValue'
    )  # NiceGUI keeps event names in camel case
    user.client.handle_event({'id': group.id, 'listener_id': listener.id, 'args': [json.dumps(raw)]})


@pytest.mark.parametrize('raw', [-1, 99, 'x', None, 1.5, {}, True, [0]])
async def test_a_crafted_option_index_is_refused_with_one_warning(
    user: User, caplog: pytest.LogCaptureFixture, raw: object
) -> None:
    first, second = QUIZ.questions[:2]
    await user.open('/quiz')
    send_option_index(user, first.id, 0)  # the same path with a real index records an answer
    await user.should_see(f'Answered 1 of {TOTAL}')
    chosen = radio(user, first.id).value
    stored = json.dumps(app.storage.user[STORE_KEY], sort_keys=True)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        send_option_index(user, first.id, raw)
        send_option_index(user, second.id, raw)
    refusals = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.getMessage().startswith('quiz answer refused: option index') for record in refusals] == [True, True]
    assert all(record.exc_info is None and '\n' not in record.getMessage() for record in refusals)
    assert (radio(user, first.id).value, radio(user, second.id).value) == (chosen, None)
    assert json.dumps(app.storage.user[STORE_KEY], sort_keys=True) == stored
    await user.should_see(f'Answered 1 of {TOTAL}')
