"""What one learner's demo run summaries may add to the class's totals: no more than one page can do. Pure.

A page sends its run's growing summary every 10 s and at Stop (``lesson/panels/lanes_panel.js``), numbered by the
run it belongs to (``run_id``, the time of Start in ms: it increases, across reloads too). The figures are the
browser's word, so the class counts only what fits the time the server has seen pass: each summary is credited the
seconds since the learner's previous one (at most :data:`SUMMARY_WINDOW_S`), and a learner's totals never exceed
what the fastest settings produce in the seconds credited so far. An honest page never reaches these bounds; a
script alternating huge and zero summaries adds at most a page's worth per second (it added 93 billion polls).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from lesson.rules.progress import DemoRun

#: Polls a page can send per second: the shortest poll interval is 100 ms; doubled for requests answered late.
MAX_POLLS_PER_S = 20
#: Updates a page can receive per second in one lane: the fastest rate offered is 20 per second; doubled.
MAX_UPDATES_PER_S = 40
#: Seconds one summary may be credited at most: a running page reports every 10 s (a stopped one at Stop), so a
#: longer silence is time it was not running.
SUMMARY_WINDOW_S = 30.0
#: Runs one learner adds to the class at most (a run per second of credited time before that).
MAX_RUNS_PER_LEARNER = 100
COUNTS = ('poll_requests', 'poll_updates', 'poll_empty', 'push_updates')
#: What the board calls each link profile a run was measured under (the ids of :mod:`demos.protocol.link`).
LINK_NAMES = {
    'same-room': 'same room',
    'home-broadband': 'home broadband',
    '4g': '4G',
    '3g': '3G',
    'satellite': 'satellite',
    'lossy-wifi': 'lossy Wi-Fi',
    'custom': 'a custom link',
}


class RunRefused(ValueError):
    """A summary that cannot be from the page as it runs (an older run, or a run's figures shrinking)."""


@dataclass(frozen=True)
class DemoTotals:
    """Polling-against-push figures summed over runs (one learner's, or the whole class's)."""

    runs: int = 0
    poll_requests: int = 0
    poll_updates: int = 0
    poll_empty: int = 0
    push_updates: int = 0

    def __add__(self, other: DemoTotals) -> DemoTotals:
        return DemoTotals(
            self.runs + other.runs,
            self.poll_requests + other.poll_requests,
            self.poll_updates + other.poll_updates,
            self.poll_empty + other.poll_empty,
            self.push_updates + other.push_updates,
        )


@dataclass(frozen=True)
class RunLedger:
    """What the class has counted of one learner's runs, and the time it has credited them."""

    totals: DemoTotals = DemoTotals()
    last_run: DemoRun | None = None
    credited_s: float = 0.0
    heard_at: datetime | None = None


def growth(run: DemoRun, previous: DemoRun | None) -> DemoTotals:
    """What a summary adds: all of it for a new run, the growth for a later summary of the same run."""
    if previous is None or run.run_id > previous.run_id:
        return DemoTotals(1, *(getattr(run, name) for name in COUNTS))
    if run.run_id < previous.run_id:
        raise RunRefused('a summary of an earlier run')
    if any(getattr(run, name) < getattr(previous, name) for name in COUNTS):
        raise RunRefused("a run's figures only grow")
    return DemoTotals(0, *(getattr(run, name) - getattr(previous, name) for name in COUNTS))


def bounded(totals: DemoTotals, credited_s: float) -> DemoTotals:
    """``totals`` cut to what one page does in ``credited_s`` seconds at the fastest settings."""
    runs = min(totals.runs, MAX_RUNS_PER_LEARNER, 1 + math.floor(credited_s))
    polls = min(totals.poll_requests, math.floor(credited_s * MAX_POLLS_PER_S) + runs)
    updates = math.floor(credited_s * MAX_UPDATES_PER_S) + runs
    return DemoTotals(
        runs, polls, min(totals.poll_updates, updates), min(totals.poll_empty, polls), min(totals.push_updates, updates)
    )


def record(ledger: RunLedger, run: DemoRun, at: datetime) -> RunLedger:
    """The ledger with ``run`` counted as far as the time allows; :class:`RunRefused` for an impossible summary."""
    added = growth(run, ledger.last_run)
    since = SUMMARY_WINDOW_S if ledger.heard_at is None else (at - ledger.heard_at).total_seconds()
    credited = ledger.credited_s + min(max(since, 0.0), SUMMARY_WINDOW_S)
    return RunLedger(bounded(ledger.totals + added, credited), run, credited, at)
