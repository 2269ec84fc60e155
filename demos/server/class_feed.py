"""The class feed: one ticker for the whole class, each update relayed to every following demo session.

A following session takes each update under its own numbering (:meth:`demos.server.sessions.DemoSession.relay`):
the same price and time for everyone, but each page's poll cursor and its count of missed updates stay right, so
all four lanes (polling and long polling too, which ask "anything after my last number?") follow the class feed,
and keep following the session's own feed when it ends. A learner's Reset or rate change touches only their own
feed, never the class's. When the teacher stops the class feed, each session whose page had pressed Start gets its
own ticker back at once (:meth:`~demos.server.sessions.DemoSession.unfollow`): no page is left waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from demos.protocol.feed import PriceFeed, check_rate
from demos.server.sessions import DemoSession


class ClassFeed:
    """One feed for the class: one ticker, each update relayed to every following session.

    Args:
        sessions: The sessions the server has now (followed when no ids were given).
    """

    def __init__(self, sessions: Callable[[], Iterable[DemoSession]]) -> None:
        self.sessions = sessions
        self.feed: PriceFeed | None = None
        self.session_ids: frozenset[str] | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._ticker is not None and not self._ticker.done()

    def followers(self) -> list[DemoSession]:
        return [s for s in self.sessions() if self.session_ids is None or s.id in self.session_ids]

    def start(self, rate_per_s: float, session_ids: Iterable[str] | None, seed: int | None = None) -> int:
        """Start (or restart at a new rate) for the listed sessions, or every session (None); how many follow.

        Echo processes started with one ``seed`` make the same prices at the same moments (several instances); the
        same start again (a relayed moment can be heard twice) leaves the running feed alone.
        """
        ids = None if session_ids is None else frozenset(session_ids)
        rate = check_rate(rate_per_s)
        if seed is not None and self._runs(seed, rate, ids):
            return len(self.followers())
        self.stop()
        self.feed = PriceFeed(rate_per_s=rate, seed=seed)
        self.session_ids = ids
        self._follow()
        self._ticker = asyncio.get_running_loop().create_task(self._tick(), name='class feed')
        return len(self.followers())

    def _runs(self, seed: int, rate_per_s: float, ids: frozenset[str] | None) -> bool:
        """Whether this very feed already runs (same seed, rate and sessions)."""
        if not self.running or self.feed is None:
            return False
        return (self.feed.seed, self.feed.rate_per_s, self.session_ids) == (seed, rate_per_s, ids)

    def _follow(self) -> None:
        """Sessions opened since the last update join in, their own ticker off."""
        assert self.feed is not None
        for session in self.followers():
            if session.class_rate_per_s != self.feed.rate_per_s:
                session.follow(self.feed.rate_per_s)

    def stop(self) -> int:
        """Every following session back on its own feed; how many were following."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        returned = 0
        for session in self.sessions():
            if session.following:
                session.unfollow()
                returned += 1
        self.feed = None
        return returned

    async def _tick(self) -> None:
        assert self.feed is not None
        feed = self.feed
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            # Absolute deadlines, as a session's own ticker keeps them (DemoSession._tick).
            next_at += feed.next_interval_s()
            if (delay := next_at - loop.time()) > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                next_at = loop.time()
            self._follow()
            update = feed.make_update()
            for session in self.followers():
                session.relay(update)
