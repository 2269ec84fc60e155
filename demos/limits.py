"""The echo server's guards against misbehaving clients, as pure logic.

The limits themselves (sizes, rates, caps) are named settings of :class:`demos.echo_server.EchoSettings`;
this module holds the logic that applies them, free of I/O so it tests in microseconds. The ``Origin`` check
lives in :mod:`demos.origins`.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class MessageRateLimiter:
    """A token bucket: on average ``rate_per_s`` messages a second, with bursts of up to ``burst``.

    A browser tab that sends in a tight loop would otherwise keep one server core busy echoing for it
    alone; a bucket lets a human (or a short burst of clock exchanges) through untouched.

    Args:
        rate_per_s: Sustained messages per second allowed.
        burst: Messages allowed at once after a quiet spell (the bucket's size).
        clock: Monotonic seconds; inject a fake one in tests.
    """

    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError(f'rate_per_s must be positive and burst at least 1, not {rate_per_s} and {burst}')
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.clock = clock
        self._tokens = float(burst)
        self._refilled_at = clock()

    def allow(self) -> bool:
        """Take a token for one message; :obj:`False` when the bucket is empty (the message is over the limit)."""
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * self.rate_per_s)
        self._refilled_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
