"""How long a class page waits for the class store, and what it says when the store does not answer.

The Redis class store retries for 3 s before it gives up (a restart of Redis takes about that), and NiceGUI gives a
page 3 s to be built: with Redis down, ``/join`` and ``/teacher`` answered HTTP 500 after 3 s. A page asks with
:func:`read_class` instead, which gives up after :data:`PAGE_WAIT_S`, and then draws :func:`unreachable` (what is
wrong, and what still works) instead of failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from nicegui import ui

from lesson.teaching.store_redis import ClassStoreUnavailable

T = TypeVar('T')
#: Seconds a class page waits for the class store before it says the store cannot be reached.
PAGE_WAIT_S = 0.5
FOR_LEARNERS = (
    'The class cannot be reached right now: its shared store (Redis) does not answer, so joining and the class '
    'board wait until it is back. What still works: the lesson, the live demos and the quiz, on your own; your '
    'progress is kept. Try this page again in a minute.'
)
FOR_THE_TEACHER = (
    "The class store (Redis) does not answer, so the class's learners and results cannot be shown or changed right "
    'now. What still works: the lesson, the demos and the quiz for everyone (progress is kept, and attempts made '
    'meanwhile reach the board once the store is back). Reload this page once Redis is running again.'
)


class StoreUnreachable(Exception):
    """The class store did not answer within :data:`PAGE_WAIT_S` (or said it is away)."""


async def read_class(reading: Awaitable[T]) -> T:
    """The store's answer, or :class:`StoreUnreachable` after :data:`PAGE_WAIT_S`."""
    try:
        return await asyncio.wait_for(reading, PAGE_WAIT_S)
    except TimeoutError as slow:
        raise StoreUnreachable from slow
    except ClassStoreUnavailable as away:  # retried already and given up
        raise StoreUnreachable from away


def unreachable(text: str) -> None:
    """The notice in place of the page's class content."""
    ui.label(text).classes('text-lg text-red-900 dark:text-red-200 font-medium').props('role=alert').mark(
        'class-store-unreachable'
    ).props('data-testid=class-store-unreachable')
