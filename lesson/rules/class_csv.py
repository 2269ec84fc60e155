"""A class's results as CSV for a spreadsheet (the teacher's exports). Pure: no I/O."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from lesson.rules.classroom import Class, first_attempts, tallies
from lesson.rules.quiz import InvalidAnswer, Quiz


def _csv_text(rows: Iterable[Sequence[object]]) -> str:
    """RFC 4180: comma-separated, CRLF line ends, fields with commas, quotes or line breaks quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect='excel', lineterminator='\r\n')
    writer.writerows(rows)
    return buffer.getvalue()


def _spreadsheet_safe(text: str) -> str:
    """A nickname starting with = + - @ would be run as a formula by a spreadsheet (CSV injection): quote it."""
    return f"'{text}" if text[:1] in {'=', '+', '-', '@'} else text


def attempts_csv(klass: Class, quiz: Quiz) -> str:
    """One row per learner per attempt: name, time (UTC, ISO 8601), attempt number, each answer's text, score."""
    names = {learner.id: learner.name for learner in klass.learners}
    header: list[object] = ['learner', 'submitted_at', 'attempt', 'first_in_class']
    header += [f'{question.id}' for question in quiz.questions] + ['score', 'total', 'percent']
    firsts = {id(a) for a in first_attempts(klass)}
    rows: list[list[object]] = [header]
    for attempt in klass.attempts:
        answers = []
        for question in quiz.questions:
            option_id = attempt.answers.get(question.id)
            try:
                answers.append(question.option(option_id).text if option_id else '')
            except InvalidAnswer:
                answers.append(option_id or '')
        rows.append(
            [
                _spreadsheet_safe(names.get(attempt.learner_id, '?')),
                attempt.submitted_at.isoformat(timespec='seconds'),
                attempt.number,
                'yes' if id(attempt) in firsts else 'no',
                *answers,
                attempt.score,
                attempt.total,
                attempt.percent,
            ]
        )
    return _csv_text(rows)


def questions_csv(klass: Class, quiz: Quiz) -> str:
    """One row per question and option: how many chose it, on first attempts and on all attempts."""
    first = tallies(quiz, first_attempts(klass))
    every = tallies(quiz, klass.attempts)
    rows: list[list[object]] = [['question', 'prompt', 'option', 'correct', 'first_attempts', 'all_attempts']]
    for first_tally, all_tally in zip(first, every, strict=True):
        for first_option, all_option in zip(first_tally.options, all_tally.options, strict=True):
            rows.append(
                [
                    first_tally.question_id,
                    first_tally.prompt,
                    first_option.text,
                    'yes' if first_option.correct else 'no',
                    first_option.count,
                    all_option.count,
                ]
            )
    return _csv_text(rows)
