"""The quiz page's results (``quiz_result.js``): the latest attempt and the history, drawn in the browser.

The page server builds this element once per page and then only hands it data: a submit costs one small JSON
(:func:`lesson.rules.quiz_result.result_state`) instead of dozens of server-side elements. What it draws and why
each part is there: :mod:`lesson.rules.quiz_result`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from nicegui import ui
from nicegui.elements.markdown import prepare_content
from nicegui.events import GenericEventArguments

from lesson.rules.quiz import Quiz
from lesson.rules.quiz_result import answer_key, public_questions


def markdown_html(text: str) -> str:
    """Markdown as NiceGUI's ``ui.markdown`` renders it (its extras, its markdown2), so the results look as before."""
    return prepare_content(text, extras=' '.join(ui.markdown.default_extras))


class QuizTexts:
    """What every learner's results are drawn from, made once when the app starts (Markdown included), and kept as
    JSON text too: a page hands it on as a string, which NiceGUI sends as it is (a nested dict in an element's props
    is wrapped, level by level, in observable collections: milliseconds per page for the key)."""

    def __init__(self, quiz: Quiz, section_titles: Mapping[str, str]) -> None:
        self.questions = public_questions(quiz, section_titles)
        self.answer_key = answer_key(quiz, markdown_html)
        self.questions_json = json.dumps(self.questions, ensure_ascii=False)
        self.answer_key_json = json.dumps(self.answer_key, ensure_ascii=False)


class QuizResult(ui.element, component='quiz_result.js'):
    """Props down (the questions; the key and the learner's state at page load), calls down (``showResult``),
    events up (``retry``, ``zone``).

    After the page is built the learner's state lives here (:attr:`state`) and reaches the browser by calls only: the
    props are not touched again (an assignment to them would be observed, and this element never drawn again)."""

    def __init__(
        self,
        texts: QuizTexts,
        state: dict[str, Any],
        *,
        with_key: bool,
        on_retry: Callable[[], Any],
        on_zone: Callable[[object], None],
    ) -> None:
        super().__init__()
        self._texts = texts
        self.state = state
        self.key_sent = with_key
        self._props['questions-json'] = texts.questions_json
        self._props['answer-key-json'] = texts.answer_key_json if with_key else ''
        self._props['state'] = state
        self.on('retry', lambda _: on_retry(), [])
        self.on('zone', lambda event: on_zone(_first(event)), [None])

    @property
    def answer_key(self) -> dict[str, Any] | None:
        """The key as the browser has it, or None before the learner's first result."""
        return self._texts.answer_key if self.key_sent else None

    def show_result(self, state: dict[str, Any], *, focus: bool = False) -> None:
        """Hand the browser the learner's results: one message; the key goes with the first result only."""
        key_json = ''
        if state['attempts'] and not self.key_sent:
            key_json, self.key_sent = self._texts.answer_key_json, True
        self.state = state
        self.run_method('showResult', state, key_json, focus)


def _first(event: GenericEventArguments) -> object:
    args = event.args
    return args[0] if isinstance(args, list) and args else args
