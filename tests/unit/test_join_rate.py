"""Joins per address and minute (issue 18, finding 1)."""

from __future__ import annotations

from lesson.rules import join_rate
from lesson.rules.join_rate import JoinRate


def test_an_address_gets_its_joins_per_minute_and_more_once_the_minute_has_passed() -> None:
    rate = JoinRate(per_minute=3)
    assert [rate.allow('10.0.0.2', t) for t in (0.0, 1.0, 2.0, 3.0)] == [True, True, True, False]
    assert rate.allow('10.0.0.3', 3.0)  # another machine
    assert not rate.allow('10.0.0.2', 59.9)
    assert rate.allow('10.0.0.2', 60.0)


def test_no_limit_and_bounded_memory() -> None:
    assert all(JoinRate(per_minute=0).allow('10.0.0.2', 0.0) for _ in range(1000))
    rate = JoinRate(per_minute=1)
    for n in range(join_rate.MAX_ADDRESSES + 50):
        rate.allow(f'addr-{n}', 0.0)
    assert len(rate._times) == join_rate.MAX_ADDRESSES
