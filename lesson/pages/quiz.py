"""The self-test page (`/quiz`) and the lesson page's best-score banner: NiceGUI rendering only.

Questions, options, feedback and messages come from ``content/quiz.toml``; the rules (grading, what may
change the learner's progress) live in :mod:`lesson.rules.quiz` and :mod:`lesson.rules.progress`.

The browser only ever receives option labels: the attempt component (:mod:`lesson.panels.quiz_attempt`) sends an
index per choice and the server maps it back to an option id, so which option is correct stays on the server until
the learner submits. The index is checked first (:func:`lesson.rules.quiz.checked_option_index`): a crafted event
is refused with one WARNING line.

After a submit the page server grades, saves once and hands the results component one small JSON; the latest
result, its feedback and explanations, the history and the demo quotes are drawn in the browser
(:mod:`lesson.panels.quiz_result`). Attempt times are shown in the browser's time zone, which the component says
when it mounts (:mod:`lesson.rules.local_time`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from html import escape
from typing import Any

from nicegui import ui

from lesson.pages.layout import page_frame
from lesson.panels.quiz_attempt import QuizAttempt
from lesson.panels.quiz_result import QuizResult, QuizTexts
from lesson.rules.content import Lesson
from lesson.rules.local_time import zone_from_browser
from lesson.rules.progress import (
    ProgressRejected,
    QuizProgress,
    QuizState,
    demo_run_from_store,
    state_from_store,
)
from lesson.rules.quiz import Quiz
from lesson.rules.quiz_result import result_state
from lesson.storage.learner_store import learner_store
from lesson.teaching import membership as class_membership
from lesson.web.client_files import keep_components
from lesson.web.outsider_log import outsider_warning

log = logging.getLogger(__name__)

RESULT_HEADING_ID = 'quiz-result-heading'
ATTEMPT_HEADING_ID = 'quiz-attempt-heading'

_CSS = """
.quiz-question { scroll-margin-top: 4.5rem; }
.quiz-right { border-left: .35rem solid #15803d; }
.quiz-wrong { border-left: .35rem solid #b91c1c; }
.quiz-feedback li { margin: .5rem 0; }
.quiz-feedback .nicegui-markdown p, .quiz-explanation p { margin: 0; }
.quiz-link, .quiz-explanation a { color: #1d4ed8; text-decoration: underline; }
.body--dark .quiz-link, .body--dark .quiz-explanation a { color: #93c5fd; }
/* WCAG 2.2 SC 2.5.8: every option a target of at least 24 x 24 px, apart from its neighbours even when it wraps */
.quiz-options { display: flex; flex-direction: column; gap: .5rem; }
.quiz-options > div { margin: 0; }
.quiz-options .q-radio { display: flex; align-items: center; min-height: 2.75rem; width: 100%; }
.quiz-options .q-radio__label { padding: .25rem 0; line-height: 1.4; }
"""


def _heading(text: str, level: int) -> ui.html:
    return ui.html(escape(text), tag=f'h{level}')


def _score_text(score: int, total: int, percent: int) -> str:
    return f'{score} / {total} ({percent} %)'


class _QuizView:
    """The part of the page that changes: the attempt in progress (:class:`~lesson.panels.quiz_attempt.QuizAttempt`,
    one event per answer), then the results (:class:`~lesson.panels.quiz_result.QuizResult`, one JSON per submit);
    both drawn in the browser."""

    def __init__(self, quiz: Quiz, texts: QuizTexts, progress: QuizProgress) -> None:
        self.quiz = quiz
        self.texts = texts
        self.progress = progress
        self.zone: tzinfo | None = None  # the browser's, once it has said; until then (or if never) UTC
        self.attempt = QuizAttempt(quiz, on_answer=self._answer, on_submit=self._submit).mark('quiz-attempt')
        state = self.progress.state
        self._show_form(state)
        self.results = QuizResult(
            texts,
            self._result_state(state),
            with_key=bool(state.attempts),
            on_retry=self._retry,
            on_zone=self._learn_zone,
        ).mark('quiz-results')

    def _result_state(self, state: QuizState) -> dict[str, Any]:
        # read at each showing: the learner may have run the demo in another tab meanwhile
        run = demo_run_from_store(self.progress.store) if state.current is None else None
        return result_state(self.quiz, state, run, self.zone)

    def _show_form(self, state: QuizState) -> None:
        """The attempt when one is in progress, else nothing (the results show the latest attempt)."""
        if state.current is not None:
            self.attempt.show(state.current)
        self.attempt.set_visibility(state.current is not None)

    def _show(self, state: QuizState, *, focus: str | None = None) -> None:
        self._show_form(state)
        self.results.show_result(self._result_state(state), focus=focus == RESULT_HEADING_ID)
        if focus == ATTEMPT_HEADING_ID:
            self.attempt.run_method('focusHeading')

    def _learn_zone(self, name: object) -> None:
        """The browser said its time zone (the component asks it at mount): attempt times are shown in it."""
        zone = zone_from_browser(name)
        if zone is None:
            return
        self.zone = zone
        state = self.progress.state
        if state.attempts:
            self.results.show_result(self._result_state(state))

    # -- answering ---------------------------------------------------------------------------------------------

    def _answer(self, number: int, question_id: str, option_id: str) -> None:
        try:
            self.progress.record_answer(number, question_id, option_id)
        except ProgressRejected as error:
            outsider_warning(log, 'quiz answer rejected', 'quiz answer rejected: %s', error)
            self._show(self.progress.state)  # what is really stored, e.g. after a submit in another tab

    async def _submit(self, number: int) -> None:
        # graded and kept even when the class has ended or its store is away: count_attempt keeps the class's copy
        try:
            state = self.progress.submit(number, datetime.now(UTC))  # the one write of the learner's storage
        except ProgressRejected as error:
            outsider_warning(log, 'quiz submission rejected', 'quiz submission rejected: %s', error)
            ui.notify('That attempt could not be submitted again; here is what was saved.')
            self._show(self.progress.state, focus=RESULT_HEADING_ID)
            return
        # the learner's result first: it is theirs, and must not wait for the class's write to disk or to Redis
        self._show(state, focus=RESULT_HEADING_ID)
        if state.last is not None and (
            not_counted := await class_membership.count_attempt(self.progress.store, state.last)
        ):
            if not_counted in class_membership.KEPT_NOTES:  # kept, counted later: news, not a warning
                ui.notify(not_counted, type='info', multi_line=True, timeout=10_000)
            else:
                outsider_warning(log, 'class attempt not counted', 'class attempt not counted: %s', not_counted)
                ui.notify(f'Saved for you, but not counted for the class: {not_counted}', type='warning')

    def _retry(self) -> None:
        self._show(self.progress.start_retry(), focus=ATTEMPT_HEADING_ID)


def register(quiz: Quiz, lesson: Lesson) -> None:
    keep_components((QuizAttempt, QuizResult))
    # made once: every learner's results are drawn from these (the explanations' Markdown rendered here, not per submit)
    texts = QuizTexts(quiz, {section.anchor: section.title for section in lesson.sections})

    @ui.page('/quiz')
    def quiz_page() -> None:
        with page_frame(quiz.title, '/quiz'):
            ui.add_css(_CSS)
            _heading(quiz.title, 1).classes('text-3xl font-bold mt-2')
            ui.label(quiz.intro).classes('text-lg opacity-90')
            _QuizView(quiz, texts, QuizProgress(learner_store(), quiz))


def best_score_banner() -> None:
    """On the lesson page: the learner's best score and a way back into the quiz, once they have started it."""
    state = state_from_store(learner_store())
    best = state.best
    started = state.current is not None and bool(state.current.answers)
    if best is None and not started:
        return  # a first-time reader meets the quiz at the end of the lesson, not before it
    with ui.card().classes('w-full my-3').props('role=region aria-label="Your quiz progress"').mark('quiz-banner'):
        if best is not None:
            ui.label(f'Your best quiz score: {_score_text(best.score, best.total, best.percent)}').classes(
                'font-semibold'
            ).mark('quiz-best-score')
        link_text = 'Continue the quiz' if started else 'Try the quiz again'
        ui.link(link_text, '/quiz').classes('quiz-link').mark('quiz-banner-link')
