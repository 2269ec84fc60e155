"""One watch per app process on the class store's events, telling open pages the moment a new class starts.

A learner's open pages (join, demo, quiz) must learn of the teacher's reset at once, not at their next reload. One
subscription serves them all: each page registers a listener (:meth:`ClassWatch.watch`) and is called with the new
class's id. After Redis comes back, the store sends a plain "read the class again" event (a reset may have happened
meanwhile, on another instance): the watch then compares the running class's id with the last one it knew.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from lesson.rules.classroom import ClassroomRejected
from lesson.teaching.store import ClassEvent, ClassStarted, ClassStore

log = logging.getLogger(__name__)

NewClassListener = Callable[[str], None]


class ClassWatch:
    """Calls each registered listener with the new class's id when the teacher starts a new class."""

    def __init__(self, store: ClassStore) -> None:
        self.store = store
        self.listeners: set[NewClassListener] = set()
        self.known_class_id: str | None = None
        self._task: asyncio.Task[None] | None = None

    def watch(self, listener: NewClassListener) -> Callable[[], None]:
        """Register ``listener``; returns the function that unregisters it (call it when the page goes)."""
        self.listeners.add(listener)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._follow(), name='class watch')
        return lambda: self.listeners.discard(listener)

    async def _follow(self) -> None:
        async for event in self.store.subscribe():
            if isinstance(event, ClassStarted):
                self._announce(event.class_id)
            elif type(event) is ClassEvent:  # the store asks its readers to read again (after an outage)
                try:
                    current = await self.store.current()
                except ClassroomRejected:
                    continue
                if current is not None and current.id != self.known_class_id:
                    self._announce(current.id)

    def _announce(self, class_id: str) -> None:
        self.known_class_id = class_id
        for listener in list(self.listeners):
            try:
                listener(class_id)
            except Exception:  # one page's failure must not keep the others from hearing
                log.exception('a page could not be told of the new class')
