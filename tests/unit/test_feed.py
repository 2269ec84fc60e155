import pytest

from demos.protocol.feed import MAX_RATE_PER_S, PriceFeed


def fake_clock(start: float = 1_000.0, step: float = 100.0):
    now = [start - step]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


def test_updates_are_numbered_from_one_and_stamped_by_the_clock() -> None:
    feed = PriceFeed(seed=1, clock=fake_clock())
    updates = [feed.make_update() for _ in range(3)]
    assert [u.seq for u in updates] == [1, 2, 3]
    assert [u.made_at for u in updates] == [1_000.0, 1_100.0, 1_200.0]
    assert feed.latest_seq == 3
    assert updates[0].as_message() == {'type': 'update', 'seq': 1, 'price': updates[0].price, 'made_at': 1_000.0}


def test_the_same_seed_walks_the_same_prices_also_after_reset() -> None:
    first = PriceFeed(seed=42, clock=fake_clock())
    prices = [first.make_update().price for _ in range(50)]
    assert [PriceFeed(seed=42, clock=fake_clock()).make_update().price for _ in range(1)] == prices[:1]
    first.reset()
    assert first.latest_seq == 0
    assert [first.make_update().price for _ in range(50)] == prices
    assert prices != [PriceFeed(seed=43).make_update().price for _ in range(50)]
    assert all(p > 0 and round(p, 2) == p for p in prices)


def test_updates_after_answers_a_cursor_with_a_bounded_batch() -> None:
    feed = PriceFeed(seed=1, clock=fake_clock())
    for _ in range(10):
        feed.make_update()
    assert [u.seq for u in feed.updates_after(0, 100)] == list(range(1, 11))
    assert [u.seq for u in feed.updates_after(7, 100)] == [8, 9, 10]
    assert [u.seq for u in feed.updates_after(2, 3)] == [3, 4, 5]
    assert feed.updates_after(10, 100) == []
    assert feed.updates_after(99, 100) == []  # a cursor from before a reset


def test_a_poller_behind_the_history_sees_the_gap() -> None:
    feed = PriceFeed(seed=1, history_limit=5, clock=fake_clock())
    for _ in range(12):
        feed.make_update()
    assert [u.seq for u in feed.updates_after(0, 100)] == [8, 9, 10, 11, 12]
    assert [u.seq for u in feed.updates_after(9, 100)] == [10, 11, 12]


def test_bad_cursors_and_limits_are_refused() -> None:
    feed = PriceFeed(seed=1)
    with pytest.raises(ValueError):
        feed.updates_after(-1, 10)
    with pytest.raises(ValueError):
        feed.updates_after(0, 0)
    assert feed.updates_after(0, 10) == []


def test_rate_is_checked_and_gives_the_interval() -> None:
    feed = PriceFeed(seed=1, rate_per_s=4)
    assert feed.interval_s == 0.25
    feed.rate_per_s = 10
    assert feed.rate_per_s == 10.0
    for bad in (0, -1, MAX_RATE_PER_S + 1):
        with pytest.raises(ValueError):
            feed.rate_per_s = bad
    with pytest.raises(ValueError):
        PriceFeed(history_limit=0)


def test_update_timing_is_random_with_the_rate_as_mean() -> None:
    feed = PriceFeed(seed=7, rate_per_s=10.0)
    intervals = [feed.next_interval_s() for _ in range(20_000)]
    assert abs(sum(intervals) / len(intervals) - 0.1) < 0.005
    assert min(intervals) < 0.01 < 0.3 < max(intervals)  # irregular, not a metronome
    feed.reset()
    assert [feed.next_interval_s() for _ in range(3)] == intervals[:3]


def test_timing_draws_do_not_change_the_prices() -> None:
    quiet, busy = PriceFeed(seed=3), PriceFeed(seed=3)
    for _ in range(5):
        busy.next_interval_s()
    assert [quiet.make_update().price for _ in range(5)] == [busy.make_update().price for _ in range(5)]
