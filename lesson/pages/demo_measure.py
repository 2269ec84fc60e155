"""What the page has heard from the browser's clients, and the figures it makes of it (with demos.metrics).

No NiceGUI here: the lanes' state is plain data the panels render, so it is easy to reason about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from demos.metrics import ClockEstimate, Summary, delivery_delays, estimate_clock_offset, summarize

Sample = tuple[int, float, float]  # seq, made_at (server clock, ms), received_at (browser clock, ms)


@dataclass
class LaneReport:
    """One lane as its browser client reported it; the browser's own counts, not the server's."""

    samples: list[Sample] = field(default_factory=list)
    requests: int = 0          # poll: HTTP requests sent; push: frames the browser sent (clock questions)
    frames_received: int = 0   # push only
    empty_answers: int = 0     # poll only
    failed_requests: int = 0   # poll only
    reconnects: int = 0        # push only
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


@dataclass
class Comparison:
    """Both lanes, plus the clock exchanges that put the browser's receive times on the server's clock."""

    poll: LaneReport = field(default_factory=LaneReport)
    push: LaneReport = field(default_factory=LaneReport)
    clock_exchanges: list[tuple[float, float, float]] = field(default_factory=list)
    clock_via: str = ''

    def take_report(self, report: dict[str, Any]) -> None:
        """Fold in one batch from the browser (`demo_lane_samples`, see demos/static/lanes.js)."""
        poll, push = report.get('poll', {}), report.get('push', {})
        self.poll.add_samples(poll.get('samples', []))
        self.poll.requests = int(poll.get('requests', self.poll.requests))
        self.poll.empty_answers = int(poll.get('empty_answers', self.poll.empty_answers))
        self.poll.failed_requests = int(poll.get('failed_requests', self.poll.failed_requests))
        if failures := poll.get('failures'):
            self.poll.last_failure = str(failures[-1].get('message', ''))
        if poll.get('last_error'):
            self.poll.status = f'the latest request failed: {poll["last_error"]}'
        elif poll.get('running'):
            self.poll.status = f'polling every {poll.get("interval_ms")} ms'
        else:
            self.poll.status = 'stopped'
        self.push.add_samples(push.get('samples', []))
        self.push.requests = int(push.get('frames_sent', self.push.requests))
        self.push.frames_received = int(push.get('frames_received', self.push.frames_received))
        self.push.connections_opened = int(push.get('connections_opened', self.push.connections_opened))
        self.push.extensions = str(push.get('extensions', ''))
        for status in push.get('statuses', []):
            self.push.status = describe_push_status(status)
            if status.get('state') == 'reconnecting':
                self.push.reconnects += 1
        for client_sent, server_time, client_received, via in report.get('clock_exchanges', []):
            self.clock_exchanges.append((float(client_sent), float(server_time), float(client_received)))
            self.clock_via = str(via)

    def reset(self) -> None:
        self.poll = LaneReport()
        self.push = LaneReport()

    @property
    def clock(self) -> ClockEstimate | None:
        return estimate_clock_offset(self.clock_exchanges)

    def delays(self, lane: LaneReport) -> list[float]:
        clock = self.clock
        return delivery_delays(lane.samples, clock.offset_ms if clock else 0.0)

    def delay_summary(self, lane: LaneReport) -> Summary | None:
        return summarize(self.delays(lane))


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
