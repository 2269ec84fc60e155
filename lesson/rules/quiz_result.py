"""What the quiz page's result component draws from: plain, JSON-ready data (:mod:`lesson.panels.quiz_result`).

Three parts, so a submit sends little:

* :func:`public_questions`: prompts and lesson links, the same for every learner, in every page;
* :func:`answer_key`: the options in the content's order, which is right, the explanations and each option's
  feedback (Markdown made HTML once,
  at start-up, by the caller's renderer); given to a learner's page only once they have submitted an attempt, so
  which option is correct stays on the server until then;
* :func:`result_state`: one learner's results: the latest attempt (when no attempt is in progress), the history with
  its times in the learner's zone, and the sentences quoting their last demo run. Small, and sent whole on a submit.

Pure: no NiceGUI, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import tzinfo
from typing import Any

from lesson.rules.demo_runs import LINK_NAMES
from lesson.rules.local_time import local_time_text
from lesson.rules.progress import DemoRun, QuizState, SubmittedAttempt, demo_run_to_store
from lesson.rules.quiz import InvalidAnswer, Quiz, grade


def public_questions(quiz: Quiz, section_titles: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every question as the learner already sees it before submitting: nothing here tells which option is right."""
    return [
        {
            'id': question.id,
            'prompt': question.prompt,
            'anchor': question.lesson_anchor,
            'section': section_titles.get(question.lesson_anchor, question.lesson_anchor),
        }
        for question in quiz.questions
    ]


def answer_key(quiz: Quiz, to_html: Callable[[str], str]) -> dict[str, Any]:
    """Per question: the options, the correct one, the explanation and each option's feedback as HTML, and whether
    the question has a sentence quoting the learner's demo run."""
    return {
        question.id: {
            # in the content's order, which may tell the answer (the page offers them shuffled, as labels only)
            'options': [{'id': option.id, 'text': option.text} for option in question.options],
            'correct': question.correct_option.id,
            'explanation': to_html(question.explanation),
            'feedback': {option.id: to_html(option.feedback) for option in question.options},
            'quotes_run': quiz.run_quote(question.id) is not None,
        }
        for question in quiz.questions
    }


def chosen_answers(quiz: Quiz, attempt: SubmittedAttempt) -> dict[str, str | None] | None:
    """The option chosen for each question of the quiz (``None``: no answer), or ``None`` when the attempt was
    stored by an older quiz file whose questions or options are gone (only its score is shown then)."""
    try:
        graded = grade(quiz, attempt.answers)
    except InvalidAnswer:
        return None
    return {result.question.id: result.chosen.id if result.chosen else None for result in graded.results}


#: What a run quote may name besides the run's own figures (:class:`DemoRun`'s fields), with its value's type.
DERIVED_FIGURES: dict[str, type] = {'link_name': str}


def quote_figures(run: DemoRun) -> dict[str, object]:
    """The run's figures as a quote names them: its own, and the link it was measured on as the board says it
    ("3G", "same room"): a delay on satellite is not a delay on loopback, and the learner should read which."""
    return {**demo_run_to_store(run), 'link_name': LINK_NAMES.get(run.link_profile, run.link_profile)}


def run_quotes(quiz: Quiz, run: DemoRun | None) -> dict[str, str | None]:
    """For each question that quotes the demo: the sentence with the learner's figures, or ``None`` (no run yet, or
    a figure the run did not measure): the page then says how to get one. Filled here, with the content's own
    format specifications (``{push_delay_p50_ms:.1f}``), so the browser need not reimplement Python's."""
    figures = None if run is None else quote_figures(run)
    quotes: dict[str, str | None] = {}
    for question in quiz.questions:
        quote = quiz.run_quote(question.id)
        if quote is not None:
            quotes[question.id] = None if figures is None else quote.fill(figures)
    return quotes


def _attempt(
    quiz: Quiz, attempt: SubmittedAttempt, zone: tzinfo | None, best: SubmittedAttempt | None
) -> dict[str, Any]:
    return {
        'number': attempt.number,
        'score': attempt.score,
        'total': attempt.total,
        'percent': attempt.percent,
        'when': local_time_text(attempt.submitted_at, zone),
        'best': best is not None and attempt.number == best.number,
        'answers': chosen_answers(quiz, attempt),
    }


def result_state(quiz: Quiz, state: QuizState, run: DemoRun | None, zone: tzinfo | None) -> dict[str, Any]:
    """The learner's results as the component draws them: ``latest`` (with its band message) only when no attempt
    is in progress; ``attempts`` newest first; ``quotes`` only with a latest result."""
    best = state.best
    latest = state.last if state.current is None else None
    shown: dict[str, Any] | None = None
    if latest is not None:
        shown = {**_attempt(quiz, latest, zone, best), 'band': quiz.band_message(latest.percent)}
    return {
        'latest': shown,
        'attempts': [_attempt(quiz, attempt, zone, best) for attempt in reversed(state.attempts)],
        'quotes': run_quotes(quiz, run) if shown is not None else {},
    }
