"""What the page has heard from the browser's clients, and the figures it makes of it (with demos.metrics).

No NiceGUI here: the lanes' state is plain data the panels render, so it is easy to reason about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from demos.metrics import ClockEstimate, Summary, delivery_delays, estimate_clock_offset, summarize

from ..progress import DemoRun

Sample = tuple[int, float, float]  # seq, made_at (server clock, ms), received_at (browser clock, ms)


@dataclass
class LaneReport:
    """One lane as its browser client reported it; the browser's own counts, not the server's."""

    samples: list[Sample] = field(default_factory=list)
    requests: int = 0          # HTTP requests sent (sse: one per stream); push: frames the browser sent
    frames_received: int = 0   # push only
    empty_answers: int = 0     # poll and longpoll
    failed_requests: int = 0   # poll and longpoll
    reconnects: int = 0        # sse and push
    connections_opened: int = 0
    status: str = 'idle'
    last_failure: str = ''
    extensions: str = ''

    def add_samples(self, raw: Sequence[Sequence[float]]) -> None:
        self.samples.extend((int(seq), float(made_at), float(received_at)) for seq, made_at, received_at in raw)

    @property
    def updates(self) -> int:
        return len(self.samples)

    def missing_seqs(self) -> int:
        """Updates skipped between the first and the last one received (0 = every update arrived)."""
        seqs = sorted({seq for seq, _, _ in self.samples})
        return seqs[-1] - seqs[0] + 1 - len(seqs) if seqs else 0


LANE_NAMES = ('poll', 'longpoll', 'sse', 'push')  # the order of the panels, the chart and the reports


@dataclass
class Comparison:
    """The four lanes, plus the clock exchanges that put the browser's receive times on the server's clock."""

    poll: LaneReport = field(default_factory=LaneReport)
    longpoll: LaneReport = field(default_factory=LaneReport)
    sse: LaneReport = field(default_factory=LaneReport)
    push: LaneReport = field(default_factory=LaneReport)
    clock_exchanges: list[tuple[float, float, float]] = field(default_factory=list)
    clock_via: str = ''

    def lanes(self) -> tuple[tuple[str, LaneReport], ...]:
        return tuple((name, getattr(self, name)) for name in LANE_NAMES)

    def take_report(self, report: dict[str, Any]) -> None:
        """Fold in one batch from the browser (`demo_lane_samples`, see demos/static/lanes.js)."""
        _take_poller(self.poll, report.get('poll', {}), 'polling every {interval_ms} ms')
        _take_poller(self.longpoll, report.get('longpoll', {}), 'asking again the moment each answer is in')
        sse = report.get('sse', {})
        self.sse.add_samples(sse.get('samples', []))
        self.sse.requests = int(sse.get('requests', self.sse.requests))
        self.sse.connections_opened = int(sse.get('connections_opened', self.sse.connections_opened))
        self.sse.reconnects = int(sse.get('reconnects', self.sse.reconnects))
        for status in sse.get('statuses', []):
            self.sse.status = describe_sse_status(status)
        push = report.get('push', {})
        self.push.add_samples(push.get('samples', []))
        self.push.requests = int(push.get('frames_sent', self.push.requests))
        self.push.frames_received = int(push.get('frames_received', self.push.frames_received))
        self.push.connections_opened = int(push.get('connections_opened', self.push.connections_opened))
        self.push.extensions = str(push.get('extensions', self.push.extensions))
        for status in push.get('statuses', []):
            self.push.status = describe_push_status(status)
            if status.get('state') == 'reconnecting':
                self.push.reconnects += 1
        for client_sent, server_time, client_received, via in report.get('clock_exchanges', []):
            self.clock_exchanges.append((float(client_sent), float(server_time), float(client_received)))
            self.clock_via = str(via)

    def reset(self) -> None:
        for name in LANE_NAMES:
            setattr(self, name, LaneReport())

    @property
    def clock(self) -> ClockEstimate | None:
        return estimate_clock_offset(self.clock_exchanges)

    def delays(self, lane: LaneReport) -> list[float]:
        clock = self.clock
        return delivery_delays(lane.samples, clock.offset_ms if clock else 0.0)

    def delay_summary(self, lane: LaneReport) -> Summary | None:
        return summarize(self.delays(lane))

    def run_summary(self, poll_interval_ms: int) -> DemoRun | None:
        """What the quiz quotes of this run, once polling has asked and both polling and push got updates."""
        poll, push = self.poll, self.push
        if not poll.requests or not poll.updates or not push.updates:
            return None
        poll_delay, push_delay = self.delay_summary(poll), self.delay_summary(push)
        return DemoRun(poll_requests=poll.requests, poll_updates=poll.updates,
                       poll_empty=min(poll.empty_answers, poll.requests), poll_interval_ms=poll_interval_ms,
                       poll_delay_p50_ms=round(poll_delay.p50, 1) if poll_delay else None,
                       push_updates=push.updates, push_delay_p50_ms=round(push_delay.p50, 1) if push_delay else None)


def _take_poller(lane: LaneReport, report: dict[str, Any], running_status: str) -> None:
    lane.add_samples(report.get('samples', []))
    lane.requests = int(report.get('requests', lane.requests))
    lane.empty_answers = int(report.get('empty_answers', lane.empty_answers))
    lane.failed_requests = int(report.get('failed_requests', lane.failed_requests))
    if failures := report.get('failures'):
        lane.last_failure = str(failures[-1].get('message', ''))
    if report.get('last_error'):
        lane.status = f'the latest request failed: {report["last_error"]}'
    elif report.get('running'):
        lane.status = running_status.format(interval_ms=report.get('interval_ms'))
    elif report:
        lane.status = 'stopped'


def describe_sse_status(status: dict[str, Any]) -> str:
    match status.get('state'):
        case 'open':
            return 'open'
        case 'reconnecting':
            return 'stream broken: EventSource reconnects by itself'
        case 'closed':
            return 'closed'
        case state:
            return str(state)


def describe_push_status(status: dict[str, Any]) -> str:
    match status.get('state'):
        case 'open':
            return 'open'
        case 'closed':
            reason = f' “{status["reason"]}”' if status.get('reason') else ''
            return f'closed (code {status.get("code")}{reason})'
        case 'reconnecting':
            return f'server gone: reconnecting in {status.get("delay_ms")} ms (attempt {status.get("attempt")})'
        case 'error':
            return 'connection error'
        case state:
            return str(state)
