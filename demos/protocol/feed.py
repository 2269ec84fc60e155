"""One event source for every demo: numbered updates of a simulated stock price.

This module is pure: no I/O, no tasks, no reading of the wall clock except through the injectable
``clock``. The echo server drives it (one ``make_update()`` per tick) and hands the updates to the push
subscribers and to the polling endpoint, so both lanes see the very same stream and the comparison is
fair by construction.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Slowest and fastest update rates a feed accepts, in updates per second. Faster than 1,000/s the
#: asyncio ticker cannot keep time anyway; slower than one every 10 s the demo looks broken.
MIN_RATE_PER_S = 0.1
MAX_RATE_PER_S = 1000.0

#: Updates kept for the polling endpoint. A poller that falls further behind than this sees a gap in
#: ``seq`` rather than making the server keep an unbounded history.
DEFAULT_HISTORY_LIMIT = 1000


def epoch_ms() -> float:
    """The server's clock as the protocol speaks it: milliseconds since the Unix epoch, as a float."""
    return time.time() * 1000


@dataclass(frozen=True, slots=True)
class Update:
    """One update of the feed: its number, the price, and when the server made it (epoch ms)."""

    seq: int
    price: float
    made_at: float

    def as_message(self) -> dict[str, Any]:
        """The update as it travels: ``{"type": "update", "seq": N, "price": P, "made_at": MS}``."""
        return {'type': 'update', 'seq': self.seq, 'price': self.price, 'made_at': self.made_at}


class PriceFeed:
    """A seedable random walk of a stock price, numbered from 1, with a bounded history.

    Args:
        seed: Seed of the random walk; the same seed gives the same prices (also after :meth:`reset`).
            :obj:`None` picks a fresh one.
        start_price: Price of the first update's predecessor.
        volatility: Standard deviation of the relative change per update (0.002 = 0.2 %).
        history_limit: How many recent updates :meth:`updates_after` can answer from.
        rate_per_s: Updates per second the driver should make; the feed itself keeps no time.
        clock: Returns the current time in epoch milliseconds; inject a fake one in tests.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        start_price: float = 100.0,
        volatility: float = 0.002,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
        rate_per_s: float = 1.0,
        clock: Callable[[], float] = epoch_ms,
    ) -> None:
        if history_limit < 1:
            raise ValueError(f'history_limit must be at least 1, not {history_limit}')
        if start_price <= 0:
            raise ValueError(f'start_price must be positive, not {start_price}')
        self.seed = random.randrange(2**32) if seed is None else seed
        self.start_price = start_price
        self.volatility = volatility
        self.clock = clock
        self._rate_per_s = check_rate(rate_per_s)
        self._history: deque[Update] = deque(maxlen=history_limit)
        self.reset()

    def reset(self) -> None:
        """Start again from the first update: ``seq`` restarts at 1 and the same seed gives the same prices."""
        self._random = random.Random(self.seed)
        # timing draws from its own stream, so the prices for a seed do not depend on how often we ticked
        self._timing_random = random.Random(self.seed ^ 0x5EED)
        self._price = self.start_price
        self._latest_seq = 0
        self._history.clear()

    @property
    def rate_per_s(self) -> float:
        """Updates per second the driver should make (between MIN_RATE_PER_S and MAX_RATE_PER_S)."""
        return self._rate_per_s

    @rate_per_s.setter
    def rate_per_s(self, rate_per_s: float) -> None:
        self._rate_per_s = check_rate(rate_per_s)

    @property
    def interval_s(self) -> float:
        """Seconds between two updates at the current rate."""
        return 1 / self._rate_per_s

    def next_interval_s(self) -> float:
        """Seconds until the next update: random (a Poisson process) with a mean of :attr:`interval_s`.

        Real events (trades, chat messages) do not arrive on a metronome. A regular feed would also lock in
        phase with a poller of the same period, so every update would wait the same fraction of the polling
        interval; with random arrivals a poller's mean wait is half its interval, as the lesson claims.
        """
        return self._timing_random.expovariate(self._rate_per_s)

    @property
    def latest_seq(self) -> int:
        """Number of the latest update; 0 before the first one."""
        return self._latest_seq

    @property
    def history_limit(self) -> int:
        assert self._history.maxlen is not None
        return self._history.maxlen

    def make_update(self) -> Update:
        """Take one step of the random walk, stamp it with the clock, and remember it."""
        # A geometric walk: the price never reaches zero however long a class leaves the demo running.
        self._price *= math.exp(self._random.gauss(0.0, self.volatility))
        self._latest_seq += 1
        update = Update(seq=self._latest_seq, price=round(self._price, 2), made_at=self.clock())
        self._history.append(update)
        return update

    def relay(self, update: Update) -> Update:
        """Take another feed's ``update`` as this feed's next one: this feed's own number, the same price and time.

        A session following the class feed keeps its own numbering, so a poller's cursor (``after=SEQ``) and the
        page's count of missed updates stay right when the class feed starts and stops; the walk goes on from the
        class's last price, so the chart shows no jump when the session's own feed takes over again.
        """
        self._price = update.price
        self._latest_seq += 1
        relayed = Update(seq=self._latest_seq, price=update.price, made_at=update.made_at)
        self._history.append(relayed)
        return relayed

    def updates_after(self, seq: int, limit: int) -> list[Update]:
        """The updates numbered above ``seq``, oldest first, at most ``limit`` of them.

        A cursor older than the history answers from the oldest update still kept (the client sees the
        gap in ``seq``); a cursor at or beyond the latest update (e.g. from before a :meth:`reset`)
        answers nothing.

        Raises:
            ValueError: if ``seq`` is negative or ``limit`` is below 1.
        """
        if seq < 0:
            raise ValueError(f'the cursor must be 0 or more, not {seq}')
        if limit < 1:
            raise ValueError(f'limit must be at least 1, not {limit}')
        if not self._history or seq >= self._latest_seq:
            return []
        first_kept = self._history[0].seq
        start = max(seq + 1 - first_kept, 0)
        return [self._history[i] for i in range(start, min(start + limit, len(self._history)))]


def check_rate(rate_per_s: float) -> float:
    """Return ``rate_per_s`` as a float if a feed accepts it, else raise :exc:`ValueError`."""
    rate = float(rate_per_s)
    if not MIN_RATE_PER_S <= rate <= MAX_RATE_PER_S:
        raise ValueError(
            f'the update rate must be between {MIN_RATE_PER_S} and {MAX_RATE_PER_S} per second, not {rate_per_s}'
        )
    return rate
