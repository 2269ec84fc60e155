"""One learner's quiz progress: answers in progress, submitted attempts, best score.

The state lives in NiceGUI's ``app.storage.user`` (a JSON file per browser in the data directory), under one
key. Everything except :func:`learner_store` works on plain mappings, so the rules are tested without a
server:

* every change is checked first and applied whole, so a rejected event (unknown question or option, an
  attempt that is not the one in progress, a second submission) leaves the stored progress untouched;
* what was stored by an older quiz file is read tolerantly: answers to questions that no longer exist are
  dropped from the attempt in progress, and submitted attempts keep the score they were given.

Stored shape (``app.storage.user['quiz']``)::

    {"current": {"number": 2, "seed": 7, "answers": {"<question id>": "<option id>"}} | null,
     "attempts": [{"number": 1, "seed": 0, "submitted_at": "2025-01-31T12:00:00+00:00",
                   "score": 3, "total": 4, "answers": {...}}, ...],        # oldest first
     "best": {"number": 1, "score": 3, "total": 4} | null}
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from lesson.rules.quiz import InvalidAnswer, Quiz, grade, next_seed, percent_of

STORE_KEY = 'quiz'
FIRST_SEED = 0


class ProgressRejected(ValueError):
    """An event that must not change the learner's progress; the message says why (for the log)."""


@dataclass(frozen=True)
class InProgress:
    number: int
    seed: int
    answers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SubmittedAttempt:
    """One attempt in the learner's own quiz history (their storage), as graded when it was submitted; what their
    class counts of it is a :class:`lesson.rules.classroom.ClassAttempt`."""

    number: int
    seed: int
    submitted_at: datetime
    score: int
    total: int
    answers: Mapping[str, str]

    @property
    def percent(self) -> int:
        return percent_of(self.score, self.total)


@dataclass(frozen=True)
class QuizState:
    current: InProgress | None = field(default_factory=lambda: InProgress(1, FIRST_SEED))
    attempts: tuple[SubmittedAttempt, ...] = ()  # oldest first

    @property
    def best(self) -> SubmittedAttempt | None:
        """The highest-scoring attempt; the earliest one on a tie, since that is when it was first reached."""
        return max(self.attempts, key=lambda attempt: (attempt.percent, -attempt.number), default=None)

    @property
    def last(self) -> SubmittedAttempt | None:
        return self.attempts[-1] if self.attempts else None

    def fitted_to(self, quiz: Quiz) -> QuizState:
        """Drop answers in progress that the current quiz file no longer has a question or option for."""
        if self.current is None:
            return self
        kept = {}
        for question_id, option_id in self.current.answers.items():
            try:
                quiz.check_answer(question_id, option_id)
            except InvalidAnswer:
                continue
            kept[question_id] = option_id
        return replace(self, current=replace(self.current, answers=kept))


# -- the rules -----------------------------------------------------------------------------------------------


def _in_progress(state: QuizState, number: int) -> InProgress:
    if any(attempt.number == number for attempt in state.attempts):
        raise ProgressRejected(f'attempt {number} was already submitted')
    if state.current is None or state.current.number != number:
        raise ProgressRejected(f'attempt {number} is not the attempt in progress')
    return state.current


def record_answer(state: QuizState, quiz: Quiz, number: int, question_id: str, option_id: str) -> QuizState:
    current = _in_progress(state, number)
    try:
        quiz.check_answer(question_id, option_id)
    except InvalidAnswer as error:
        raise ProgressRejected(str(error)) from error
    return replace(state, current=replace(current, answers={**current.answers, question_id: option_id}))


def submit(state: QuizState, quiz: Quiz, number: int, submitted_at: datetime) -> QuizState:
    """Grade the attempt in progress and move it to the history; every question must be answered."""
    current = _in_progress(state, number)
    if missing := [question.id for question in quiz.questions if question.id not in current.answers]:
        raise ProgressRejected(f'attempt {number} leaves {", ".join(missing)} unanswered')
    try:
        result = grade(quiz, current.answers)
    except InvalidAnswer as error:
        raise ProgressRejected(str(error)) from error
    attempt = SubmittedAttempt(number, current.seed, submitted_at, result.score, result.total, dict(current.answers))
    return QuizState(current=None, attempts=(*state.attempts, attempt))


def start_retry(state: QuizState, quiz: Quiz) -> QuizState:
    """Open the next attempt with its options in a new order; a second click keeps the one already open."""
    if state.current is not None:
        return state
    last = state.last
    if last is None:
        return QuizState()
    return replace(state, current=InProgress(last.number + 1, next_seed(quiz, last.seed)))


# -- to and from the stored JSON -----------------------------------------------------------------------------


def _answers(raw: object) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(key): value for key, value in raw.items() if isinstance(value, str)}


def _whole_number(raw: object) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def _attempt(raw: object) -> SubmittedAttempt | None:
    if not isinstance(raw, Mapping):
        return None
    number, seed = _whole_number(raw.get('number')), _whole_number(raw.get('seed'))
    score, total = _whole_number(raw.get('score')), _whole_number(raw.get('total'))
    if number is None or seed is None or score is None or total is None:
        return None
    try:
        submitted_at = datetime.fromisoformat(str(raw.get('submitted_at')))
    except ValueError:
        return None
    return SubmittedAttempt(number, seed, submitted_at, score, total, _answers(raw.get('answers')))


def state_from_store(store: Mapping[str, Any]) -> QuizState:
    """Read the learner's state; anything missing or unreadable counts as not started rather than failing."""
    raw = store.get(STORE_KEY)
    if not isinstance(raw, Mapping):
        return QuizState()
    attempts = tuple(attempt for item in raw.get('attempts') or () if (attempt := _attempt(item)) is not None)
    raw_current = raw.get('current')
    current = None
    if isinstance(raw_current, Mapping):
        number, seed = _whole_number(raw_current.get('number')), _whole_number(raw_current.get('seed'))
        if number is not None and seed is not None:
            current = InProgress(number, seed, _answers(raw_current.get('answers')))
    if current is None and not attempts:
        return QuizState()
    # an unreadable attempt in progress after some history: the page shows the last result and 'Try again'
    return QuizState(current, attempts)


def state_to_store(state: QuizState) -> dict[str, Any]:
    best = state.best
    return {
        'current': None
        if state.current is None
        else {'number': state.current.number, 'seed': state.current.seed, 'answers': dict(state.current.answers)},
        'attempts': [
            {
                'number': a.number,
                'seed': a.seed,
                'submitted_at': a.submitted_at.isoformat(),
                'score': a.score,
                'total': a.total,
                'answers': dict(a.answers),
            }
            for a in state.attempts
        ],
        'best': None if best is None else {'number': best.number, 'score': best.score, 'total': best.total},
    }


class QuizProgress:
    """The rules above applied to a store: read, check, then write the whole new state in one assignment."""

    def __init__(self, store: MutableMapping[str, Any], quiz: Quiz) -> None:
        self.store = store
        self.quiz = quiz

    @property
    def state(self) -> QuizState:
        return state_from_store(self.store).fitted_to(self.quiz)

    def _save(self, state: QuizState) -> QuizState:
        self.store[STORE_KEY] = state_to_store(state)
        return state

    def record_answer(self, number: int, question_id: str, option_id: str) -> QuizState:
        return self._save(record_answer(self.state, self.quiz, number, question_id, option_id))

    def submit(self, number: int, submitted_at: datetime) -> QuizState:
        return self._save(submit(self.state, self.quiz, number, submitted_at))

    def start_retry(self) -> QuizState:
        return self._save(start_retry(self.state, self.quiz))


# -- the learner's last demo run, quoted by the quiz ------------------------------------------------------------

DEMO_RUN_KEY = 'demo_run'


@dataclass(frozen=True)
class DemoRun:
    """The figures of the learner's last run of the polling-versus-push demo, as the demo page measured them.

    Stored (``app.storage.user['demo_run']``) as these fields in a flat JSON object; delays in ms, ``None`` when
    not measured.
    """

    poll_requests: int
    poll_updates: int
    poll_empty: int
    poll_interval_ms: int
    poll_delay_p50_ms: float | None
    push_updates: int
    push_delay_p50_ms: float | None
    #: Which run of the page this summarises: the time of its Start in ms (increasing, across reloads too); 0 for
    #: a summary kept before runs were numbered.
    run_id: int = 0
    #: The link profile the run was measured under (the ids of :mod:`demos.protocol.link`; loopback when not said).
    link_profile: str = 'same-room'


def demo_run_to_store(run: DemoRun) -> dict[str, Any]:
    """The figures the quiz quotes (the run's number is the class's business, not kept here)."""
    return {name: getattr(run, name) for name in DemoRun.__dataclass_fields__ if name != 'run_id'}


def demo_run_from_store(store: Mapping[str, Any]) -> DemoRun | None:
    """The stored run, or ``None`` when there is none or it is unreadable (the quiz then quotes nothing)."""
    raw = store.get(DEMO_RUN_KEY)
    if not isinstance(raw, Mapping):
        return None
    counts = {
        name: _whole_number(raw.get(name))
        for name in ('poll_requests', 'poll_updates', 'poll_empty', 'poll_interval_ms', 'push_updates')
    }
    if any(value is None or value < 0 for value in counts.values()) or not counts['poll_requests']:
        return None
    delays = {name: _milliseconds(raw.get(name)) for name in ('poll_delay_p50_ms', 'push_delay_p50_ms')}
    link = raw.get('link_profile')  # the page checked it against the profiles (lesson.panels.lanes.run_from_event)
    extra = {'link_profile': link} if isinstance(link, str) and len(link) <= 32 else {}
    return DemoRun(**counts, **delays, **extra)  # type: ignore[arg-type]


def _milliseconds(raw: object) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw or raw < 0:  # raw != raw: NaN
        return None
    return float(raw)
