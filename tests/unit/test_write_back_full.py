"""A long class-store outage fills the write-back queue; every further submit must not cost a log line of its own
(a learner can repeat it), yet none may go unmentioned."""

from __future__ import annotations

import logging
from typing import cast

import pytest

from lesson.rules.classroom import ClassAttempt
from lesson.teaching.store import ClassStore
from lesson.teaching.write_back import MAX_WAITING, Waiting, WriteBack


def test_a_full_queue_refuses_every_further_attempt_in_one_line_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    back = WriteBack(cast(ClassStore, object()))
    kept = Waiting('class-1', cast(ClassAttempt, object()))
    back.waiting.extend([kept] * MAX_WAITING)
    with caplog.at_level(logging.WARNING, logger='lesson.teaching.write_back'):
        refused = [back.keep('class-1', cast(ClassAttempt, object())) for _ in range(100)]
    assert refused == [False] * 100
    assert len(back.waiting) == MAX_WAITING
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1
    assert lines[0].startswith(f'class store away: {MAX_WAITING} attempts wait already')
