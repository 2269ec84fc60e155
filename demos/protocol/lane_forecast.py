"""What a link does to each lane of the demo: the delivery delay the model predicts, from how the lanes behave.

The page and ``websocket-lesson bench --link`` put these figures beside the delays they measure. Each one follows
from the link (:mod:`demos.protocol.link`) and from what our lanes really do on the wire:

* **polling** (``/poll``): a new TCP connection per question, one every ``poll_interval_ms`` measured start to
  start (``demos/static/poller.js``), or back to back when a question takes longer than that. A question costs the
  connection's set-up (one round trip, two with TLS), half a round trip to reach the server and half a round trip
  back: the server looks at the feed once per question, so between two looks ``cycle = max(interval, set-up + RTT +
  sending times)`` passes. An update made at a random moment waits half a cycle for the next look, then half a
  round trip: **median = cycle / 2 + RTT / 2 + the answer's sending time**.
* **long polling** (``/longpoll``): the server holds each question until there is news, then the client asks again
  at once, on a new connection. After each answer the server has nobody to tell for ``window = set-up + RTT +
  sending times`` (the answer's half round trip back, the new connection, the question's half round trip out:
  it re-arms one round trip and a half after the client has its answer). The feed's updates come at random moments
  (a Poisson process, ``demos/protocol/feed.py``), so a share ``blind = window / (window + e^(-rate x window) /
  rate)`` of them is made while no question is held (the time after each answer is the window, plus the wait for
  the next update when none came during it); those wait for the next question, uniformly up to a window, the others
  not at all. Under half blind, **median = RTT / 2 + sending time**; else **median = window x (blind - 1/2) / blind +
  RTT / 2 + sending time**: when updates come much faster than it re-arms, half a window, polling flat out.
* **Server-Sent Events** and **WebSocket push**: one connection, set up once; each update leaves the moment it is
  made: **median = RTT / 2 + sending time**.

Each lane's delays follow one shape: a share of the updates arrives after ``base_ms`` (half a round trip and the
sending time), the rest wait on top of that for a time spread evenly up to ``spread_ms`` (polling: all of them, up to
a cycle; long polling: the blind share, up to a window; the streams: none). Loss holds a share of updates back by
about a retransmission timeout (:attr:`LaneForecast.stalled_share`, roughly): it shifts that share of the same shape
by ``stall_ms``. :meth:`LaneForecast.quantile_ms` reads any quantile off that mixture; the median and p95 are two.

A run measures only so many updates, and its median strays from the model's by chance: by very little where the
delays bunch up (the streams), by a lot where the median falls on the edge between "no wait" and "a wait up to a
window" (long polling when about half the updates are blind, as on 4G at 5 updates/s: 30 s runs measure anywhere
from 31 to 56 ms around a model of 36). :meth:`LaneForecast.median_range_ms` says how far, for a run of ``n``
updates: the model's quantiles at 0.5 +- 1.96 x 0.5 / sqrt(n), a median's 95 % interval. (Updates of one long-poll
answer are not independent draws; simulated runs show the interval holds all the same: tests/unit.)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from demos.protocol.lanes import COMPARED_LANES
from demos.protocol.link import SYN_RTO_MS, LinkProfile, transmission_ms


@dataclass(frozen=True, slots=True)
class MessageSizes:
    """Payload bytes of each lane's messages, as the echo server counts them (HTTP heads and framing included).

    The defaults are what the server counted for Chromium on ``/demo``; the page and the bench pass their own
    counters' averages when they have them.
    """

    #: A poll's or long poll's request head (a browser's ``fetch`` sends a dozen headers).
    poll_request: int = 520
    #: A poll answer without its updates: status line, headers and the JSON around the list.
    answer_head: int = 250
    #: One update inside a poll answer.
    update_in_answer: int = 75
    #: One Server-Sent Event (``id:`` and ``data:`` lines).
    sse_event: int = 95
    #: One WebSocket text frame with an update (2 bytes of header and the JSON).
    push_frame: int = 80

    def answer(self, updates: float) -> int:
        return round(self.answer_head + updates * self.update_in_answer)


#: Sizes the page uses until its own counters have seen a message of each kind.
BROWSER_SIZES = MessageSizes()


@dataclass(frozen=True, slots=True)
class LaneForecast:
    """The model's figures for one lane under one profile, polling interval and update rate (milliseconds)."""

    lane: str
    #: Median delivery delay: from the server making an update to the browser having it.
    median_ms: float
    #: What opening a connection costs before its request is read: paid per answer on ``poll`` and ``longpoll``,
    #: once on ``sse`` and ``push``.
    setup_ms: float
    #: One question's full price on ``poll``/``longpoll`` (set-up, a round trip, sending times); None for streams.
    round_trip_ms: float | None
    #: ``poll``: the time between two looks at the feed; ``longpoll``: the window after each answer in which the
    #: server holds no question; None for streams.
    cycle_ms: float | None
    #: ``poll``: the round trip, not the interval, sets the pace; ``longpoll``: most updates are made while no
    #: question is held (it re-arms too slowly for the feed).
    link_bound: bool
    #: Rough share of updates held back by a lost segment, and by about how long.
    stalled_share: float
    stall_ms: float
    #: The delay of an update that finds its way open: half a round trip and its sending time.
    base_ms: float = 0.0
    #: The most an update waits beyond ``base_ms`` for the lane to look (``poll``: a cycle; ``longpoll``: a window).
    spread_ms: float = 0.0
    #: The share of updates that wait, evenly spread over ``spread_ms`` (``poll``: all; ``longpoll``: the blind).
    waiting_share: float = 0.0
    #: The model's 95th percentile (filled in from the shape by :func:`forecast`).
    p95_ms: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def quantile_ms(self, p: float) -> float:
        """The delay below which a share ``p`` of the updates arrive, in this lane's shape (see the module)."""
        if not 0 < p < 1:
            raise ValueError(f'a quantile needs 0 < p < 1, not {p!r}')
        if not self.stalled_share:
            return self._unstalled_quantile_ms(p)
        low, high = self.base_ms, self.base_ms + self.spread_ms + self.stall_ms
        # Two shapes overlap where a stall is shorter than the spread: bisection reads the mixture where a formula
        # would need a case for each way they overlap.
        for _ in range(60):
            middle = (low + high) / 2
            if self._share_by(middle) >= p:
                high = middle
            else:
                low = middle
        return high

    def median_range_ms(self, updates: int) -> tuple[float, float]:
        """Where the median of a run of ``updates`` falls 95 times in 100, if the model is right."""
        if updates < 1:
            raise ValueError(f'a run needs an update, not {updates!r}')
        half_width = 1.96 * 0.5 / math.sqrt(updates)
        return self.quantile_ms(max(1e-9, 0.5 - half_width)), self.quantile_ms(min(1 - 1e-9, 0.5 + half_width))

    def _share_by(self, delay_ms: float) -> float:
        return (1 - self.stalled_share) * self._unstalled_share_by(delay_ms) + self.stalled_share * (
            self._unstalled_share_by(delay_ms - self.stall_ms)
        )

    def _unstalled_quantile_ms(self, p: float) -> float:
        on_time = 1 - self.waiting_share
        if p <= on_time:
            return self.base_ms
        return self.base_ms + self.spread_ms * (p - on_time) / self.waiting_share

    def _unstalled_share_by(self, delay_ms: float) -> float:
        waited = delay_ms - self.base_ms
        if waited < 0:
            return 0.0
        if waited >= self.spread_ms:
            return 1.0
        return 1 - self.waiting_share + self.waiting_share * waited / self.spread_ms


def forecast(
    profile: LinkProfile,
    *,
    poll_interval_ms: float,
    rate_per_s: float,
    sizes: MessageSizes = BROWSER_SIZES,
    tls: bool = False,
) -> tuple[LaneForecast, ...]:
    """The forecast for every compared lane, in the order of :data:`demos.protocol.lanes.COMPARED_LANES`."""
    if poll_interval_ms < 0 or rate_per_s <= 0:
        raise ValueError(f'need an interval >= 0 and a rate > 0, not {poll_interval_ms!r} and {rate_per_s!r}')
    by_lane = {
        'poll': _polling(profile, poll_interval_ms, rate_per_s, sizes, tls),
        'longpoll': _long_polling(profile, rate_per_s, sizes, tls),
        'sse': _stream('sse', profile, sizes.sse_event, rate_per_s, tls),
        'push': _stream('push', profile, sizes.push_frame, rate_per_s, tls),
    }
    return tuple(by_lane[lane.id] for lane in COMPARED_LANES)


def _setup_ms(profile: LinkProfile, tls: bool) -> float:
    return profile.rtt_ms * (2 if tls else 1)


def _question_ms(profile: LinkProfile, sizes: MessageSizes, answer_bytes: int, tls: bool) -> float:
    """From opening a connection to having its answer, when the server answers at once."""
    sending = transmission_ms(sizes.poll_request, profile.up_bits_per_s)
    sending += transmission_ms(answer_bytes, profile.down_bits_per_s)
    return _setup_ms(profile, tls) + profile.rtt_ms + sending


def _per_question_loss(profile: LinkProfile) -> tuple[float, float]:
    """A question's four segments (SYN, SYN-ACK, request, answer): the chance one is lost, and the mean cost."""
    share = 1 - (1 - profile.loss) ** 4
    return share, (2 * SYN_RTO_MS + 2 * profile.rto_ms) / 4


def _settled(
    profile: LinkProfile, sizes: MessageSizes, tls: bool, rate_per_s: float, interval_ms: float
) -> tuple[int, float, float]:
    """A question's answer size, its full price and the cycle it sets, for questions at most ``interval_ms`` apart.

    The answer carries the updates of one cycle and the cycle depends on the answer's sending time: two rounds
    settle it to well under a millisecond.
    """
    answer = sizes.answer(1)
    question = _question_ms(profile, sizes, answer, tls)
    cycle = max(interval_ms, question)
    for _ in range(2):
        answer = sizes.answer(max(1.0, cycle * rate_per_s / 1000))
        question = _question_ms(profile, sizes, answer, tls)
        cycle = max(interval_ms, question)
    return answer, question, cycle


def _with_quantiles(lane: LaneForecast) -> LaneForecast:
    return replace(lane, median_ms=lane.quantile_ms(0.5), p95_ms=lane.quantile_ms(0.95))


def _polling(
    profile: LinkProfile, interval_ms: float, rate_per_s: float, sizes: MessageSizes, tls: bool
) -> LaneForecast:
    answer, question, cycle = _settled(profile, sizes, tls, rate_per_s, interval_ms)
    # every update waits for the next look, evenly up to a cycle
    return _asking('poll', profile, tls, answer, question, cycle, waiting_share=1.0, link_bound=question > interval_ms)


def _long_polling(profile: LinkProfile, rate_per_s: float, sizes: MessageSizes, tls: bool) -> LaneForecast:
    # The next question leaves the moment an answer is in: no interval of its own.
    answer, window, _ = _settled(profile, sizes, tls, rate_per_s, 0.0)
    per_ms = rate_per_s / 1000
    blind = window / (window + math.exp(-per_ms * window) / per_ms) if window else 0.0
    return _asking('longpoll', profile, tls, answer, window, window, waiting_share=blind, link_bound=blind > 0.5)


def _asking(
    lane: str,
    profile: LinkProfile,
    tls: bool,
    answer: int,
    question_ms: float,
    spread_ms: float,
    *,
    waiting_share: float,
    link_bound: bool,
) -> LaneForecast:
    """A lane that asks on a new connection per answer: ``poll`` and ``longpoll``."""
    stalled, stall = _per_question_loss(profile)
    return _with_quantiles(
        LaneForecast(
            lane=lane,
            median_ms=0.0,
            setup_ms=_setup_ms(profile, tls),
            round_trip_ms=question_ms,
            cycle_ms=spread_ms,
            link_bound=link_bound,
            stalled_share=stalled,
            stall_ms=stall,
            base_ms=profile.one_way_ms + transmission_ms(answer, profile.down_bits_per_s),
            spread_ms=spread_ms,
            waiting_share=waiting_share,
        )
    )


def _stream(lane: str, profile: LinkProfile, message_bytes: int, rate_per_s: float, tls: bool) -> LaneForecast:
    # An update is held back when its own segment is lost, or an earlier one still being resent: those sent
    # within one retransmission timeout before it.
    exposed_segments = 1 + rate_per_s * profile.rto_ms / 1000
    return _with_quantiles(
        LaneForecast(
            lane=lane,
            median_ms=0.0,
            setup_ms=_setup_ms(profile, tls),
            round_trip_ms=None,
            cycle_ms=None,
            link_bound=False,
            stalled_share=1 - (1 - profile.loss) ** exposed_segments,
            stall_ms=profile.rto_ms,
            base_ms=profile.one_way_ms + transmission_ms(message_bytes, profile.down_bits_per_s),
        )
    )
