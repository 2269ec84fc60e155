"""The echo server's guards against misbehaving clients, as pure logic.

The limits themselves (sizes, rates, caps) are named settings of :class:`demos.server.echo_server.EchoSettings`;
this module holds the logic that applies them, free of I/O so it tests in microseconds. The ``Origin`` check
lives in :mod:`demos.protocol.origins`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

#: The largest part of ``max_connections`` and ``max_sessions`` one client address may hold, whatever its own cap
#: says: the rest stays for other addresses (the teacher's machine, a second network), so lowering a global cap never
#: lets one address take all of it.
ADDRESS_SHARE_PERCENT = 80


def address_cap(per_address: int, total: int) -> int | None:
    """What one address may hold of ``total``: ``per_address``, at most :data:`ADDRESS_SHARE_PERCENT` of ``total``
    (rounded up, so a tiny cap still lets one address use it); None when ``per_address`` is 0 (no per-address cap)."""
    if per_address == 0:
        return None
    return min(per_address, max(1, (total * ADDRESS_SHARE_PERCENT + 99) // 100))


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


#: Client addresses each per-address table remembers at most: an attacker with many addresses (IPv6) must not
#: make the tables themselves the memory leak. The oldest entry goes first.
MAX_TRACKED_ADDRESSES = 10_000


class AddressRateLimiter:
    """A token bucket per client address: ``per_minute`` at once, refilled at ``per_minute`` a minute.

    Used for things a legitimate page does once per load (create a demo session), so a human never meets it
    while a script doing it in a loop is refused from the ``per_minute + 1``-th time in a minute.

    Args:
        per_minute: Allowed per address and minute; 0 means no limit.
        clock: Monotonic seconds; inject a fake one in tests.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 0:
            raise ValueError(f'per_minute must be 0 (no limit) or more, not {per_minute}')
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: OrderedDict[str, MessageRateLimiter] = OrderedDict()

    def allow(self, address: str) -> bool:
        """Take one for ``address``; :obj:`False` when it is over its allowance."""
        if self.per_minute == 0:
            return True
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = MessageRateLimiter(self.per_minute / 60.0, self.per_minute, self.clock)
            self._buckets[address] = bucket
            if len(self._buckets) > MAX_TRACKED_ADDRESSES:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(address)
        return bucket.allow()


class PendingHandshakes:
    """Connections per client address that are accepted but have not sent a complete request yet.

    The connection cap counts a connection only once its request arrived, so without this, idle sockets
    (a slowloris) from one address could hold every slot while their requests never came. The per-address limit
    applies only once the server holds ``pressure_from`` connections: a burst of legitimate connects from one
    address (a class behind one NAT, a benchmark) has hundreds accepted before the first request is read, and
    harms nobody while the server has room.

    Args:
        per_address: Pending connections one address may hold under pressure; a further one is refused at once.
        pressure_from: Open connections (pending or not) from which the limit applies.
    """

    def __init__(self, per_address: int, pressure_from: int = 0) -> None:
        if per_address < 1:
            raise ValueError(f'per_address must be at least 1, not {per_address}')
        self.per_address = per_address
        self.pressure_from = pressure_from
        self._pending: dict[str, int] = {}

    def open(self, address: str, open_connections: int) -> bool:
        """Count a new connection from ``address``; :obj:`False` (not counted) when it must be refused.

        ``open_connections`` is what the server holds now, this connection included.
        """
        held = self._pending.get(address, 0)
        if held >= self.per_address and open_connections >= self.pressure_from:
            return False
        self._pending[address] = held + 1
        return True

    def done(self, address: str) -> None:
        """One of ``address``'s pending connections sent its request, or went away."""
        held = self._pending.get(address, 0) - 1
        if held > 0:
            self._pending[address] = held
        else:
            self._pending.pop(address, None)

    def held(self, address: str) -> int:
        return self._pending.get(address, 0)

    @property
    def total(self) -> int:
        return sum(self._pending.values())


class OncePerMinute:
    """Decides which refusals get a log line: the first per address and kind in a minute, then one with a count.

    A flood (2,000 idle sockets, a loop creating sessions) then costs a few log lines a minute, not one per
    request, and no refusal goes unmentioned: the next line says how many were left unsaid.

    Args:
        period_s: The window; one line per window per address and kind.
        clock: Monotonic seconds; inject a fake one in tests.
    """

    def __init__(self, period_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.period_s = period_s
        self.clock = clock
        # (address, kind) -> [start of the window, refusals in it not yet logged]
        self._windows: OrderedDict[tuple[str, str], list[float]] = OrderedDict()

    def note(self, address: str, kind: str) -> int | None:
        """Count one refusal; the number of refusals to report now (this one included), or :obj:`None` (later)."""
        now = self.clock()
        key = (address, kind)
        window = self._windows.get(key)
        if window is None or now - window[0] >= self.period_s:
            unsaid = int(window[1]) if window is not None else 0
            self._windows[key] = [now, 0]
            self._windows.move_to_end(key)
            if len(self._windows) > MAX_TRACKED_ADDRESSES:
                self._windows.popitem(last=False)
            return unsaid + 1
        window[1] += 1
        return None

    def unsaid(self) -> list[tuple[str, str, int]]:
        """The refusals counted but not logged in windows that have ended, as (address, kind, count); forgets them."""
        now = self.clock()
        ended = [(key, window) for key, window in self._windows.items() if now - window[0] >= self.period_s]
        for key, _ in ended:
            del self._windows[key]
        return [(address, kind, int(window[1])) for (address, kind), window in ended if window[1]]
