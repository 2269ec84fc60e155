"""Waiting for a condition with a deadline, the one polling loop of the tests that start processes.

A fixed sleep is a guess at how long something takes: too short on a loaded machine (a flaky test), too long
everywhere else. Polling a cheap condition every few milliseconds until a deadline is neither.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar('T')
POLL_INTERVAL_S = 0.05


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline (an AssertionError: the test failed, with why)."""


def wait_until(
    condition: Callable[[], T | None],
    timeout_s: float,
    explain: Callable[[], str] | str,
    interval_s: float = POLL_INTERVAL_S,
) -> T:
    """Call ``condition`` until it returns something truthy, and return that; after ``timeout_s``, fail with
    ``explain`` (a callable is called then, to show the state at that moment: a log, the last value).

    ``condition`` may raise AssertionError itself to fail early (a process that exited will never start).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f'not within {timeout_s} s: {explain() if callable(explain) else explain}')
        time.sleep(interval_s)  # the polling interval, not a guess at a duration


async def wait_until_async(
    condition: Callable[[], object] | Callable[[], Awaitable[object]],
    timeout_s: float,
    explain: str,
    interval_s: float = 0.001,
) -> object:
    """:func:`wait_until` inside a running event loop, which keeps running while it waits: ``condition`` may be a
    coroutine function (a question to Redis), and the interval is short, for conditions met within the process."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f'not within {timeout_s} s: {explain}')
        await asyncio.sleep(interval_s)  # the polling interval, not a guess at a duration
