"""A learner's storage keeps the app's keys, each of its type, within a size (issue 18, finding 2)."""

from __future__ import annotations

import logging

import pytest

from lesson.storage import learner_schema
from lesson.storage.learner_schema import MAX_LEARNER_BYTES, RefusalLog, refusal


@pytest.mark.parametrize(
    ('key', 'value'),
    [('dark_mode', 'x'), ('dark_mode', 1), ('dark_mode', None), ('quiz', 'x'), ('class', []), ('anything', True)],
)
def test_other_keys_and_other_types_are_refused(key: str, value: object) -> None:
    assert refusal({}, key, value) is not None


@pytest.mark.parametrize(('key', 'value'), [('dark_mode', True), ('quiz', {'attempts': []}), ('class', {})])
def test_what_the_app_writes_is_kept(key: str, value: object) -> None:
    assert refusal({}, key, value) is None


def test_the_size_counts_what_the_learner_has_already() -> None:
    kept = {'quiz': {'notes': 'x' * (MAX_LEARNER_BYTES - 100)}}
    assert refusal(kept, 'demo_run', {'a': 'x' * 50}) is None
    assert refusal(kept, 'demo_run', {'a': 'x' * 200}) is not None
    assert refusal(kept, 'quiz', {'notes': 'short'}) is None  # the value it replaces does not count


def test_refusals_are_one_warning_a_minute_with_a_count(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    refusals = RefusalLog(clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger=learner_schema.__name__):
        for second in range(121):
            now[0] = float(second)
            refusals.refused('a str for dark_mode')
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 3
    assert ', 1 refused since' in lines[0] and ', 60 refused since' in lines[1] and ', 60 refused since' in lines[2]
