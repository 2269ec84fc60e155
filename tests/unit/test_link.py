"""The link model: propagation, serialisation, loss with head-of-line blocking, set-up round trips; exact times."""

import ast
import random
from pathlib import Path

import pytest

from demos.protocol.link import (
    MSS_BYTES,
    PROFILE_IDS,
    PROFILES,
    SYN_RTO_MS,
    Link,
    LinkProfile,
    custom_profile,
    profile_named,
    transmission_ms,
    wire_bytes,
)


class Scripted:
    """A random source that gives the draws a test lists, and fails on one more."""

    def __init__(self, *draws: float) -> None:
        self.draws = list(draws)

    def random(self) -> float:
        assert self.draws, 'the model drew more often than the test expected'
        return self.draws.pop(0)

    def used_up(self) -> bool:
        return not self.draws


NO_DRAWS = Scripted()
LOST, KEPT = 0.0, 0.99  # a draw under the loss rate loses the segment


def test_the_profiles_carry_the_published_figures() -> None:
    assert PROFILE_IDS == ('same-room', 'home-broadband', '4g', '3g', 'satellite', 'lossy-wifi', 'custom')
    fast_3g = profile_named('3g')
    # Chrome DevTools' Fast 3G: latency 150 ms x 3.75, download 1.6 Mbit/s x 0.9, upload 750 kbit/s x 0.9.
    assert (fast_3g.rtt_ms, fast_3g.down_bits_per_s, fast_3g.up_bits_per_s) == (562.5, 1_440_000, 675_000)
    four_g = profile_named('4g')
    assert (four_g.rtt_ms, four_g.down_bits_per_s, four_g.up_bits_per_s, four_g.loss) == (60, 10e6, 5e6, 0.001)
    assert profile_named('satellite').rtt_ms == 600 and profile_named('lossy-wifi').loss == 0.02
    assert profile_named('home-broadband').rtt_ms == 30
    assert not profile_named('same-room').shaped and all(p.shaped for p in PROFILES[1:])
    with pytest.raises(ValueError, match='custom'):
        profile_named('custom')


def test_a_custom_profile_takes_a_persons_units_and_refuses_what_no_link_does() -> None:
    mine = custom_profile(rtt_ms=200, jitter_ms=20, down_kbit_s=2000, up_kbit_s=500, loss_percent=1.5)
    assert (mine.id, mine.down_bits_per_s, mine.up_bits_per_s, mine.loss) == ('custom', 2e6, 5e5, 0.015)
    assert mine.rto_ms == 200 + 200  # 4 x 20 ms of jitter is under Linux's 200 ms floor
    assert custom_profile(rtt_ms=400, jitter_ms=100).rto_ms == 400 + 400
    for bad in (
        {'rtt_ms': -1},
        {'rtt_ms': 1600},
        {'rtt_ms': 100, 'jitter_ms': 51},  # a delay would go negative
        {'rtt_ms': 100, 'down_kbit_s': 1},
        {'rtt_ms': 100, 'loss_percent': 25},
    ):
        with pytest.raises(ValueError):
            custom_profile(**bad)  # type: ignore[arg-type]


def test_a_new_connection_pays_one_round_trip_before_its_request_is_read_and_one_more_for_tls() -> None:
    link = Link(LinkProfile('t', rtt_ms=100), NO_DRAWS)
    plain = link.connect(1000)
    assert plain.ready_at == 1100
    # The browser wrote its request at once; it leaves when the SYN-ACK is in and takes half a round trip.
    assert plain.upstream(1000, 500) == 1150
    assert plain.downstream(1150, 300) == 1200  # the answer: half a round trip back
    assert link.connect(1000, tls=True).upstream(1000, 500) == 1250
    # Data sent after the handshakes only pays its own half round trip.
    assert plain.upstream(2000, 10) == 2050


def test_each_direction_is_serialised_at_its_bandwidth_with_tcp_ip_headers() -> None:
    link = Link(LinkProfile('t', rtt_ms=40, down_bits_per_s=1e6, up_bits_per_s=0.5e6), NO_DRAWS)
    connection = link.connect(0)
    assert wire_bytes(MSS_BYTES) == 1500 and wire_bytes(0) == 40 and wire_bytes(3000) == 3000 + 3 * 40
    # One full segment: 1,500 bytes at 1 Mbit/s is 12 ms on the wire, then 20 ms of propagation.
    assert connection.downstream(100, MSS_BYTES) == pytest.approx(100 + 12 + 20)
    # A second write offered at the same moment queues behind the first.
    assert connection.downstream(100, MSS_BYTES) == pytest.approx(100 + 24 + 20)
    # Upstream at 0.5 Mbit/s from the ready time (40 ms): 3,120 bytes on the wire in three segments = 49.92 ms.
    assert connection.upstream(0, 3000) == pytest.approx(40 + 49.92 + 20)
    assert transmission_ms(3000, 0.5e6) == pytest.approx(49.92) and transmission_ms(3000, None) == 0


def test_the_connections_of_one_learner_share_the_links_bandwidth() -> None:
    link = Link(LinkProfile('t', rtt_ms=0.0, down_bits_per_s=1e6), NO_DRAWS)
    first, second = link.connect(0), link.connect(0)
    assert first.downstream(0, MSS_BYTES) == pytest.approx(12)
    assert second.downstream(0, MSS_BYTES) == pytest.approx(24)
    assert Link(link.profile, NO_DRAWS).connect(0).downstream(0, MSS_BYTES) == pytest.approx(12)  # another learner


def test_a_request_waiting_for_its_handshake_does_not_hold_up_the_learners_other_connections() -> None:
    link = Link(LinkProfile('t', rtt_ms=100, up_bits_per_s=1e6), NO_DRAWS)
    polling, pushing = link.connect(0), link.connect(-1000)
    assert polling.upstream(0, MSS_BYTES) == pytest.approx(100 + 12 + 50)  # leaves after the SYN-ACK, 12 ms to send
    assert pushing.upstream(10, MSS_BYTES) == pytest.approx(10 + 12 + 50)  # sent meanwhile on an open connection


def test_jitter_moves_each_segment_but_never_lets_one_overtake_another() -> None:
    # A draw u gives half the round trip + jitter x (2u - 1): 0.75 -> +5 ms, 0.0 -> -10 ms.
    draws = Scripted(0.5, 0.5, 0.75, 0.0, 0.5)  # SYN, SYN-ACK, then one per segment
    connection = Link(LinkProfile('t', rtt_ms=100, jitter_ms=10), draws).connect(0)
    assert connection.ready_at == 100
    assert connection.downstream(200, 10) == 255
    assert connection.downstream(201, 10) == 255  # 201 + 40 would arrive first: it waits for the one before
    assert connection.downstream(300, 10) == 350
    assert draws.used_up()


def test_a_lost_segment_is_resent_after_the_timeout_and_holds_back_every_byte_behind_it() -> None:
    profile = LinkProfile('t', rtt_ms=100, loss=0.1)
    assert profile.rto_ms == 300  # RTT + Linux's 200 ms floor
    draws = Scripted(KEPT, KEPT, LOST, KEPT, KEPT, KEPT)  # SYN, SYN-ACK; segment 1 lost once; segments 2 and 3
    connection = Link(profile, draws).connect(0)
    assert connection.downstream(1000, 10) == 1000 + 300 + 50
    # Sent 10 ms later and not lost, it is in the receiver's buffer at 1060, but TCP hands it over in order.
    assert connection.downstream(1010, 10) == 1350
    assert connection.downstream(2000, 10) == 2050  # once the gap is filled, nothing lingers
    assert draws.used_up()


def test_a_segment_lost_again_waits_twice_as_long_and_other_connections_are_not_held_back() -> None:
    profile = LinkProfile('t', rtt_ms=100, loss=0.1)
    draws = Scripted(KEPT, KEPT, KEPT, KEPT, LOST, LOST, KEPT, KEPT)
    link = Link(profile, draws)
    first, second = link.connect(0), link.connect(0)
    assert first.downstream(1000, 10) == 1000 + 300 + 600 + 50  # timeouts of 300 then 600 ms
    assert second.downstream(1010, 10) == 1060  # its own connection: no head-of-line blocking across connections
    assert draws.used_up()


def test_a_lost_syn_costs_the_initial_one_second_timeout() -> None:
    profile = LinkProfile('t', rtt_ms=100, loss=0.1)
    assert Link(profile, Scripted(LOST, KEPT, KEPT)).connect(0).ready_at == SYN_RTO_MS + 100
    assert Link(profile, Scripted(KEPT, LOST, KEPT, KEPT)).connect(0).ready_at == SYN_RTO_MS + 100  # the SYN-ACK
    assert Link(profile, Scripted(LOST, LOST, KEPT, KEPT)).connect(0).ready_at == 3 * SYN_RTO_MS + 100


def test_a_fin_is_a_segment_in_order_behind_the_data() -> None:
    draws = Scripted(KEPT, KEPT, LOST, KEPT, KEPT)
    connection = Link(LinkProfile('t', rtt_ms=100, loss=0.1, down_bits_per_s=1e6), draws).connect(0)
    assert connection.downstream(1000, 85) == pytest.approx(1000 + 1 + 300 + 50)  # 125 bytes = 1 ms, lost once
    assert connection.downstream(1001, 0) == pytest.approx(1351)  # the FIN (40 bytes) waits behind it
    assert draws.used_up()


def test_a_seed_replays_a_run() -> None:
    def run(seed: int) -> list[float]:
        link = Link(custom_profile(rtt_ms=80, jitter_ms=20, down_kbit_s=1000, loss_percent=5), random.Random(seed))
        connection = link.connect(0)
        return [connection.downstream(t * 7.0, 200 + t) for t in range(200)]

    assert run(3) == run(3)
    assert run(3) != run(4)
    arrivals = run(3)
    assert arrivals == sorted(arrivals)


def imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or '')
    return names


def test_the_model_is_pure() -> None:
    allowed = {'__future__', 'math', 'dataclasses', 'typing', 'demos.protocol.link', 'demos.protocol.lanes'}
    for module in ('link.py', 'lane_forecast.py'):
        imported = imported_modules((Path(__file__).parents[2] / 'demos' / 'protocol' / module).read_text())
        assert imported <= allowed, f'{module} imports {imported - allowed}'
