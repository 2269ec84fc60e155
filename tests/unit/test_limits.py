"""The echo server's limits as pure logic, on a fake clock: rates, per-address tables and their bound."""

from __future__ import annotations

import pytest

from demos.protocol.limits import (
    MAX_TRACKED_ADDRESSES,
    AddressRateLimiter,
    MessageRateLimiter,
    OncePerMinute,
    PendingHandshakes,
)


def test_the_rate_limiter_allows_bursts_and_the_sustained_rate() -> None:
    now = [0.0]
    limiter = MessageRateLimiter(rate_per_s=10, burst=3, clock=lambda: now[0])
    assert [limiter.allow() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.1
    assert limiter.allow() and not limiter.allow()
    now[0] += 100
    assert sum(limiter.allow() for _ in range(10)) == 3


def test_the_per_address_limiter_refills_over_a_minute() -> None:
    now = [0.0]
    limiter = AddressRateLimiter(per_minute=2, clock=lambda: now[0])
    assert [limiter.allow('10.0.0.1') for _ in range(3)] == [True, True, False]
    assert limiter.allow('10.0.0.2')  # another address has its own allowance
    now[0] += 30  # half a minute: one back
    assert limiter.allow('10.0.0.1') and not limiter.allow('10.0.0.1')
    assert all(AddressRateLimiter(per_minute=0).allow('x') for _ in range(1000))  # 0: no limit


def test_the_per_address_limiter_forgets_the_least_recently_seen_address_beyond_its_bound() -> None:
    """Many addresses (an IPv6 attacker) must not make the table itself the leak: beyond MAX_TRACKED_ADDRESSES the
    least recently seen address is forgotten (and so starts afresh), the recently seen ones are kept."""
    limiter = AddressRateLimiter(per_minute=1, clock=lambda: 0.0)  # no refill: a spent address stays spent
    assert limiter.allow('oldest') and not limiter.allow('oldest')
    assert limiter.allow('kept') and not limiter.allow('kept')
    for n in range(MAX_TRACKED_ADDRESSES - 2):  # the table is now full
        assert limiter.allow(f'2001:db8::{n:x}')
    assert not limiter.allow('oldest') and not limiter.allow('kept')  # both remembered, and seen again just now
    assert limiter.allow('2001:db8::new')  # one over the bound: the least recently seen (the first filler) goes
    assert limiter.allow('2001:db8::0')  # forgotten, so a fresh allowance
    assert not limiter.allow('oldest') and not limiter.allow('kept')  # still remembered
    for n in range(MAX_TRACKED_ADDRESSES):
        limiter.allow(f'2001:db8:1::{n:x}')
    assert limiter.allow('oldest')  # a whole table of newer addresses later, forgotten too


def test_refusal_log_windows_are_bounded_too() -> None:
    now = [0.0]
    log = OncePerMinute(period_s=60, clock=lambda: now[0])
    assert log.note('first', 'pending') == 1 and log.note('first', 'pending') is None  # later, with a count
    for n in range(MAX_TRACKED_ADDRESSES):
        log.note(f'2001:db8::{n:x}', 'pending')
    assert log.note('first', 'pending') == 1  # its window was forgotten: a new first line (its count is lost)
    now[0] += 60
    assert ('2001:db8::0', 'pending', 0) not in log.unsaid()  # ended windows with nothing unsaid say nothing


def test_pending_handshakes_apply_the_per_address_limit_only_under_pressure() -> None:
    pending = PendingHandshakes(per_address=2, pressure_from=100)
    assert all(pending.open('10.0.0.1', open_connections=50) for _ in range(10))  # room: a burst is fine
    assert pending.held('10.0.0.1') == 10
    assert not pending.open('10.0.0.1', open_connections=100)  # under pressure: over 2 pending is refused
    assert pending.open('10.0.0.2', open_connections=100)  # another address is not
    for _ in range(9):
        pending.done('10.0.0.1')
    assert pending.held('10.0.0.1') == 1 and pending.open('10.0.0.1', open_connections=100)
    assert pending.total == 3
    with pytest.raises(ValueError):
        PendingHandshakes(per_address=0)
