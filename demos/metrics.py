"""Statistics over what the demos measured: delivery delays, bytes per update, wasted polls, clock offset.

Pure functions over plain numbers. The demo page calls them with the samples the browser sends
(``[seq, made_at, received_at]`` triples and clock exchanges); the benchmark calls them with what its
headless clients saw. Times are epoch milliseconds; the server's clock stamps ``made_at``, the client's
clock stamps ``received_at``, and :func:`estimate_clock_offset` says how far apart the two clocks are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0 ≤ q ≤ 100) of ``values``, by linear interpolation between closest ranks.

    This is the common definition (Hyndman & Fan type 7; NumPy's and Excel's ``PERCENTILE.INC``
    default): sort the values, take the fractional rank ``(n - 1) * q / 100`` and interpolate between
    the two values around it. ``percentile(v, 50)`` is the median; ``0`` and ``100`` are min and max.

    Raises:
        ValueError: if ``values`` is empty or ``q`` is outside [0, 100].
    """
    if not values:
        raise ValueError('percentile of no values')
    if not 0 <= q <= 100:
        raise ValueError(f'q must be between 0 and 100, not {q}')
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    below = math.floor(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean. Raises :exc:`ValueError` if ``values`` is empty."""
    if not values:
        raise ValueError('mean of no values')
    return math.fsum(values) / len(values)


@dataclass(frozen=True, slots=True)
class Summary:
    """The usual figures of a sample: count, mean, median, tail percentiles, extremes."""

    count: int
    mean: float
    p50: float
    p95: float
    p99: float
    min: float
    max: float

    def as_dict(self) -> dict[str, float]:
        return {'count': self.count, 'mean': self.mean, 'p50': self.p50, 'p95': self.p95, 'p99': self.p99,
                'min': self.min, 'max': self.max}


def summarize(values: Sequence[float]) -> Summary | None:
    """Count, mean, p50/p95/p99 (see :func:`percentile`), min and max; :obj:`None` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return Summary(
        count=len(ordered),
        mean=mean(ordered),
        p50=percentile(ordered, 50),
        p95=percentile(ordered, 95),
        p99=percentile(ordered, 99),
        min=ordered[0],
        max=ordered[-1],
    )


def delivery_delay(made_at: float, received_at: float, clock_offset_ms: float = 0.0) -> float:
    """Milliseconds from the server making an update to the client receiving it.

    ``made_at`` is on the server's clock, ``received_at`` on the client's, and ``clock_offset_ms`` is
    how far the server's clock is ahead of the client's (see :func:`estimate_clock_offset`), so the
    receipt on the server's clock is ``received_at + clock_offset_ms``.
    """
    return received_at + clock_offset_ms - made_at


def delivery_delays(samples: Iterable[Sequence[float]], clock_offset_ms: float = 0.0) -> list[float]:
    """:func:`delivery_delay` of each ``(seq, made_at, received_at)`` sample, in the order given.

    This is the shape the browser reports samples in; ``seq`` is ignored here.
    """
    return [delivery_delay(made_at, received_at, clock_offset_ms) for _seq, made_at, received_at in samples]


def bytes_per_update(bytes_on_wire: int, updates: int) -> float | None:
    """Bytes that crossed the sockets for each update delivered; :obj:`None` before the first update.

    Count both directions and everything on the wire (HTTP headers, WebSocket framing), so that a
    poll answering nothing still costs the updates that do arrive.
    """
    if updates <= 0:
        return None
    return bytes_on_wire / updates


def wasted_poll_ratio(empty_polls: int, polls: int) -> float | None:
    """Share of polls that came back with no update (0.0 to 1.0); :obj:`None` before the first poll."""
    if polls <= 0:
        return None
    if not 0 <= empty_polls <= polls:
        raise ValueError(f'empty polls ({empty_polls}) must be between 0 and the number of polls ({polls})')
    return empty_polls / polls


@dataclass(frozen=True, slots=True)
class ClockExchange:
    """One NTP-style exchange: the client sends at ``client_sent`` (its clock), the server answers with
    ``server_time`` (its clock), the client receives the answer at ``client_received`` (its clock)."""

    client_sent: float
    server_time: float
    client_received: float

    @property
    def round_trip_ms(self) -> float:
        return self.client_received - self.client_sent

    @property
    def offset_ms(self) -> float:
        """How far the server's clock is ahead of the client's, assuming both legs took equally long:
        the server read its clock at ``(client_sent + client_received) / 2`` client time."""
        return self.server_time - (self.client_sent + self.client_received) / 2


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    """Best estimate of the clock offset, from the exchange with the shortest round trip.

    The error of one exchange is at most half its round trip (when one leg took all of it), so the
    fastest exchange bounds the error best: ``offset_ms ± round_trip_ms / 2``.
    """

    offset_ms: float
    round_trip_ms: float
    exchanges: int

    @property
    def max_error_ms(self) -> float:
        return self.round_trip_ms / 2


def estimate_clock_offset(exchanges: Iterable[ClockExchange | Sequence[float]]) -> ClockEstimate | None:
    """Estimate how far the server's clock is ahead of the client's; :obj:`None` without exchanges.

    Each exchange is a :class:`ClockExchange` or a ``(client_sent, server_time, client_received)``
    triple. Exchanges with a negative round trip (a clock that jumped) are ignored.
    """
    best: ClockExchange | None = None
    count = 0
    for exchange in exchanges:
        if not isinstance(exchange, ClockExchange):
            exchange = ClockExchange(*exchange)
        if exchange.round_trip_ms < 0:
            continue
        count += 1
        if best is None or exchange.round_trip_ms < best.round_trip_ms:
            best = exchange
    if best is None:
        return None
    return ClockEstimate(offset_ms=best.offset_ms, round_trip_ms=best.round_trip_ms, exchanges=count)
