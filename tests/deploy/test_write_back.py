"""An attempt submitted while Redis is away: graded, kept on the server, written back to the class once Redis is
back, and the learner is told so (lesson/teaching/write_back.py through the quiz page's hook in membership)."""

from __future__ import annotations

from datetime import UTC, datetime

from lesson.rules.progress import SubmittedAttempt
from lesson.rules.quiz import grade
from lesson.teaching import membership
from lesson.teaching.store_redis import RedisClassStore

from ..support.deployment import RedisServer
from .test_class_store_redis import QUIZ, RIGHT


def graded_own(number: int) -> SubmittedAttempt:
    result = grade(QUIZ, RIGHT)
    return SubmittedAttempt(number, 1, datetime.now(UTC), result.score, result.total, RIGHT)


async def test_an_attempt_made_while_redis_is_away_reaches_the_class_once_it_is_back(redis_server: RedisServer) -> None:
    store = RedisClassStore(redis_server.url, QUIZ, unavailable_after_s=0.3)
    before = membership.active_store()
    membership.use_store(store)
    try:
        klass = await store.start_class()
        learner: dict[str, object] = {}
        await membership.join(learner, 'Ada')

        redis_server.stop()
        note = await membership.count_attempt(learner, graded_own(1))
        assert note == membership.KEPT_FOR_THE_BOARD
        waiting = membership.write_back()
        assert waiting is not None and len(waiting.waiting) == 1

        redis_server.start()  # same port, same append-only file
        await waiting.drained()
        kept = await store.current()
        assert kept is not None and kept.id == klass.id
        assert [(a.learner_id, a.number, a.score) for a in kept.attempts] == [
            (membership.learner_id_for(learner), 1, len(QUIZ.questions))
        ]
        assert waiting.written == 1 and not waiting.waiting
    finally:
        membership.use_store(before)
        await store.close()
