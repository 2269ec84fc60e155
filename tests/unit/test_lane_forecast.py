"""The model's delivery delay per lane, from how the lanes behave on a link: exact figures."""

import math

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
