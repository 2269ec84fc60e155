"""Changes that arrive together are made in one round, each caller told its own outcome (no Redis: a list)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from lesson.rules.classroom import Class, ClassClosed, ClassFull, ClassroomRejected
from lesson.teaching.group_commit import GroupCommit, Outcome, Rule

CLASS_ID = '20260131-120000-abcdef'


class ListStore:
    """Keeps a class; each round rules on it in order and writes once, after a pause as a store's exchange takes."""

    def __init__(self) -> None:
        self.klass = Class(CLASS_ID, datetime(2026, 1, 31, 12, tzinfo=UTC), max_learners=3)
        self.writes = 0
        self.rounds: list[int] = []
        self.fail_with: Exception | None = None

    async def round(self, class_id: str, rules: Sequence[Rule]) -> list[Outcome]:
        self.rounds.append(len(rules))
        await asyncio.sleep(0.01)
        if self.fail_with is not None:
            raise self.fail_with
        if class_id != self.klass.id:
            raise ClassClosed('that class ended')
        outcomes: list[Outcome] = []
        klass = self.klass
        for rule in rules:
            try:
                klass, result = rule(klass)
            except Exception as refused:
                outcomes.append(refused)
            else:
                outcomes.append((klass, result))
        self.klass = klass
        self.writes += 1
        return outcomes


def counting(klass: Class) -> tuple[Class, int]:
    """Bumps the refused-joins counter: a change whose order shows in the result."""
    changed = replace(klass, refused_joins=klass.refused_joins + 1)
    return changed, changed.refused_joins


def refusing(klass: Class) -> tuple[Class, int]:
    raise ClassFull('the class is full')


async def test_changes_at_once_are_made_in_few_rounds_each_told_its_own_result() -> None:
    store = ListStore()
    commit = GroupCommit(store.round)
    first = asyncio.ensure_future(commit.apply(CLASS_ID, counting))
    await asyncio.sleep(0)  # its round is under way
    results = [await first, *await asyncio.gather(*(commit.apply(CLASS_ID, counting) for _ in range(49)))]
    assert sorted(result for _, result in results) == list(range(1, 51))  # none lost, none twice
    assert store.klass.refused_joins == 50
    assert store.rounds == [1, 49]  # the first went alone; the rest waited for it and went together
    assert (commit.rounds, commit.changes) == (2, 50)


async def test_a_refusal_is_its_callers_alone_and_the_next_change_goes_on() -> None:
    store = ListStore()
    commit = GroupCommit(store.round)
    first, refused, third = await asyncio.gather(
        commit.apply(CLASS_ID, counting),
        commit.apply(CLASS_ID, refusing),
        commit.apply(CLASS_ID, counting),
        return_exceptions=True,
    )
    assert isinstance(refused, ClassFull)
    assert first[1] == 1 and third[1] == 2  # type: ignore[index]
    assert store.klass.refused_joins == 2


async def test_a_round_that_fails_tells_every_change_in_it_and_the_next_round_runs() -> None:
    store = ListStore()
    commit = GroupCommit(store.round)
    store.fail_with = ClassroomRejected('the store is away')
    outcomes = await asyncio.gather(*(commit.apply(CLASS_ID, counting) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, ClassroomRejected) for outcome in outcomes)
    store.fail_with = None
    assert (await commit.apply(CLASS_ID, counting))[1] == 1


async def test_changes_to_two_classes_go_in_a_round_each() -> None:
    store = ListStore()
    commit = GroupCommit(store.round)
    await commit.apply(CLASS_ID, counting)
    kept, gone = await asyncio.gather(
        commit.apply(CLASS_ID, counting), commit.apply('20250101-000000-000000', counting), return_exceptions=True
    )
    assert kept[1] == 2  # type: ignore[index]
    assert isinstance(gone, ClassClosed)


async def test_a_caller_that_gave_up_before_its_round_is_left_out_of_it() -> None:
    store = ListStore()
    commit = GroupCommit(store.round)
    running = asyncio.ensure_future(commit.apply(CLASS_ID, counting))
    await asyncio.sleep(0)  # the first round is under way
    given_up = asyncio.ensure_future(commit.apply(CLASS_ID, counting))
    waiting = asyncio.ensure_future(commit.apply(CLASS_ID, counting))
    await asyncio.sleep(0)
    given_up.cancel()
    assert (await running)[1] == 1 and (await waiting)[1] == 2
    assert store.rounds == [1, 1]


async def test_close_cancels_the_round_under_way_and_the_changes_waiting() -> None:
    store = ListStore()
    commit = GroupCommit(store.round)
    changes = [asyncio.ensure_future(commit.apply(CLASS_ID, counting)) for _ in range(3)]
    await asyncio.sleep(0.002)  # the first round began; the others wait
    await commit.close()
    for change in changes:
        with pytest.raises(asyncio.CancelledError):
            await change
    assert store.writes == 0
