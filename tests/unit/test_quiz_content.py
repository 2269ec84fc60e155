"""The shipped quiz as a teacher would review it: distractors that are real misconceptions, parallel in form and
length, and feedback that answers the misconceptions the lesson corrects (issue 22)."""

import re

import pytest

from lesson.rules.quiz import Question
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz

CONTENT = bundled_content_dir()
QUIZ = load_quiz(CONTENT, load_lesson(CONTENT).anchors)
BY_ID = {question.id: question for question in QUIZ.questions}
# A sentence option may be a little longer or shorter than its neighbours, never a giveaway.
MAX_LENGTH_RATIO = 1.35


def everything_said(question: Question) -> str:
    return ' '.join([question.explanation, *(option.feedback for option in question.options)])


def test_no_option_is_a_disguised_all_or_none_of_the_above() -> None:
    texts = [option.text for question in QUIZ.questions for option in question.options]
    catch_alls = [text for text in texts if re.search(r'\b(all|none|any|both) of\b|\balways\b.*\bnever\b', text, re.I)]
    assert catch_alls == []


# Questions whose options are sentences; the other two offer names (schemes, handlers) whose lengths are what they are.
SENTENCE_QUESTIONS = [question for question in QUIZ.questions if min(len(o.text) for o in question.options) > 20]


def test_two_questions_have_sentence_options() -> None:
    assert [question.id for question in SENTENCE_QUESTIONS] == ['main-advantage', 'server-has-news']


@pytest.mark.parametrize('question', SENTENCE_QUESTIONS, ids=lambda question: question.id)
def test_the_options_are_parallel_in_length_and_the_answer_is_not_the_longest(question: Question) -> None:
    lengths = [len(option.text) for option in question.options]
    assert max(lengths) / min(lengths) <= MAX_LENGTH_RATIO, lengths
    assert len(question.correct_option.text) < max(lengths) or lengths.count(max(lengths)) > 1


def test_the_message_question_offers_four_event_handlers() -> None:
    options = [option.text for option in BY_ID['receive-event'].options]
    assert sorted(options) == ['socket.onclose', 'socket.onerror', 'socket.onmessage', 'socket.onopen']


def test_the_scheme_question_offers_schemes_only() -> None:
    assert all(re.fullmatch(r'[a-z]+://', option.text) for option in BY_ID['secure-scheme'].options)


@pytest.mark.parametrize(
    ('question_id', 'misconception', 'answer'),
    [
        ('main-advantage', 'the connection lasts forever', r'does not reopen it by itself'),
        ('server-has-news', 'the browser reconnects by itself', r'never reconnects a WebSocket by itself'),
        ('server-has-news', 'a WebSocket is polling in disguise', r'not polling in disguise'),
        ('secure-scheme', 'masking is encryption', r'masking is not encryption'),
        ('secure-scheme', 'the same-origin policy protects the server', r'same-origin policy does not stop it'),
        ('receive-event', 'sending before open', r'send\(\)`.*throws an error'),
    ],
)
def test_each_misconception_is_answered_by_the_nearest_question(
    question_id: str, misconception: str, answer: str
) -> None:
    said = ' '.join(everything_said(BY_ID[question_id]).split())
    assert re.search(answer, said, re.IGNORECASE), misconception
