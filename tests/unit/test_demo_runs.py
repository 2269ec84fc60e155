"""A demo run summary carries its run's number from the page to the class's counts (issue 18, finding 6)."""

from __future__ import annotations

from typing import Any

import pytest

from lesson.panels.lanes import run_from_event

SUMMARY: dict[str, Any] = {
    'poll_requests': 12,
    'poll_updates': 30,
    'poll_empty': 2,
    'poll_interval_ms': 500,
    'poll_delay_p50_ms': 241.3,
    'push_updates': 31,
    'push_delay_p50_ms': None,
}


def test_the_run_number_the_page_sends_is_kept() -> None:
    run = run_from_event({**SUMMARY, 'run_id': 1_764_000_000_000})
    assert run is not None and run.run_id == 1_764_000_000_000


@pytest.mark.parametrize('run_id', [-1, 2**53, True, 1.5, '7'])
def test_a_run_number_that_is_no_start_time_refuses_the_summary(run_id: object) -> None:
    assert run_from_event({**SUMMARY, 'run_id': run_id}) is None
