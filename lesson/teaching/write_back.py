"""Attempts the class store could not take during an outage, written back once it answers again.

A quiz submit is graded and kept in the learner's own storage first; only the class's count goes to the class
store. When that store is away (Redis restarting, :class:`~lesson.teaching.store_redis.ClassStoreUnavailable`), the
attempt waits here and is recorded when the store is back, so the board shows it without the learner doing
anything. Kept in this process's memory: an app that stops during the outage loses the class's copy only (the
learner's own result stays in their storage, and their next submit counts).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass

from demos.protocol.limits import OncePerMinute
from lesson.rules.classroom import ClassAttempt, ClassroomRejected
from lesson.teaching.store import ClassStore
from lesson.teaching.store_redis import ClassStoreUnavailable

log = logging.getLogger(__name__)

#: Attempts kept waiting at most: a class of 200 submitting twice during an outage fits many times over.
MAX_WAITING = 5000
#: Seconds between two tries while the store is away (each try itself waits a few seconds for Redis).
RETRY_EVERY_S = 2.0


@dataclass(frozen=True, slots=True)
class Waiting:
    class_id: str
    attempt: ClassAttempt


class WriteBack:
    """The attempts waiting for the class store, and the one task that writes them back in order."""

    def __init__(self, store: ClassStore, retry_every_s: float = RETRY_EVERY_S) -> None:
        self.store = store
        self.retry_every_s = retry_every_s
        self.waiting: deque[Waiting] = deque()
        self._full_lines = OncePerMinute()
        self.written = 0
        self._task: asyncio.Task[None] | None = None

    def keep(self, class_id: str, attempt: ClassAttempt) -> bool:
        """Keep ``attempt`` for writing back; False when too many wait already (then only the learner has it)."""
        if len(self.waiting) >= MAX_WAITING:
            # every further submit of a long outage lands here: one line a minute says how many
            count = self._full_lines.note('class store', 'write-back full')
            if count is not None:
                log.warning(
                    "class store away: %d attempts wait already; %d more stay only their learners' since the last line",
                    MAX_WAITING,
                    count,
                )
            return False
        self.waiting.append(Waiting(class_id, attempt))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._write_back(), name='class write-back')
        return True

    async def _write_back(self) -> None:
        while self.waiting:
            item = self.waiting[0]
            try:
                await self.store.record_attempt(item.class_id, item.attempt)
            except ClassStoreUnavailable:
                await asyncio.sleep(self.retry_every_s)
                continue
            except ClassroomRejected as refused:  # e.g. the class was reset meanwhile: the learner keeps their own
                log.warning('attempt kept during an outage not counted: %s', refused)
            else:
                self.written += 1
                log.info("attempt kept during the class store's outage written back to class %s", item.class_id)
            self.waiting.popleft()

    async def drained(self) -> None:
        """Return once nothing waits (for tests and an orderly stop)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
