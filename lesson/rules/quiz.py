"""The self-test: parse and check the quiz file, grade a set of answers, shuffle options per attempt.

Pure: TOML text in, :class:`Quiz` out; answers in, :class:`Grade` out. Reading files is
:mod:`lesson.storage.content_files`' job, keeping learner state is :mod:`lesson.rules.progress`' job.

The file format (see ``content/quiz.toml``)::

    title = "..."            intro = "..."
    [[bands]]                min_percent = 0..100, message = "..."     (one band must start at 0)
    [run_quotes]             <question id> = "text with {placeholders} of the learner's demo run"
    [[questions]]            id, prompt, lesson_anchor, explanation (Markdown)
    [[questions.options]]    id, text (plain), feedback (Markdown), correct = true on exactly one
"""

from __future__ import annotations

import random
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lesson.rules.content import ContentError

MIN_OPTIONS = 2
# How many seeds after the previous one next_seed tries before it settles for a plain reshuffle.
SEED_SEARCH_LIMIT = 1000
_ID = re.compile(r'^[a-z0-9]+(?:-[a-z0-9]+)*$')
RUN_QUOTES_TABLE = 'run_quotes'


class InvalidAnswer(ValueError):
    """Answers that do not fit the quiz: an unknown question or option id (e.g. from a crafted event)."""


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    feedback: str
    correct: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    prompt: str
    lesson_anchor: str
    explanation: str
    options: tuple[Option, ...]

    @property
    def correct_option(self) -> Option:
        return next(option for option in self.options if option.correct)

    def option(self, option_id: str) -> Option:
        for option in self.options:
            if option.id == option_id:
                return option
        raise InvalidAnswer(f"question '{self.id}' has no option '{option_id}'")


@dataclass(frozen=True)
class Band:
    min_percent: int
    message: str


@dataclass(frozen=True)
class RunQuote:
    """A sentence quoting the learner's own demo run beside a question's explanation, with ``{field}`` placeholders.

    ``fields`` are the placeholders' names, checked at start-up against the figures the demo page keeps.
    """

    question_id: str
    template: str
    fields: frozenset[str]

    def fill(self, figures: Mapping[str, object]) -> str | None:
        """The sentence with the learner's figures; ``None`` when one it needs was not measured (or is missing)."""
        if any(figures.get(name) is None for name in self.fields):
            return None
        return self.template.format_map(figures)


@dataclass(frozen=True)
class Quiz:
    title: str
    intro: str
    questions: tuple[Question, ...]
    bands: tuple[Band, ...]  # highest threshold first
    run_quotes: tuple[RunQuote, ...] = ()

    def run_quote(self, question_id: str) -> RunQuote | None:
        return next((quote for quote in self.run_quotes if quote.question_id == question_id), None)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise InvalidAnswer(f"the quiz has no question '{question_id}'")

    def check_answer(self, question_id: str, option_id: str) -> None:
        """Raise :class:`InvalidAnswer` unless the option belongs to the question."""
        self.question(question_id).option(option_id)

    def band_message(self, percent: int) -> str:
        return next(band.message for band in self.bands if percent >= band.min_percent)


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    chosen: Option | None  # None: left blank (only possible for attempts stored by an older quiz file)

    @property
    def is_correct(self) -> bool:
        return self.chosen is not None and self.chosen.correct


@dataclass(frozen=True)
class Grade:
    results: tuple[QuestionResult, ...]
    message: str

    @property
    def score(self) -> int:
        return sum(result.is_correct for result in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def percent(self) -> int:
        return percent_of(self.score, self.total)


def checked_option_index(raw: object, count: int) -> int:
    """The option index a browser event carries, if it is one: a whole number from 0 to ``count - 1``.

    Raises :class:`InvalidAnswer` for anything else (a crafted event: -1 would otherwise pick the last option
    through Python's negative indexing; 99, "x", null, 1.5 or {} would raise deep inside the UI library).
    """
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < count:
        shown = repr(raw)
        shown = shown if len(shown) <= 40 else shown[:37] + '...'  # a crafted value must not flood the log
        raise InvalidAnswer(f'option index {shown} is not one of the {count} options')
    return raw


def percent_of(score: int, total: int) -> int:
    # rounded down, so 'all right' (100 %) is never shown for an attempt that missed one
    return score * 100 // total if total else 0


def grade(quiz: Quiz, answers: Mapping[str, str]) -> Grade:
    """Grade the answers (question id -> option id); unanswered questions count as wrong.

    Raises :class:`InvalidAnswer` for ids the quiz does not have, rather than ignoring them silently.
    """
    for question_id, option_id in answers.items():
        quiz.check_answer(question_id, option_id)
    results = tuple(
        QuestionResult(question, question.option(answers[question.id]) if question.id in answers else None)
        for question in quiz.questions
    )
    score = sum(result.is_correct for result in results)
    return Grade(results, quiz.band_message(percent_of(score, len(results))))


def option_order(question: Question, seed: int) -> tuple[str, ...]:
    """The option ids of one question in the order an attempt with this seed shows them.

    Deterministic, so a reload shows the same order; seeded by question too, so questions differ.
    """
    ids = [option.id for option in question.options]
    random.Random(f'{seed}:{question.id}').shuffle(ids)
    return tuple(ids)


def shuffled_options(question: Question, seed: int) -> tuple[Option, ...]:
    return tuple(question.option(option_id) for option_id in option_order(question, seed))


def next_seed(quiz: Quiz, previous_seed: int) -> int:
    """The first seed after ``previous_seed`` that moves the options of every question that can move.

    A retry should not look like the attempt just made: with three or four options a plain reshuffle leaves
    a question unchanged one time in six or more. Tries :data:`SEED_SEARCH_LIMIT` seeds, then settles for
    ``previous_seed + 1``.
    """
    before = {question.id: option_order(question, previous_seed) for question in quiz.questions}
    seed = previous_seed + 1
    # a bound keeps a quiz with many two-option questions (one seed in 2**n moves them all) from a long search
    for candidate in range(seed, seed + SEED_SEARCH_LIMIT):
        if all(
            option_order(question, candidate) != before[question.id]
            for question in quiz.questions
            if len(question.options) > 1
        ):
            return candidate
    return seed


# -- parsing -------------------------------------------------------------------------------------------------


def _id_lines(text: str, value: str) -> list[int]:
    """The lines with ``id = "value"``: tomllib keeps no positions, and a text search is enough to point there."""
    pattern = re.compile(r'^\s*id\s*=\s*["\']' + re.escape(value) + r'["\']\s*(?:#.*)?$')
    return [number for number, line in enumerate(text.splitlines(), 1) if pattern.match(line)]


def _toml_error_line(error: tomllib.TOMLDecodeError) -> int:
    # Python 3.11/3.12 only put the position in the message: "... (at line 3, column 5)"
    lineno = getattr(error, 'lineno', None)
    if isinstance(lineno, int):
        return lineno
    match = re.search(r'at line (\d+)', str(error))
    return int(match[1]) if match else 0


def _table_key_line(text: str, table: str, key: str) -> int:
    """The line of ``key = ...`` inside ``[table]`` (bare or quoted key), or of the table header; 0 if absent."""
    header = re.compile(r'^\s*\[\s*' + re.escape(table) + r'\s*\]\s*(?:#.*)?$')
    assignment = re.compile(
        r'^\s*(?:' + re.escape(key) + r'|"' + re.escape(key) + r'"|\'' + re.escape(key) + r'\')\s*='
    )
    header_line = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not header_line:
            header_line = number if header.match(line) else 0
        elif line.lstrip().startswith('['):
            break  # the next table: the key is not written out in this one
        elif assignment.match(line):
            return number
    return header_line


class _Checker:
    """Turns the TOML table into a :class:`Quiz`, raising :class:`ContentError` on the first problem."""

    def __init__(self, text: str, source: str, lesson_anchors: frozenset[str], run_fields: Mapping[str, type]) -> None:
        self.text = text
        self.source = source
        self.lesson_anchors = lesson_anchors
        self.run_fields = run_fields

    def fail(self, line: int, message: str) -> ContentError:
        return ContentError(self.source, line, message)

    def text_field(self, table: Mapping[str, Any], key: str, where: str, line: int) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(line, f"{where}needs a non-empty text '{key}'")
        return value.strip()

    def bands(self, table: Mapping[str, Any]) -> tuple[Band, ...]:
        raw = table.get('bands')
        if not isinstance(raw, list) or not raw:
            raise self.fail(0, 'needs [[bands]] (min_percent, message): the message shown with the score')
        bands: list[Band] = []
        for entry in raw:
            threshold = entry.get('min_percent') if isinstance(entry, dict) else None
            if not isinstance(threshold, int) or isinstance(threshold, bool) or not 0 <= threshold <= 100:
                raise self.fail(0, 'every [[bands]] entry needs min_percent, a whole number from 0 to 100')
            if any(band.min_percent == threshold for band in bands):
                raise self.fail(0, f'two [[bands]] entries have min_percent = {threshold}')
            bands.append(Band(threshold, self.text_field(entry, 'message', f'band min_percent = {threshold} ', 0)))
        if not any(band.min_percent == 0 for band in bands):
            raise self.fail(0, 'one [[bands]] entry needs min_percent = 0, so every score gets a message')
        return tuple(sorted(bands, key=lambda band: band.min_percent, reverse=True))

    def option(self, entry: object, question_id: str, index: int, line: int) -> Option:
        where = f"question '{question_id}', option {index}: "
        if not isinstance(entry, dict):
            raise self.fail(line, f'{where}must be a [[questions.options]] table')
        option_id = entry.get('id')
        if not isinstance(option_id, str) or not _ID.match(option_id):
            raise self.fail(line, f'{where}needs an id of lowercase letters, digits and single dashes')
        where = f"question '{question_id}', option '{option_id}': "
        correct = entry.get('correct', False)
        if not isinstance(correct, bool):
            raise self.fail(line, f'{where}correct must be true or false')
        return Option(
            option_id,
            self.text_field(entry, 'text', where, line),
            self.text_field(entry, 'feedback', where, line),
            correct,
        )

    def question(self, entry: object, index: int, seen: set[str]) -> Question:
        if not isinstance(entry, dict):
            raise self.fail(0, f'question {index} must be a [[questions]] table')
        question_id = entry.get('id')
        if not isinstance(question_id, str) or not _ID.match(question_id):
            raise self.fail(0, f'question {index} needs an id of lowercase letters, digits and single dashes')
        lines = _id_lines(self.text, question_id)
        line = lines[0] if lines else 0
        if question_id in seen:
            # point at the second occurrence: the first one is the one to keep
            raise self.fail(lines[1] if len(lines) > 1 else line, f"question '{question_id}': the id is used twice")
        seen.add(question_id)
        where = f"question '{question_id}': "
        prompt = self.text_field(entry, 'prompt', where, line)
        explanation = self.text_field(entry, 'explanation', where, line)
        anchor = self.text_field(entry, 'lesson_anchor', where, line)
        if anchor not in self.lesson_anchors:
            raise self.fail(
                line,
                f"{where}lesson_anchor '{anchor}' is not a section of the lesson "
                f'(known: {", ".join(sorted(self.lesson_anchors))})',
            )
        raw_options = entry.get('options')
        if not isinstance(raw_options, list) or len(raw_options) < MIN_OPTIONS:
            raise self.fail(line, f'{where}needs at least {MIN_OPTIONS} [[questions.options]]')
        options = tuple(self.option(raw, question_id, number, line) for number, raw in enumerate(raw_options, 1))
        option_ids = [option.id for option in options]
        if duplicates := sorted({i for i in option_ids if option_ids.count(i) > 1}):
            raise self.fail(line, f"{where}option id '{duplicates[0]}' is used twice")
        correct = [option.id for option in options if option.correct]
        if len(correct) != 1:
            found = 'none is' if not correct else f'{len(correct)} are ({", ".join(correct)})'
            raise self.fail(line, f'{where}exactly one option must have correct = true; {found}')
        return Question(question_id, prompt, anchor, explanation, options)

    def run_quote(self, question_id: str, template: object, question_ids: set[str]) -> RunQuote:
        line = _table_key_line(self.text, RUN_QUOTES_TABLE, question_id)
        where = f"[{RUN_QUOTES_TABLE}] '{question_id}': "
        if question_id not in question_ids:
            raise self.fail(
                line, f'{where}the quiz has no question with this id (questions: {", ".join(sorted(question_ids))})'
            )
        if not isinstance(template, str) or not template.strip():
            raise self.fail(line, f'{where}needs a non-empty text')
        known = ', '.join(sorted(self.run_fields))
        try:
            parts = list(string.Formatter().parse(template))
        except ValueError as error:  # e.g. a single { or }: write {{ or }} for a brace in the text
            raise self.fail(line, f'{where}{error} (write {{{{ or }}}} for a brace)') from error
        fields: set[str] = set()
        for _literal, name, spec, conversion in parts:
            if name is None:
                continue
            if name not in self.run_fields:
                raise self.fail(line, f"{where}unknown placeholder '{{{name}}}' (known: {known})")
            if conversion is not None or '{' in (spec or ''):
                raise self.fail(line, f"{where}placeholder '{{{name}}}' takes a format such as :.1f, nothing else")
            try:
                format(self.run_fields[name](), spec or '')  # a sample of the field's type: 0 or 0.0
            except ValueError as error:
                raise self.fail(line, f"{where}placeholder '{{{name}:{spec}}}': {error}") from error
            fields.add(name)
        return RunQuote(question_id, template.strip(), frozenset(fields))

    def run_quotes(self, table: Mapping[str, Any], questions: tuple[Question, ...]) -> tuple[RunQuote, ...]:
        raw = table.get(RUN_QUOTES_TABLE, {})
        if not isinstance(raw, dict):
            raise self.fail(0, f'[{RUN_QUOTES_TABLE}] must be a table: question id = "text"')
        question_ids = {question.id for question in questions}
        return tuple(self.run_quote(question_id, template, question_ids) for question_id, template in raw.items())

    def quiz(self) -> Quiz:
        try:
            table = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            raise self.fail(_toml_error_line(error), f'not valid TOML: {error}') from error
        title = self.text_field(table, 'title', '', 0)
        intro = self.text_field(table, 'intro', '', 0)
        bands = self.bands(table)
        raw_questions = table.get('questions')
        if not isinstance(raw_questions, list) or not raw_questions:
            raise self.fail(0, 'the quiz has no [[questions]]')
        seen: set[str] = set()
        questions = tuple(self.question(raw, number, seen) for number, raw in enumerate(raw_questions, 1))
        return Quiz(title, intro, questions, bands, self.run_quotes(table, questions))


def parse_quiz(
    text: str, lesson_anchors: frozenset[str], source: str = 'quiz.toml', run_fields: Mapping[str, type] | None = None
) -> Quiz:
    """Parse and check the quiz; raise :class:`ContentError` naming the file, the question and the reason.

    ``run_fields`` are the placeholders a run quote may use, with the type of their value (``int`` or
    ``float``), used to check each placeholder's format at start-up; without them a placeholder is an error.
    """
    return _Checker(text, source, lesson_anchors, run_fields or {}).quiz()
