"""Statistics over what the demos measured: delivery delays, bytes per update, percentiles, clock offset.

Pure functions over plain numbers. The benchmark (:mod:`demos.bench`) calls them with what its headless clients
saw. The demo page computes its own figures in the learner's browser (``demos/static/figures.js``), by these
definitions: ``tests/unit/test_metrics.py`` runs that script in node on the same samples and checks it against
:func:`summarize` and :func:`estimate_clock_offset`, so a figure means the same on the page and in a benchmark table.
Times are epoch milliseconds; the server's clock stamps ``made_at``, the client's clock stamps ``received_at``, and
:func:`estimate_clock_offset` says how far apart the two clocks are.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PERCENTILES = 100  # q is a whole percentile: the cut points of the sample into 100 equal-probability parts


def _cut_points(values: Sequence[float]) -> list[float]:
    """The 99 inner percentiles (1st to 99th) of at least two values, by linear interpolation (type 7)."""
    # 'inclusive' treats the data as the population's own minimum and maximum: Hyndman & Fan type 7.
    return statistics.quantiles(values, n=PERCENTILES, method='inclusive')


def _whole_percent(q: float) -> int:
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0 <= q <= PERCENTILES or q != int(q):
        raise ValueError(f'q must be a whole number from 0 to 100, not {q!r}')
    return int(q)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (``q`` a whole number from 0 to 100) of ``values``, by linear interpolation
    between closest ranks.

    This is the common definition (Hyndman & Fan type 7; NumPy's and Excel's ``PERCENTILE.INC``
    default, the standard library's ``statistics.quantiles(method='inclusive')``): sort the values, take the
    fractional rank ``(n - 1) * q / 100`` and interpolate between the two values around it.
    ``percentile(v, 50)`` is the median; ``0`` and ``100`` are min and max; one value is every percentile.

    Raises:
        ValueError: if ``values`` is empty or ``q`` is not a whole number in [0, 100].
    """
    if not values:
        raise ValueError('percentile of no values')
    whole = _whole_percent(q)
    if whole in (0, PERCENTILES) or len(values) == 1:  # quantiles() has no 0th/100th cut and needs two values
        return float(min(values) if whole == 0 else max(values))
    return _cut_points(values)[whole - 1]


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean (exactly rounded, as :func:`math.fsum`). Raises :exc:`ValueError` if ``values`` is empty."""
    if not values:
        raise ValueError('mean of no values')
    return statistics.fmean(values)


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
        return {
            'count': self.count,
            'mean': self.mean,
            'p50': self.p50,
            'p95': self.p95,
            'p99': self.p99,
            'min': self.min,
            'max': self.max,
        }


def summarize(values: Sequence[float]) -> Summary | None:
    """Count, mean, p50/p95/p99 (see :func:`percentile`), min and max; :obj:`None` for no values."""
    if not values:
        return None
    if len(values) == 1:
        only = float(values[0])
        return Summary(count=1, mean=only, p50=only, p95=only, p99=only, min=only, max=only)
    cuts = _cut_points(values)  # one sort for the three percentiles
    return Summary(
        count=len(values),
        mean=mean(values),
        p50=cuts[50 - 1],
        p95=cuts[95 - 1],
        p99=cuts[99 - 1],
        min=min(values),
        max=max(values),
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

    This is the shape the benchmark's clients record samples in; ``seq`` is ignored here.
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
