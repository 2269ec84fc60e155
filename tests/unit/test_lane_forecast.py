"""The model's delivery delay per lane, from how the lanes behave on a link: exact figures."""

import math
import random
import statistics

import pytest

from demos.protocol.lane_forecast import LaneForecast, MessageSizes, forecast
from demos.protocol.link import UNSHAPED, LinkProfile, custom_profile, profile_named

# Round sizes so that the figures below can be checked by hand.
SIZES = MessageSizes(poll_request=460, answer_head=200, update_in_answer=100, sse_event=160, push_frame=85)


def by_lane(forecasts: tuple[LaneForecast, ...]) -> dict[str, LaneForecast]:
    return {f.lane: f for f in forecasts}


def test_on_loopback_polling_waits_half_an_interval_and_the_others_nothing() -> None:
    lanes = by_lane(forecast(UNSHAPED, poll_interval_ms=500, rate_per_s=5, sizes=SIZES))
    assert list(lanes) == ['poll', 'longpoll', 'sse', 'push']
    assert lanes['poll'].median_ms == 250 and lanes['poll'].cycle_ms == 500 and not lanes['poll'].link_bound
    assert [lanes[lane].median_ms for lane in ('longpoll', 'sse', 'push')] == [0, 0, 0]
    assert all(f.stalled_share == 0 for f in lanes.values())


def test_a_round_trip_alone_shows_each_lanes_price() -> None:
    lanes = by_lane(forecast(LinkProfile('t', rtt_ms=100), poll_interval_ms=500, rate_per_s=5, sizes=SIZES))
    # Polling: a look at the feed every 500 ms (a question's 200 ms fit in), then half a round trip back.
    assert lanes['poll'].median_ms == 250 + 50
    assert lanes['poll'].round_trip_ms == 200 and lanes['poll'].setup_ms == 100
    # Long polling: blind for 200 ms after each answer. Updates at random moments, 5 a second: an update falls in
    # a window with nobody to tell 200 / (200 + e^-1 x 200) = 73 % of the time, and then waits up to 200 ms.
    blind = 1 / (1 + math.exp(-1))
    assert lanes['longpoll'].cycle_ms == 200 and lanes['longpoll'].link_bound
    assert lanes['longpoll'].median_ms == pytest.approx(200 * (blind - 0.5) / blind + 50)
    assert lanes['sse'].median_ms == lanes['push'].median_ms == 50
    # One update every 2 s: most find a question waiting (blind 200 / (200 + e^-0.1 x 2000) = 10 %).
    rare = by_lane(forecast(LinkProfile('t', rtt_ms=100), poll_interval_ms=500, rate_per_s=0.5, sizes=SIZES))
    assert not rare['longpoll'].link_bound and rare['longpoll'].median_ms == 50


def test_under_3g_each_poll_costs_more_than_a_second_and_push_pays_half_a_round_trip() -> None:
    lanes = by_lane(forecast(profile_named('3g'), poll_interval_ms=500, rate_per_s=5, sizes=SIZES))
    up_ms = (460 + 40) * 8 / 675  # the request at 675 kbit/s, TCP/IP headers included
    # The answer carries the updates of one cycle: 5.68 of them, so 200 + 568 bytes (two rounds of settling).
    answer_ms = (768 + 40) * 8 / 1440
    question = 562.5 + 562.5 + up_ms + answer_ms
    poll = lanes['poll']
    assert poll.round_trip_ms == pytest.approx(question) and poll.link_bound
    assert poll.cycle_ms == pytest.approx(question) and 1130 < question < 1140
    assert poll.median_ms == pytest.approx(question / 2 + 281.25 + answer_ms)
    # Updates 200 ms apart on average, a question every 1.1 s: polling flat out (blind 99.6 %).
    window = lanes['longpoll'].cycle_ms
    assert window is not None and lanes['longpoll'].link_bound
    blind = window / (window + math.exp(-window / 200) * 200)
    assert lanes['longpoll'].median_ms == pytest.approx(window * (blind - 0.5) / blind + 281.25 + answer_ms, abs=0.1)
    assert lanes['longpoll'].median_ms == pytest.approx(question / 2 + 281.25 + answer_ms, abs=3)
    assert lanes['push'].median_ms == pytest.approx(281.25 + (85 + 40) * 8 / 1440)
    assert lanes['sse'].median_ms == pytest.approx(281.25 + (160 + 40) * 8 / 1440)


def test_satellite_and_tls_add_their_round_trips_to_every_new_connection() -> None:
    plain = by_lane(forecast(profile_named('satellite'), poll_interval_ms=500, rate_per_s=5, sizes=SIZES))
    secure = by_lane(forecast(profile_named('satellite'), poll_interval_ms=500, rate_per_s=5, sizes=SIZES, tls=True))
    assert secure['poll'].setup_ms == 1200 and plain['poll'].setup_ms == 600
    plain_question, secure_question = plain['poll'].round_trip_ms, secure['poll'].round_trip_ms
    assert plain_question is not None and secure_question is not None
    # One more round trip, and three more updates in each answer (0.24 ms at 10 Mbit/s).
    assert secure_question == pytest.approx(plain_question + 600 + 300 * 8 / 10_000)
    assert secure['push'].median_ms == plain['push'].median_ms == pytest.approx(300 + 125 * 8 / 10_000)
    assert plain['push'].median_ms > 250


def test_loss_leaves_the_medians_and_holds_back_a_share_of_updates() -> None:
    lossy = profile_named('lossy-wifi')
    lanes = by_lane(forecast(lossy, poll_interval_ms=500, rate_per_s=10, sizes=SIZES))
    assert lanes['push'].median_ms == 10
    # An update waits when its own segment or one of the 2.2 sent in the 220 ms before it is lost.
    assert lanes['push'].stalled_share == pytest.approx(1 - 0.98**3.2)
    assert lanes['push'].stall_ms == 220
    assert lanes['poll'].stalled_share == pytest.approx(1 - 0.98**4)  # SYN, SYN-ACK, request, answer
    assert lanes['poll'].stall_ms == pytest.approx((2 * 1000 + 2 * 220) / 4)


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        forecast(custom_profile(rtt_ms=10), poll_interval_ms=500, rate_per_s=0)


def test_each_lane_has_one_shape_and_the_p95_is_read_off_it() -> None:
    lanes = by_lane(forecast(LinkProfile('t', rtt_ms=100), poll_interval_ms=500, rate_per_s=5, sizes=SIZES))
    poll, longpoll, push = lanes['poll'], lanes['longpoll'], lanes['push']
    # Polling: every update waits, evenly up to a cycle.
    assert (poll.base_ms, poll.spread_ms, poll.waiting_share) == (50, 500, 1)
    assert poll.p95_ms == 50 + 0.95 * 500 and poll.quantile_ms(0.1) == 50 + 50
    # Long polling: 73 % blind (see above), waiting up to the 200 ms window; the rest arrive after 50 ms.
    blind = 1 / (1 + math.exp(-1))
    assert longpoll.waiting_share == pytest.approx(blind) and longpoll.spread_ms == 200
    assert longpoll.quantile_ms(0.2) == 50
    assert longpoll.p95_ms == pytest.approx(50 + 200 * (0.95 - (1 - blind)) / blind)
    # The streams: every update after half a round trip.
    assert push.p95_ms == push.median_ms == push.quantile_ms(0.01) == 50
    with pytest.raises(ValueError):
        push.quantile_ms(1)


def test_loss_moves_a_share_of_the_shape_by_a_retransmission_timeout() -> None:
    lanes = by_lane(forecast(profile_named('lossy-wifi'), poll_interval_ms=500, rate_per_s=10, sizes=SIZES))
    poll, push = lanes['poll'], lanes['push']
    stalled = 1 - 0.98**4
    # A stalled question (610 ms) comes after the slowest unstalled one (500 ms): the median is the unstalled
    # shape's at 0.5 / (1 - stalled), the p95 inside the stalled part.
    assert poll.median_ms == pytest.approx(poll.base_ms + 500 * 0.5 / (1 - stalled))
    assert poll.p95_ms == pytest.approx(poll.base_ms + 610 + 500 * (0.95 - (1 - stalled)) / stalled)
    # 6 % of pushed updates stall for 220 ms: the p95 is the stall's.
    assert push.stalled_share > 0.05 and push.p95_ms == pytest.approx(10 + 220)
    assert push.median_ms == 10


def simulated_long_poll_medians(
    rate_per_s: float, window_ms: float, base_ms: float, run_s: float, runs: int, seed: int
) -> list[tuple[float, int]]:
    """Runs of the long-polling lane as it behaves (no formula): each run's median delay and its update count.

    Updates at random moments; a question held by the server is answered by the first update; the next question is
    held ``window_ms`` after an answer, and answers at once with everything made in between.
    """
    rng = random.Random(seed)
    results = []
    for _ in range(runs):
        made, now = [], 0.0
        while (now := now + rng.expovariate(rate_per_s / 1000)) < run_s * 1000:
            made.append(now)
        delays, held_from, i = [], 0.0, 0
        while i < len(made):
            answered = max(made[i], held_from)
            while i < len(made) and made[i] <= answered:
                delays.append(base_ms + answered - made[i])
                i += 1
            held_from = answered + window_ms
        results.append((statistics.median(delays), len(delays)))
    return results


def test_a_30_s_long_poll_run_on_4g_lands_in_the_median_range_the_model_gives() -> None:
    lanes = by_lane(forecast(profile_named('4g'), poll_interval_ms=500, rate_per_s=5))
    longpoll = lanes['longpoll']
    # On 4G, 5 updates/s, about half the updates are blind: the edge where a run's median is most at chance's mercy.
    assert 0.5 < longpoll.waiting_share < 0.55
    window = longpoll.spread_ms
    runs = simulated_long_poll_medians(5, window, longpoll.base_ms, run_s=27, runs=400, seed=21)
    inside = [low <= median <= high for median, count in runs for low, high in [longpoll.median_range_ms(count)]]
    assert 0.9 <= sum(inside) / len(runs) <= 0.99
    # The range is wide: a 30 s run's median may be anywhere from no wait to a fifth of a window.
    low, high = longpoll.median_range_ms(135)
    assert low == longpoll.base_ms and high - low > window / 5
    # The model's median is the median of long runs.
    long_runs = simulated_long_poll_medians(5, window, longpoll.base_ms, run_s=2000, runs=5, seed=22)
    assert statistics.median(m for m, _ in long_runs) == pytest.approx(longpoll.median_ms, abs=1.5)


def test_a_streams_median_range_is_its_median() -> None:
    push = by_lane(forecast(profile_named('satellite'), poll_interval_ms=500, rate_per_s=5))['push']
    assert push.median_range_ms(135) == (push.median_ms, push.median_ms)
    with pytest.raises(ValueError):
        push.median_range_ms(0)
