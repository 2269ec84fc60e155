"""The self-test page (`/quiz`) and the lesson page's best-score banner: NiceGUI rendering only.

Questions, options, feedback and messages come from ``content/quiz.toml``; the rules (grading, what may
change the learner's progress) live in :mod:`lesson.rules.quiz` and :mod:`lesson.rules.progress`.

The browser only ever receives option labels: ``ui.radio`` sends an index per label and maps it back to an
option id on the server, so which option is correct stays on the server until the learner submits. The index
is checked first (:func:`lesson.rules.quiz.checked_option_index`): a crafted event is refused with one WARNING line.

Attempt times are shown in the browser's time zone, asked once per page (:mod:`lesson.rules.local_time`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from html import escape
from typing import Any

from nicegui import background_tasks, ui
from nicegui.client import Client
from nicegui.events import GenericEventArguments, ValueChangeEventArguments

from lesson.pages.layout import page_frame
from lesson.rules.content import Lesson
from lesson.rules.local_time import BROWSER_TIME_ZONE_JS, local_time_text, zone_from_browser
from lesson.rules.progress import (
    Attempt,
    DemoRun,
    InProgress,
    ProgressRejected,
    QuizProgress,
    demo_run_from_store,
    demo_run_to_store,
    state_from_store,
)
from lesson.rules.quiz import Grade, InvalidAnswer, Question, Quiz, checked_option_index, grade, shuffled_options
from lesson.storage.learner_store import learner_store
from lesson.teaching import membership as class_membership

log = logging.getLogger(__name__)

RESULT_HEADING_ID = 'quiz-result-heading'
ATTEMPT_HEADING_ID = 'quiz-attempt-heading'
# Quasar's default primary gives white text a 3:1 contrast; this one passes WCAG AA (4.5:1) in both themes
BUTTON_COLOR = 'indigo-8'

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
# Seconds to wait for the page's socket before asking the browser for its time zone (then: UTC).
CONNECT_TIMEOUT_S = 30.0


def _heading(text: str, level: int, *, element_id: str | None = None) -> ui.html:
    heading = ui.html(escape(text), tag=f'h{level}')
    if element_id:
        # tabindex -1: the page moves focus here after submit/retry, so keyboard and screen-reader users follow
        heading.props(f'id={element_id} tabindex=-1')
    return heading


def _focus(element_id: str) -> None:
    ui.run_javascript(f'document.getElementById("{element_id}")?.focus()')


def _score_text(score: int, total: int, percent: int) -> str:
    return f'{score} / {total} ({percent} %)'


def _sentence(text: str) -> str:
    """The text ending as a sentence: option texts such as "wss://" have no full stop, others already do."""
    return text if text.endswith(('.', '?', '!', ')')) else f'{text}.'


def run_quote(quiz: Quiz, run: DemoRun | None, question_id: str) -> str | None:
    """The sentence quoting the learner's last demo run beside a question's explanation (its template is in
    quiz.toml), or ``None``: no template for this question, no run yet, or a figure the run did not measure."""
    quote = quiz.run_quote(question_id)
    return quote.fill(demo_run_to_store(run)) if quote is not None and run is not None else None


class _QuizRadio(ui.radio):
    """A radio group that refuses an option index no option has, instead of letting Python index with it."""

    def _event_args_to_value(self, e: GenericEventArguments) -> Any:
        try:
            return self._values[checked_option_index(e.args, len(self._values))]
        except InvalidAnswer as error:
            log.warning('quiz answer refused: %s', error)
            self.update()  # the sender's display goes back to the stored choice
            return self.value  # unchanged: no change event, nothing recorded


def _add_arrow_keys(radio: ui.radio) -> None:
    """Arrow keys move the choice within a group, as in a native radio group (Quasar's radios only do Tab/Space).

    Handled on the server because the choice is the server's anyway; only moving the focus needs the browser.
    """

    def move(step: int) -> None:
        option_ids = list(radio.options)
        index = option_ids.index(radio.value) if radio.value in option_ids else (-1 if step > 0 else 0)
        target = (index + step) % len(option_ids)
        radio.value = option_ids[target]
        ui.run_javascript(f'getHtmlElement({radio.id})?.querySelectorAll("[role=radio]")[{target}]?.focus()')

    # .prevent: the arrows choose an option instead of scrolling the page
    for keys, step in (('down', 1), ('right', 1), ('up', -1), ('left', -1)):
        radio.on(f'keydown.{keys}.prevent', lambda step=step: move(step))


class _QuizView:
    """The part of the page that changes: the attempt in progress, or the latest result; then the history."""

    def __init__(self, quiz: Quiz, section_titles: Mapping[str, str], progress: QuizProgress) -> None:
        self.quiz = quiz
        self.section_titles = section_titles
        self.progress = progress
        self.zone: tzinfo | None = None  # the browser's, once it has said; until then (or if never) UTC
        self.answered_label: ui.label | None = None
        self.submit_button: ui.button | None = None
        self.submit_hint: ui.label | None = None

    @ui.refreshable_method
    def show(self) -> None:
        state = self.progress.state
        if state.current is not None:
            self._attempt_form(state.current)
        elif state.last is not None:
            self._latest_result(state.last)
        self._history()

    async def learn_time_zone(self, client: Client) -> None:
        """Ask the browser once for its time zone, then show the attempt times in it."""
        try:
            await client.connected(timeout=CONNECT_TIMEOUT_S)
            name = await client.run_javascript(BROWSER_TIME_ZONE_JS)
        except TimeoutError:  # never connected, or did not answer within run_javascript's second: keep UTC
            return
        zone = zone_from_browser(name)
        if zone is None or client.is_deleted:
            return
        self.zone = zone
        if self.progress.state.attempts:
            with client:
                self._history.refresh()

    # -- answering ---------------------------------------------------------------------------------------------

    def _attempt_form(self, current: InProgress) -> None:
        total = len(self.quiz.questions)
        _heading(f'Attempt {current.number}', 2, element_id=ATTEMPT_HEADING_ID).classes('text-xl font-semibold mt-4')
        # role=status: screen readers announce the new count after each answer without moving focus
        self.answered_label = ui.label().props('role=status').classes('font-medium').mark('quiz-answered')
        for index, question in enumerate(self.quiz.questions, 1):
            prompt_id = f'quiz-prompt-{question.id}'
            with ui.card().classes('quiz-question w-full my-3').mark(f'quiz-question-{question.id}'):
                ui.label(f'Question {index} of {total}').classes('text-sm opacity-80')
                _heading(question.prompt, 3, element_id=prompt_id).classes('text-lg font-semibold')
                options = {option.id: option.text for option in shuffled_options(question, current.seed)}
                radio = (
                    _QuizRadio(
                        options,
                        value=current.answers.get(question.id),
                        on_change=lambda event, question_id=question.id, number=current.number: self._answer(
                            number, question_id, event
                        ),
                    )
                    .props(f'aria-labelledby={prompt_id}')
                    .classes('quiz-options w-full')
                    .mark(f'quiz-options-{question.id}')
                )
                _add_arrow_keys(radio)
        with ui.row().classes('items-center gap-4 mt-2'):
            self.submit_button = (
                ui.button('Submit answers', icon='check', on_click=lambda number=current.number: self._submit(number))
                .props(f'color={BUTTON_COLOR}')
                .mark('quiz-submit')
            )
            self.submit_hint = ui.label(f'Answer all {total} questions to submit.').classes('opacity-80')
        self._show_count(current)

    def _show_count(self, current: InProgress) -> None:
        answered, total = len(current.answers), len(self.quiz.questions)
        assert self.answered_label is not None and self.submit_button is not None and self.submit_hint is not None
        self.answered_label.set_text(f'Answered {answered} of {total}')
        # everything must be answered: a blank would be graded wrong without the learner having tried
        self.submit_button.set_enabled(answered == total)
        self.submit_hint.set_visibility(answered < total)

    def _answer(self, number: int, question_id: str, event: ValueChangeEventArguments) -> None:
        if event.value is None:
            return
        try:
            state = self.progress.record_answer(number, question_id, event.value)
        except ProgressRejected as error:
            log.warning('quiz answer rejected: %s', error)
            self.show.refresh()  # show what is really stored, e.g. after the attempt was submitted in another tab
            return
        if state.current is not None:
            self._show_count(state.current)

    async def _submit(self, number: int) -> None:
        # a learner still on a class the teacher has reset: refused whole, nothing changes (lesson.teaching.membership)
        if refusal := await class_membership.refusal_before_submit(self.progress.store):
            ui.notify(refusal, type='warning', multi_line=True, timeout=10_000)
            return
        try:
            state = self.progress.submit(number, datetime.now(UTC))
        except ProgressRejected as error:
            log.warning('quiz submission rejected: %s', error)
            ui.notify('That attempt could not be submitted again; here is what was saved.')
        else:
            if state.last is not None and (
                not_counted := await class_membership.count_attempt(self.progress.store, state.last)
            ):
                ui.notify(f'Saved for you, but not counted for the class: {not_counted}', type='warning')
        self.show.refresh()
        _focus(RESULT_HEADING_ID)

    def _retry(self) -> None:
        self.progress.start_retry()
        self.show.refresh()
        _focus(ATTEMPT_HEADING_ID)

    # -- results -----------------------------------------------------------------------------------------------

    def _graded(self, attempt: Attempt) -> Grade | None:
        try:
            return grade(self.quiz, attempt.answers)
        except InvalidAnswer:
            return None  # stored by an older quiz file whose questions are gone: show the score only

    def _latest_result(self, attempt: Attempt) -> None:
        _heading(f'Your result, attempt {attempt.number}', 2, element_id=RESULT_HEADING_ID).classes(
            'text-xl font-semibold mt-4'
        )
        ui.label(_score_text(attempt.score, attempt.total, attempt.percent)).classes('text-3xl font-bold').mark(
            'quiz-score'
        )
        ui.label(self.quiz.band_message(attempt.percent)).classes('text-lg').mark('quiz-band')
        ui.button('Try again', icon='refresh', on_click=self._retry).props(f'color={BUTTON_COLOR}').classes(
            'my-2'
        ).mark('quiz-retry')
        graded = self._graded(attempt)
        if graded is None:
            return
        for index, result in enumerate(graded.results, 1):
            self._question_result(index, result.question, result.chosen.id if result.chosen else None)

    def _question_result(self, index: int, question: Question, chosen_id: str | None) -> None:
        correct = question.correct_option
        is_right = chosen_id == correct.id
        verdict = 'Right' if is_right else 'Wrong'
        with (
            ui.card()
            .classes(f'w-full my-3 {"quiz-right" if is_right else "quiz-wrong"}')
            .mark(f'quiz-result-{question.id}')
        ):
            with ui.row().classes('items-center gap-2'):
                # the word carries the verdict, the icon and colour only repeat it
                ui.icon('check_circle' if is_right else 'cancel', color='positive' if is_right else 'negative').props(
                    'aria-hidden=true'
                )
                ui.label(verdict).classes('font-bold').mark(f'quiz-verdict-{question.id}')
                ui.label(f'Question {index}').classes('opacity-80')
            _heading(question.prompt, 3).classes('text-lg font-semibold')
            chosen_text = question.option(chosen_id).text if chosen_id else 'no answer'
            ui.label(f'Your answer: {chosen_text}').mark(f'quiz-chosen-{question.id}')
            ui.label(f'Correct answer: {correct.text}').classes('font-medium').mark(f'quiz-correct-{question.id}')
            ui.markdown(question.explanation).classes('quiz-explanation my-1').mark(f'quiz-explanation-{question.id}')
            self._run_quote(question)
            with ui.element('ul').classes('quiz-feedback list-disc pl-6'):
                for option in question.options:
                    tags = [
                        tag
                        for tag, applies in (('your answer', option.id == chosen_id), ('correct', option.correct))
                        if applies
                    ]
                    with ui.element('li').mark(f'quiz-feedback-{question.id}-{option.id}'):
                        # the option as it was offered, then why: two lines, no "text.: feedback" joins
                        with ui.row().classes('items-baseline gap-2'):
                            ui.label(option.text).classes('font-medium')
                            if tags:
                                ui.label(f'({", ".join(tags)})').classes('text-sm opacity-80')
                        ui.markdown(option.feedback)
            title = self.section_titles.get(question.lesson_anchor, question.lesson_anchor)
            ui.link(f'Read again in the lesson: {title}', f'/#{question.lesson_anchor}').classes('quiz-link').mark(
                f'quiz-lesson-link-{question.id}'
            )

    def _run_quote(self, question: Question) -> None:
        if self.quiz.run_quote(question.id) is None:
            return
        # read at each showing: the learner may have run the demo in another tab meanwhile
        quote = run_quote(self.quiz, demo_run_from_store(self.progress.store), question.id)
        with ui.row().classes('items-start gap-2 flex-nowrap my-1'):
            ui.icon('science').props('aria-hidden=true').classes('mt-1')
            if quote:
                ui.label(quote).classes('font-medium').mark(f'quiz-run-quote-{question.id}')
            else:  # say what would be here: the learner's own figures, once they have run the demo
                ui.markdown(
                    'Run the polling-versus-push demo on the [Live demos](/demo) page, and this answer '
                    'will quote your own figures.'
                ).classes('quiz-explanation').mark(f'quiz-run-quote-empty-{question.id}')

    @ui.refreshable_method
    def _history(self) -> None:
        state = self.progress.state
        _heading('Your attempts', 2).classes('text-xl font-semibold mt-8')
        if not state.attempts:
            ui.label(
                'Each attempt you submit is listed here, with its time and score; open one to see your answers.'
            ).classes('opacity-80').mark('quiz-history-empty')
            return
        best = state.best
        with ui.element('ol').classes('w-full').mark('quiz-history'):
            for attempt in reversed(state.attempts):
                is_best = best is not None and attempt.number == best.number
                summary = (
                    f'Attempt {attempt.number} · {local_time_text(attempt.submitted_at, self.zone)} · '
                    f'{_score_text(attempt.score, attempt.total, attempt.percent)}'
                    f'{" · best" if is_best else ""}'
                )
                with (
                    ui.element('li').classes('w-full'),
                    ui.expansion(summary).classes('w-full').mark(f'quiz-history-{attempt.number}'),
                ):
                    self._history_details(attempt)

    def _history_details(self, attempt: Attempt) -> None:
        graded = self._graded(attempt)
        if graded is None:
            ui.label('The questions of this attempt have changed since; only its score is kept.')
            return
        with ui.element('ul').classes('pl-2'):
            for result in graded.results:
                chosen = result.chosen.text if result.chosen else 'no answer'
                with ui.element('li'):
                    ui.label(
                        f'{"Right" if result.is_correct else "Wrong"}: {_sentence(result.question.prompt)} '
                        f'Your answer: {_sentence(chosen)}'
                    )


def register(quiz: Quiz, lesson: Lesson) -> None:
    section_titles = {section.anchor: section.title for section in lesson.sections}

    @ui.page('/quiz')
    def quiz_page() -> None:
        with page_frame(quiz.title, '/quiz'):
            ui.add_css(_CSS)
            _heading(quiz.title, 1).classes('text-3xl font-bold mt-2')
            ui.label(quiz.intro).classes('text-lg opacity-90')
            view = _QuizView(quiz, section_titles, QuizProgress(learner_store(), quiz))
            view.show()
        background_tasks.create(view.learn_time_zone(ui.context.client), name='quiz time zone')


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
