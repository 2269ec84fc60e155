"""One class at a time: who joined, what they answered, what their demos measured. Pure: no I/O, no NiceGUI.

A :class:`Class` is an immutable value; every change is a function returning a new one, after checking the
change whole (a rejected join or submission leaves the class as it was). The stores (:mod:`lesson.teaching.store`,
and a Redis one) keep these values and move them as JSON (:func:`class_to_json`, :func:`class_from_json`); the
board and the CSV export read them through the summaries below.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from lesson.rules import demo_runs, nicknames
from lesson.rules.demo_runs import DemoTotals
from lesson.rules.progress import DemoRun
from lesson.rules.quiz import InvalidAnswer, Quiz, percent_of

#: Learners one class holds unless the teacher says otherwise (``--max-learners``): bounds the class file and
#: the board's work per event.
DEFAULT_MAX_LEARNERS = 200
#: Attempts one learner may submit in one class; beyond, a retry is refused (bounds the class file).
MAX_ATTEMPTS_PER_LEARNER = 50
#: A class id: the start time and a random suffix (``20260131-091500-a1b2c3``); checked wherever one arrives
#: from outside (a query parameter, a learner's storage), since the file store makes a file name of it.
CLASS_ID = re.compile(r'^\d{8}-\d{6}-[0-9a-f]{6}$')
LEARNER_ID = re.compile(r'^[A-Za-z0-9_-]{8,64}$')


class ClassroomRejected(ValueError):
    """A change that must not happen; the message is fit to show the learner or teacher."""


class NicknameRejected(ClassroomRejected):
    pass


class ClassFull(ClassroomRejected):
    pass


class ClassClosed(ClassroomRejected):
    """The class was reset (or never existed): nothing is recorded for it any more."""


#: What a learner whose class was reset while they worked is told, wherever that is noticed (the store refusing a
#: change, the quiz refusing a submission, the join page).
CLASS_ENDED = 'Your class has ended: your teacher started a new one. Join again on the Join page to take part.'


class NotJoined(ClassroomRejected):
    pass


class LearnerRemoved(ClassroomRejected):
    """The teacher removed this learner (this browser) from the class: they cannot join it again."""


#: What a removed learner is told when they try to join again.
REMOVED = 'Your teacher removed you from this class.'
#: Learner records one class keeps per place (``max_learners``): those who left with results stay counted, but a
#: script joining and leaving with fresh cookies cannot grow the class file without end.
RECORDS_PER_PLACE = 3


# -- values --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Learner:
    id: str  # random, kept in the learner's own storage; never shown
    number: int  # 1, 2, ... in order of joining: the anonymous name
    nickname: str | None
    joined_at: datetime
    present: bool = True
    demo: DemoTotals = field(default_factory=DemoTotals)
    #: The last run summary heard (the demo page sends a growing summary every few seconds of a run), so the
    #: next one adds only what is new: see :func:`record_demo_run`.
    last_run: DemoRun | None = None
    #: Seconds of demo running the class has credited this learner, and when it last heard from them: their totals
    #: stay within what one page does in that time (:mod:`lesson.rules.demo_runs`).
    demo_credited_s: float = 0.0
    demo_heard_at: datetime | None = None
    #: The link profiles the learner's counted runs were measured under, in the order first used.
    demo_links: tuple[str, ...] = ()
    #: Removed by the teacher: gone, and this browser may not join the class again.
    removed: bool = False
    #: Where the learner joined from, as a tag (:func:`lesson.teaching.membership.source_tag`), not an address: the
    #: per-address cap counts learners by it.
    source: str = ''

    @property
    def name(self) -> str:
        return self.nickname or f'Learner {self.number}'


@dataclass(frozen=True)
class ClassAttempt:
    """One learner's submitted quiz attempt as their class counts it (the board, the CSV exports), as graded when it
    was submitted; the learner's own copy is a :class:`lesson.rules.progress.SubmittedAttempt`."""

    learner_id: str
    number: int  # the learner's own attempt number (their history may start before the class)
    submitted_at: datetime
    score: int
    total: int
    answers: Mapping[str, str]

    @property
    def percent(self) -> int:
        return percent_of(self.score, self.total)


@dataclass(frozen=True)
class Class:
    id: str
    started_at: datetime
    max_learners: int = DEFAULT_MAX_LEARNERS
    learners: tuple[Learner, ...] = ()  # in order of joining
    attempts: tuple[ClassAttempt, ...] = ()  # in order of submission
    #: Joins refused (full, too many from one address or too fast, removed): the board shows the count.
    refused_joins: int = 0

    def learner(self, learner_id: str) -> Learner | None:
        return next((learner for learner in self.learners if learner.id == learner_id), None)

    @property
    def present(self) -> tuple[Learner, ...]:
        return tuple(learner for learner in self.learners if learner.present)

    @property
    def demo_totals(self) -> DemoTotals:
        return sum((learner.demo for learner in self.learners), DemoTotals())


@dataclass(frozen=True)
class ClassInfo:
    """A line of the list of classes: enough to choose one to export."""

    id: str
    started_at: datetime
    learners: int
    attempts: int
    current: bool


# -- changes -------------------------------------------------------------------------------------------------


def checked_nickname(raw: str | None, taken: Iterable[str] = ()) -> str | None:
    """The nickname as it will be shown, ``None`` for anonymous; :class:`NicknameRejected` otherwise (the rules
    are :mod:`lesson.rules.nicknames`')."""
    try:
        return nicknames.checked(raw, taken)
    except nicknames.NicknameProblem as problem:
        raise NicknameRejected(str(problem)) from problem


def join(
    klass: Class, learner_id: str, nickname: str | None, at: datetime, source: str = '', max_per_source: int = 0
) -> tuple[Class, Learner]:
    """Add the learner (or bring them back, with the new nickname). Refused when the class is full (learners present
    count; those who left do not), when ``max_per_source`` learners (0: no cap) are already here from ``source``, or
    for a learner the teacher removed."""
    if not LEARNER_ID.match(learner_id):
        raise ClassroomRejected('That learner id is not one this app makes.')
    known = klass.learner(learner_id)
    if known is not None and known.removed:
        raise LearnerRemoved(REMOVED)
    name = checked_nickname(
        nickname, (each.nickname for each in klass.learners if each.id != learner_id and each.nickname)
    )
    if known is not None and known.present:
        back = replace(known, nickname=name)
        return _with_learner(klass, back), back
    present = klass.present
    if len(present) >= klass.max_learners or len(klass.learners) >= RECORDS_PER_PLACE * klass.max_learners:
        raise ClassFull(f'This class is full ({klass.max_learners} learners); ask your teacher.')
    if max_per_source and source and sum(each.source == source for each in present) >= max_per_source:
        raise ClassFull(
            f'{max_per_source} learners have joined from your network already; ask your teacher to allow more.'
        )
    if known is not None:
        back = replace(known, nickname=name, present=True, source=source)
        return _with_learner(klass, back), back
    number = max((each.number for each in klass.learners), default=0) + 1
    learner = Learner(learner_id, number, name, at, source=source)
    return replace(klass, learners=(*klass.learners, learner)), learner


def leave(klass: Class, learner_id: str) -> Class:
    """Mark the learner as gone, freeing their place; their results stay. A learner with nothing to keep (no
    attempt, no demo run) is forgotten: leaving and joining again cannot grow the class."""
    learner = klass.learner(learner_id)
    if learner is None:
        raise NotJoined('You are not in this class; join it again.')
    if learner.removed:
        return klass
    if learner.demo.runs == 0 and not any(attempt.learner_id == learner_id for attempt in klass.attempts):
        return replace(klass, learners=tuple(each for each in klass.learners if each.id != learner_id))
    return _with_learner(klass, replace(learner, present=False))


def remove(klass: Class, learner_id: str) -> Class:
    """The teacher's removal: the learner is gone and this browser may not join the class again."""
    learner = _joined(klass, learner_id)
    return _with_learner(klass, replace(learner, present=False, removed=True))


def refuse_join(klass: Class) -> Class:
    """Count a refused join for the board."""
    return replace(klass, refused_joins=klass.refused_joins + 1)


def record_attempt(klass: Class, attempt: ClassAttempt, quiz: Quiz) -> Class:
    """Add a submitted attempt; its answers must fit the quiz and the learner must have joined."""
    _joined(klass, attempt.learner_id)
    for question_id, option_id in attempt.answers.items():
        try:
            quiz.check_answer(question_id, option_id)
        except InvalidAnswer as error:
            raise ClassroomRejected(str(error)) from error
    mine = [a for a in klass.attempts if a.learner_id == attempt.learner_id]
    if any(a.number == attempt.number for a in mine):
        raise ClassroomRejected(f'Attempt {attempt.number} was already counted for this class.')
    if len(mine) >= MAX_ATTEMPTS_PER_LEARNER:
        raise ClassroomRejected(f'At most {MAX_ATTEMPTS_PER_LEARNER} attempts count for one class.')
    return replace(klass, attempts=(*klass.attempts, attempt))


def record_demo_run(klass: Class, learner_id: str, run: DemoRun, at: datetime) -> Class:
    """Count a run summary, as far as the time the class has seen allows (:func:`lesson.rules.demo_runs.record`)."""
    learner = _joined(klass, learner_id)
    ledger = demo_runs.RunLedger(learner.demo, learner.last_run, learner.demo_credited_s, learner.demo_heard_at)
    try:
        counted = demo_runs.record(ledger, run, at)
    except demo_runs.RunRefused as refused:
        raise ClassroomRejected(f'Demo run not counted: {refused}.') from refused
    grown = replace(
        learner,
        demo=counted.totals,
        last_run=counted.last_run,
        demo_credited_s=counted.credited_s,
        demo_heard_at=counted.heard_at,
        demo_links=learner.demo_links
        if run.link_profile in learner.demo_links
        else (*learner.demo_links, run.link_profile),
    )
    return _with_learner(klass, grown)


def _joined(klass: Class, learner_id: str) -> Learner:
    learner = klass.learner(learner_id)
    if learner is None:
        raise NotJoined('You are not in this class; join it again.')
    if learner.removed:  # nothing of theirs counts any more
        raise LearnerRemoved(REMOVED)
    return learner


def _with_learner(klass: Class, learner: Learner) -> Class:
    return replace(klass, learners=tuple(learner if each.id == learner.id else each for each in klass.learners))


# -- what the board shows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionTally:
    option_id: str
    text: str
    correct: bool
    count: int


@dataclass(frozen=True)
class QuestionTally:
    question_id: str
    prompt: str
    options: tuple[OptionTally, ...]  # in the quiz file's order

    @property
    def answered(self) -> int:
        return sum(option.count for option in self.options)

    @property
    def right(self) -> int:
        return sum(option.count for option in self.options if option.correct)


def first_attempts(klass: Class) -> tuple[ClassAttempt, ...]:
    """Each learner's first attempt submitted in this class (earlier ones at home do not count)."""
    seen: set[str] = set()
    firsts = []
    for attempt in klass.attempts:
        if attempt.learner_id not in seen:
            seen.add(attempt.learner_id)
            firsts.append(attempt)
    return tuple(firsts)


def retries(klass: Class) -> tuple[ClassAttempt, ...]:
    firsts = {id(attempt) for attempt in first_attempts(klass)}
    return tuple(attempt for attempt in klass.attempts if id(attempt) not in firsts)


def tallies(quiz: Quiz, attempts: Iterable[ClassAttempt]) -> tuple[QuestionTally, ...]:
    """The distribution of answers per question, the right option marked; answers the quiz no longer has
    (an edited quiz file) are left out rather than failing the board."""
    counts: dict[tuple[str, str], int] = {}
    for attempt in attempts:
        for question_id, option_id in attempt.answers.items():
            counts[question_id, option_id] = counts.get((question_id, option_id), 0) + 1
    return tuple(
        QuestionTally(
            question.id,
            question.prompt,
            tuple(
                OptionTally(option.id, option.text, option.correct, counts.get((question.id, option.id), 0))
                for option in question.options
            ),
        )
        for question in quiz.questions
    )


@dataclass(frozen=True)
class Scores:
    submitted: int  # learners with at least one attempt
    attempts: int
    first_average_percent: float | None
    retry_average_percent: float | None
    best_percent: int | None
    best_names: tuple[str, ...]  # who reached the best score


def _average(attempts: Sequence[ClassAttempt]) -> float | None:
    return round(sum(a.percent for a in attempts) / len(attempts), 1) if attempts else None


def scores(klass: Class) -> Scores:
    firsts, again = first_attempts(klass), retries(klass)
    best = max((a.percent for a in klass.attempts), default=None)
    names = {learner.id: learner.name for learner in klass.learners}
    best_ids = dict.fromkeys(a.learner_id for a in klass.attempts if a.percent == best)
    return Scores(
        submitted=len(firsts),
        attempts=len(klass.attempts),
        first_average_percent=_average(firsts),
        retry_average_percent=_average(again),
        best_percent=best,
        best_names=tuple(names.get(learner_id, '?') for learner_id in best_ids),
    )


def demo_links_sentence(learners: Iterable[Learner]) -> str:
    """Under which link profiles the class's demo totals were measured, for the board (empty before any run)."""
    counts = Counter(link for learner in learners for link in learner.demo_links)
    if not counts:
        return ''
    named = [
        f'{demo_runs.LINK_NAMES.get(link, link)} ({n} learner{"s" if n != 1 else ""})'
        for link, n in counts.most_common()
    ]
    return f'Measured on the link: {", ".join(named)}.'


def demo_sentence(totals: DemoTotals) -> str:
    """The class's demo totals in one sentence for the board."""
    if not totals.runs:
        return 'No demo runs yet: the figures appear here as students run the polling-versus-push demo.'
    runs = f'{totals.runs:,} run{"s" if totals.runs != 1 else ""}'
    return (
        f'Your class sent {totals.poll_requests:,} polls, {totals.poll_empty:,} came back empty; push delivered '
        f'{totals.push_updates:,} updates over 1 connection per run ({runs}).'
    )


# -- JSON (what the stores keep) -----------------------------------------------------------------------------


def _run_json(run: DemoRun | None) -> dict[str, Any] | None:
    return None if run is None else {name: getattr(run, name) for name in DemoRun.__dataclass_fields__}


def class_to_json(klass: Class) -> dict[str, Any]:
    return {
        'id': klass.id,
        'started_at': klass.started_at.isoformat(),
        'max_learners': klass.max_learners,
        'refused_joins': klass.refused_joins,
        'learners': [
            {
                'id': learner.id,
                'number': learner.number,
                'nickname': learner.nickname,
                'joined_at': learner.joined_at.isoformat(),
                'present': learner.present,
                'demo': vars(learner.demo),
                'last_run': _run_json(learner.last_run),
                'demo_credited_s': learner.demo_credited_s,
                'demo_heard_at': None if learner.demo_heard_at is None else learner.demo_heard_at.isoformat(),
                'removed': learner.removed,
                'source': learner.source,
                'demo_links': list(learner.demo_links),
            }
            for learner in klass.learners
        ],
        'attempts': [
            {
                'learner_id': a.learner_id,
                'number': a.number,
                'submitted_at': a.submitted_at.isoformat(),
                'score': a.score,
                'total': a.total,
                'answers': dict(a.answers),
            }
            for a in klass.attempts
        ],
    }


def class_from_json(raw: Mapping[str, Any]) -> Class:
    """The class as stored; raises ``ValueError`` (or ``KeyError``/``TypeError``) when it is not one."""
    if not CLASS_ID.match(str(raw['id'])):
        raise ValueError(f'not a class id: {raw["id"]!r}')
    learners = tuple(
        Learner(
            id=str(item['id']),
            number=int(item['number']),
            nickname=item.get('nickname'),
            joined_at=datetime.fromisoformat(item['joined_at']),
            present=bool(item.get('present', True)),
            demo=DemoTotals(**{name: int(item['demo'][name]) for name in DemoTotals.__dataclass_fields__}),
            last_run=DemoRun(**item['last_run']) if item.get('last_run') else None,
            demo_credited_s=float(item.get('demo_credited_s', 0.0)),
            demo_heard_at=datetime.fromisoformat(item['demo_heard_at']) if item.get('demo_heard_at') else None,
            removed=bool(item.get('removed', False)),
            source=str(item.get('source', '')),
            demo_links=tuple(str(link) for link in item.get('demo_links', ())),
        )
        for item in raw['learners']
    )
    attempts = tuple(
        ClassAttempt(
            learner_id=str(item['learner_id']),
            number=int(item['number']),
            submitted_at=datetime.fromisoformat(item['submitted_at']),
            score=int(item['score']),
            total=int(item['total']),
            answers={str(k): str(v) for k, v in item['answers'].items()},
        )
        for item in raw['attempts']
    )
    return Class(
        id=str(raw['id']),
        started_at=datetime.fromisoformat(raw['started_at']),
        max_learners=int(raw['max_learners']),
        refused_joins=int(raw.get('refused_joins', 0)),
        learners=learners,
        attempts=attempts,
    )
