"""The shared moments' pure parts (lesson/teaching/class_moments.py): which commands end a lasting moment, the
class feed's shared seed, what a relayed message must hold; and that one seed makes one feed on every instance."""

from __future__ import annotations

import json

import pytest

from demos.protocol.feed import PriceFeed
from lesson.teaching.class_moments import ends, moment_from_json, with_seed


def test_what_ends_a_lasting_moment() -> None:
    assert ends({'do': 'class_link', 'profile': None})
    assert not ends({'do': 'class_link', 'profile': '3g'})
    assert ends({'do': 'class_feed', 'action': 'stop'})
    assert not ends({'do': 'class_feed', 'action': 'start', 'rate_per_s': 2})
    assert not ends({'do': 'restart', 'seconds': 4})


def test_a_class_feed_start_gets_one_seed_and_nothing_else_does() -> None:
    start = {'do': 'class_feed', 'action': 'start', 'rate_per_s': 2.0, 'session_ids': None}
    seeded = with_seed(start)
    assert isinstance(seeded['seed'], int) and {**seeded, 'seed': 0} == {**start, 'seed': 0}
    assert with_seed(seeded) == seeded  # a relayed start keeps the teacher's seed
    link = {'do': 'class_link', 'profile': '3g'}
    assert with_seed(link) is link and 'seed' not in with_seed({'do': 'class_feed', 'action': 'stop'})


def test_one_seed_makes_the_same_prices_at_the_same_moments() -> None:
    first, second = (PriceFeed(seed=1234, rate_per_s=5, clock=lambda: 0.0) for _ in range(2))
    walk = [(first.next_interval_s(), first.make_update().price) for _ in range(50)]
    assert walk == [(second.next_interval_s(), second.make_update().price) for _ in range(50)]
    other = PriceFeed(seed=1235, rate_per_s=5, clock=lambda: 0.0)
    assert walk != [(other.next_interval_s(), other.make_update().price) for _ in range(50)]


def test_a_relayed_message_is_a_moment_from_an_instance() -> None:
    command = {'do': 'class_link', 'profile': '3g'}
    assert moment_from_json(json.dumps({'from': 'abc', 'command': command})) == ('abc', command)
    for bad in (
        '{}',
        'not json',
        json.dumps({'from': 'abc', 'command': {'do': 'shutdown'}}),
        json.dumps({'from': 1, 'command': command}),
        json.dumps({'from': 'abc', 'command': [command]}),
    ):
        with pytest.raises((ValueError, KeyError, TypeError)):
            moment_from_json(bad)
