"""The quiz's attempt in progress (``quiz_attempt.js``): questions, radio buttons, the count and Submit, drawn in the
browser from one element's props, so the first ``/quiz`` of a learner costs the page server one element, not some
twenty.

The browser gets option labels only, in the attempt's shuffled order (:func:`lesson.rules.quiz.shuffled_options`):
a choice comes back as an index, checked first (:func:`lesson.rules.quiz.checked_option_index`), then mapped to the
option id here, so which option is correct stays on the server until the learner submits.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from nicegui import ui
from nicegui.events import GenericEventArguments

from lesson.rules.progress import InProgress
from lesson.rules.quiz import InvalidAnswer, Quiz, checked_option_index, option_order
from lesson.web.outsider_log import outsider_warning

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=64)
def questions_json(quiz: Quiz, seed: int) -> str:
    """Prompts and labels in the order an attempt with this seed shows them, as JSON text: made once per seed (a few
    per class), handed to every page as a string (NiceGUI sends a string prop as it is, a nested one it observes)."""
    questions = [
        {'id': q.id, 'prompt': q.prompt, 'options': [q.option(o).text for o in option_order(q, seed)]}
        for q in quiz.questions
    ]
    return json.dumps(questions, ensure_ascii=False)


def chosen_indexes(quiz: Quiz, seed: int, answers: Mapping[str, str]) -> dict[str, int]:
    """The stored choices as the browser knows them: by each option's index in this attempt's order."""
    chosen = {}
    for question in quiz.questions:
        order = option_order(question, seed)
        if (answer := answers.get(question.id)) in order:
            chosen[question.id] = order.index(answer)
    return chosen


class QuizAttempt(ui.element, component='quiz_attempt.js'):
    """Props down (the attempt), events up (``answer``: question id and option index; ``submit``)."""

    def __init__(
        self,
        quiz: Quiz,
        *,
        on_answer: Callable[[int, str, str], None],
        on_submit: Callable[[int], Any],
    ) -> None:
        super().__init__()
        self._quiz = quiz
        self._seed = 0
        self._props.update({'number': 0, 'questions-json': '[]', 'answers': {}})
        self.on('answer', lambda event: self._answer(event, on_answer), [None])
        self.on('submit', lambda _: on_submit(self._props['number']), [])

    def show(self, current: InProgress) -> None:
        """Draw this attempt (the page's first, or a new one after Try again)."""
        self._seed = current.seed
        self._props['number'] = current.number
        self._props['questions-json'] = questions_json(self._quiz, current.seed)
        self._props['answers'] = chosen_indexes(self._quiz, current.seed, current.answers)
        self.update()

    def _answer(self, event: GenericEventArguments, on_answer: Callable[[int, str, str], None]) -> None:
        try:
            question_id, raw_index = _pair(event.args)
            question = self._quiz.question(question_id)
            order = option_order(question, self._seed)
            option_id = order[checked_option_index(raw_index, len(order))]
        except InvalidAnswer as error:
            outsider_warning(log, 'quiz answer refused', 'quiz answer refused: %s', error)
            self.run_method('showChosen', self._props['answers'])  # the sender's display goes back to the stored
            return
        self._props['answers'] = {**self._props['answers'], question_id: order.index(option_id)}
        on_answer(self._props['number'], question_id, option_id)


def _pair(args: object) -> tuple[str, object]:
    """The event's question id and option index, as the component sends them; anything else is refused."""
    if isinstance(args, list) and len(args) == 1 and isinstance(args[0], list):
        args = args[0]
    if not (isinstance(args, list) and len(args) == 2 and isinstance(args[0], str)):
        raise InvalidAnswer(f'not a question id and an option index: {str(args)[:80]!r}')
    return args[0], args[1]
