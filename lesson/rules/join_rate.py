"""How fast one address may join a class: a sliding minute per address, in bounded memory. Pure: the caller
gives the time.

A script with a fresh cookie jar per join took 200 places in 43 s from one address. A class behind one NAT joins
from one address too, so the limit is a rate a room of students reaches only when all of them press Join in the
same minute; the flags raise it (README: a class behind one NAT).
"""

from __future__ import annotations

from collections import OrderedDict, deque

#: Addresses remembered at most: beyond, the one heard from longest ago is forgotten (bounded memory).
MAX_ADDRESSES = 10_000
WINDOW_S = 60.0


class JoinRate:
    """Joins per address in the last :data:`WINDOW_S` seconds, at most ``per_minute`` (0: no limit)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._times: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, address: str, now: float) -> bool:
        """Whether one more join from ``address`` fits now; a join that fits is counted."""
        if not self.per_minute:
            return True
        times = self._times.pop(address, None) or deque()
        while times and now - times[0] >= WINDOW_S:
            times.popleft()
        allowed = len(times) < self.per_minute
        if allowed:
            times.append(now)
        self._times[address] = times  # most recently heard last
        while len(self._times) > MAX_ADDRESSES:
            self._times.popitem(last=False)
        return allowed
