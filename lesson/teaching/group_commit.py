"""Changes to a class that arrive together are made together: one read and one write for a moment's worth of them.

When two hundred learners submit in the same second, each change alone would read the whole class, rule on it and
write it back: with Redis that is a parse and an encode of a class of 200 learners per submit, most of a change's
time, and the last submit waits behind all the others. Here the changes that arrive while a round is being written
wait for the next round, and that round applies all of them, in the order they came, to one read of the class and
keeps the result with one write (a database's group commit). Each caller still hears about its own change only:
its class and result, or its own refusal; a refusal leaves the class as the change before it left it, for the
changes after it.

The store says what a round is (:data:`Round`): how the class is read, ruled on and kept atomically.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from lesson.rules.classroom import Class

T = TypeVar('T')
#: A pure change: the class after it and what it tells its caller.
Rule = Callable[[Class], tuple[Class, Any]]
#: What one change came to: the class after it and its result, or why it was refused.
Outcome = tuple[Class, Any] | Exception
#: Applies the rules in order to the class ``class_id`` and keeps the result atomically; one outcome per rule. An
#: exception it raises (the class closed, the store unreachable) is every change's outcome.
Round = Callable[[str, Sequence[Rule]], Awaitable[list[Outcome]]]


@dataclass(eq=False)
class _Change:
    class_id: str
    rule: Rule
    outcome: asyncio.Future[tuple[Class, Any]]


class GroupCommit:
    """Runs the store's rounds one at a time, each with every change that waited for it."""

    def __init__(self, round_: Round) -> None:
        self._round = round_
        self._waiting: list[_Change] = []
        self._worker: asyncio.Task[None] | None = None
        self._in_round: list[_Change] = []
        #: Rounds run, and changes made in them (figures for tests and benchmarks).
        self.rounds = 0
        self.changes = 0

    async def apply(self, class_id: str, rule: Callable[[Class], tuple[Class, T]]) -> tuple[Class, T]:
        """``rule`` applied to the class in the next round, kept; its outcome alone comes back."""
        loop = asyncio.get_running_loop()
        change = _Change(class_id, rule, loop.create_future())
        self._waiting.append(change)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work(), name='class changes, in rounds')
        # A caller that gives up cancels its future, and the round skips it if it has not begun
        return await change.outcome  # type: ignore[no-any-return]

    async def _work(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            for class_id in dict.fromkeys(change.class_id for change in batch):
                live = [change for change in batch if change.class_id == class_id and not change.outcome.done()]
                if live:
                    await self._run(class_id, live)

    async def _run(self, class_id: str, changes: list[_Change]) -> None:
        self.rounds += 1
        self.changes += len(changes)
        self._in_round = changes
        try:
            outcomes = await self._round(class_id, [change.rule for change in changes])
        except Exception as error:  # the round itself failed: each of its changes is told why
            outcomes = [error] * len(changes)
        self._in_round = []  # not kept past its round: its classes are a whole class each
        for change, outcome in zip(changes, outcomes, strict=True):
            if change.outcome.done():
                continue  # its caller stopped waiting
            if isinstance(outcome, Exception):
                change.outcome.set_exception(outcome)
            else:
                change.outcome.set_result(outcome)

    async def close(self) -> None:
        """Stop: a round under way is abandoned, and every change still waiting is cancelled."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for change in [*self._in_round, *self._waiting]:
            change.outcome.cancel()
        self._waiting = []
