"""What the quiz's results component is given (lesson.rules.quiz_result): pure data, checked without a page."""

import json
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from lesson.rules.progress import (
    DEMO_RUN_KEY,
    InProgress,
    QuizState,
    SubmittedAttempt,
    demo_run_from_store,
    demo_run_to_store,
)
from lesson.rules.quiz_result import answer_key, chosen_answers, public_questions, result_state, run_quotes
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz

from ..support.demo_run import RUN

CONTENT = bundled_content_dir()
LESSON = load_lesson(CONTENT)
QUIZ = load_quiz(CONTENT, LESSON.anchors)
RIGHT = {q.id: q.correct_option.id for q in QUIZ.questions}
WRONG = {q.id: next(o.id for o in q.options if not o.correct) for q in QUIZ.questions}
NOON = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
TOTAL = len(QUIZ.questions)


def attempt(number: int, answers: dict[str, str], score: int) -> SubmittedAttempt:
    return SubmittedAttempt(number, 0, NOON, score, TOTAL, answers)


def test_the_public_questions_tell_nothing_about_the_answers() -> None:
    titles = {section.anchor: section.title for section in LESSON.sections}
    questions = public_questions(QUIZ, titles)
    assert [q['id'] for q in questions] == [q.id for q in QUIZ.questions]
    for given, question in zip(questions, QUIZ.questions, strict=True):
        assert (given['prompt'], given['section']) == (question.prompt, titles[question.lesson_anchor])
    text = json.dumps(questions)
    assert 'correct' not in text and 'options' not in text  # not even their order: the content's may tell
    assert not any(q.explanation in text or any(o.feedback in text for o in q.options) for q in QUIZ.questions)


def test_the_key_renders_each_text_once_with_the_given_renderer() -> None:
    rendered: list[str] = []

    def to_html(text: str) -> str:
        rendered.append(text)
        return f'<p>{text}</p>'

    key = answer_key(QUIZ, to_html)
    assert len(rendered) == sum(1 + len(q.options) for q in QUIZ.questions)
    for question in QUIZ.questions:
        entry = key[question.id]
        assert entry['correct'] == question.correct_option.id
        assert [o['text'] for o in entry['options']] == [o.text for o in question.options]
        assert entry['explanation'] == f'<p>{question.explanation}</p>'
        assert entry['quotes_run'] == (QUIZ.run_quote(question.id) is not None)


def test_an_attempt_of_an_older_quiz_file_keeps_only_its_score() -> None:
    assert chosen_answers(QUIZ, attempt(1, RIGHT, TOTAL)) == RIGHT
    assert chosen_answers(QUIZ, attempt(1, {'gone': 'a'}, 1)) is None
    partial = dict(list(RIGHT.items())[:1])
    assert chosen_answers(QUIZ, attempt(1, partial, 1)) == {q.id: partial.get(q.id) for q in QUIZ.questions}


def test_the_latest_result_shows_only_when_no_attempt_is_in_progress() -> None:
    done = QuizState(current=None, attempts=(attempt(1, WRONG, 0), attempt(2, RIGHT, TOTAL)))
    state = result_state(QUIZ, done, None, None)
    assert state['latest'] is not None
    assert (state['latest']['number'], state['latest']['band']) == (2, QUIZ.band_message(100))
    assert [(a['number'], a['best'], a['when']) for a in state['attempts']] == [
        (2, True, '2025-01-31 12:00 UTC'),
        (1, False, '2025-01-31 12:00 UTC'),
    ]
    assert state['quotes'] == {q.id: None for q in QUIZ.questions if QUIZ.run_quote(q.id) is not None}
    retrying = replace(done, current=InProgress(3, 1))
    again = result_state(QUIZ, retrying, None, ZoneInfo('Asia/Kolkata'))
    assert again['latest'] is None and again['quotes'] == {}
    assert again['attempts'][0]['when'] == '2025-01-31 17:30 IST'


def test_run_quote_wording_and_unreadable_runs() -> None:
    run = demo_run_from_store({DEMO_RUN_KEY: RUN})
    assert run is not None
    quotes = run_quotes(QUIZ, run)
    assert quotes['main-advantage'] == (
        'In your run on the demo page, polling made 48 requests for 12 updates, and 36 of them came back empty. The '
        'WebSocket got its 12 updates over one open connection, without asking once.'
    )
    assert quotes['server-has-news'] == (
        'In your run on the demo page (link: same room), the WebSocket delivered each update a median 1.8 ms after '
        'the server made it; polling every 500 ms, an update waited for the next question: a median 251 ms.'
    )
    on_3g = run_quotes(QUIZ, replace(run, link_profile='3g'))['server-has-news']
    assert on_3g is not None and on_3g.startswith('In your run on the demo page (link: 3G), the WebSocket')
    assert 'receive-event' not in quotes
    assert set(run_quotes(QUIZ, None).values()) == {None}
    assert run_quotes(QUIZ, replace(run, push_delay_p50_ms=None))['server-has-news'] is None
    for broken in (
        None,
        'x',
        {**RUN, 'poll_requests': 0},
        {**RUN, 'poll_updates': -1},
        {**RUN, 'push_updates': '3'},
        {**RUN, 'poll_interval_ms': True},
    ):
        assert demo_run_from_store({DEMO_RUN_KEY: broken}) is None, broken
    unmeasured = demo_run_from_store({DEMO_RUN_KEY: {**RUN, 'push_delay_p50_ms': 'fast'}})
    assert unmeasured is not None and unmeasured.push_delay_p50_ms is None
    assert demo_run_to_store(run) == {**RUN, 'link_profile': 'same-room'}  # a run kept before links: loopback
