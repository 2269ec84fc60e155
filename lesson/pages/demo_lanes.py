"""The comparison panel: polling, long polling, Server-Sent Events and WebSocket push on one session's feed, every
figure measured.

The browser's clients (demos/static/poller.js, sse_client.js, pusher.js, lanes.js) report what they received; the
server's per-session counters (read in-process) say what crossed the sockets. This module only renders the two, and
keeps a small summary of the run in the learner's storage for the quiz to quote (:class:`lesson.progress.DemoRun`).
"""

from __future__ import annotations

import json
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from nicegui import events, ui

from demos.echo_server import EchoServer
from demos.metrics import Summary, bytes_per_update, wasted_poll_ratio

from ..progress import DEMO_RUN_KEY, DemoRun, demo_run_to_store
from .demo_figures import Figure, figure_grid
from .demo_measure import Comparison

WAITING = 'Press Start: the feed begins once the push socket and the event stream are connected.'

POLL_INTERVALS_MS = {100: '100 ms', 250: '250 ms', 500: '500 ms', 1000: '1 s', 2000: '2 s', 5000: '5 s'}
UPDATE_RATES_PER_S = {0.5: '1 every 2 s', 1.0: '1 per second', 2.0: '2 per second', 5.0: '5 per second',
                      10.0: '10 per second', 20.0: '20 per second'}
DEFAULT_POLL_INTERVAL_MS = 500
# Several updates per poll: the chart shows each update waiting for the next question (a sawtooth).
# With one update per poll or fewer, the two clocks can beat in step and every update waits the same time.
DEFAULT_UPDATE_RATE_PER_S = 5.0
CHART_POINTS = 200  # per lane: enough to see the pattern, few enough to redraw twice a second
REFRESH_S = 0.5

RUN_SAVE_EVERY_S = 2.0


@dataclass(frozen=True)
class LaneSpec:
    """How one lane is named and what its figures mean; the rows line up across the four panels."""

    title: str
    requests: str
    empty: str
    failures: str
    good_for: str


LANES: dict[str, LaneSpec] = {
    'poll': LaneSpec(
        'HTTP polling', 'HTTP requests sent', 'Empty answers (wasted requests)', 'Failed requests',
        'Good for data that changes rarely, with nothing but plain HTTP. Costs a request per interval, mostly '
        'for nothing, and up to a whole interval of delay.'),
    'longpoll': LaneSpec(
        'HTTP long polling', 'HTTP requests sent', 'Empty answers (held 8 s, nothing new)', 'Failed requests',
        'Good for near-instant updates where only plain HTTP gets through. Costs a new request after every '
        'answer, and the server holds one open request per client.'),
    'sse': LaneSpec(
        'Server-Sent Events', 'HTTP requests sent (one per stream)', 'Empty answers (none: it only sends news)',
        'Reconnections',
        'Good for a one-way stream (feeds, notifications, progress) over ordinary HTTP; it reconnects by itself. '
        'Server to browser only: to talk back, the page must make separate requests.'),
    'push': LaneSpec(
        'WebSocket push', 'Frames sent by the browser (clock checks)', 'Empty answers (none: it only sends news)',
        'Reconnections',
        'Good for both directions at any moment (chat, games, shared editing). The only one of the four where the '
        'browser also sends on the same connection: here, its clock checks.'),
}
POLL_NAME = LANES['poll'].title
PUSH_NAME = LANES['push'].title


class LaneFigures:
    """The figures of one lane, in the same order in every panel so the eye can compare across."""

    def __init__(self, lane: str) -> None:
        spec = LANES[lane]
        with figure_grid():
            self.updates = Figure(f'{lane}-updates', 'Updates received')
            if lane == 'push':
                self.server_frames = Figure('push-frames', 'Frames sent by the server (updates)')
            self.requests = Figure(f'{lane}-requests', spec.requests)
            self.empty = Figure(f'{lane}-empty', spec.empty)
            self.failures = Figure(f'{lane}-failed', spec.failures)
            self.connections = Figure(f'{lane}-connections', 'TCP connections opened')
            self.bytes_total = Figure(f'{lane}-bytes', 'Bytes on the wire, both directions', 'B')
            self.bytes_per_update = Figure(f'{lane}-bytes-per-update', 'Bytes on the wire per update', 'B')
            self.delay_mean = Figure(f'{lane}-delay-mean', 'Delivery delay, mean', 'ms')
            self.delay_p50 = Figure(f'{lane}-delay-p50', 'Delivery delay, median (p50)', 'ms')
            self.delay_p95 = Figure(f'{lane}-delay-p95', 'Delivery delay, p95', 'ms')
            self.missing = Figure(f'{lane}-missing', 'Updates missed (gaps in seq)')

    def show_delays(self, summary: Summary | None) -> None:
        self.delay_mean.show(summary.mean if summary else None, 1)
        self.delay_p50.show(summary.p50 if summary else None, 1)
        self.delay_p95.show(summary.p95 if summary else None, 1)


URL_LABELS = (('poll', 'Polling: GET'), ('longpoll', 'Long polling: GET'), ('sse', 'Server-Sent Events: GET'),
              ('push', 'Push:'), ('echo', 'Echo console:'), ('clock', 'Clock: GET'))


class LanesPanel:
    """Controls, the four lanes, the chart and the reading, for one page's session.

    Args:
        store: The learner's storage; the run's summary is kept there for the quiz (see :class:`DemoRun`).
    """

    def __init__(self, echo: EchoServer, session_id: str, store: MutableMapping[str, Any] | None = None) -> None:
        self.echo = echo
        self.session_id = session_id
        self.store = store
        self.comparison = Comparison()
        self.running = False
        self.poll_interval_ms = DEFAULT_POLL_INTERVAL_MS
        self.update_rate_per_s = DEFAULT_UPDATE_RATE_PER_S
        self._saved_run: DemoRun | None = None
        self._saved_at = 0.0
        self._build()
        ui.on('demo_lane_samples', self._take_samples)
        ui.on('demo_lanes_ready', self._start_feed)
        ui.on('demo_urls', self._show_urls)
        ui.timer(REFRESH_S, self.refresh)

    @property
    def session(self) -> Any:
        return self.echo.session(self.session_id)

    # ----- layout -----

    def _build(self) -> None:
        with ui.row().classes('items-end gap-2 w-full flex-wrap'):
            self.start_button = ui.button('Start', icon='play_arrow', on_click=self.start).mark('demo-start')
            self.stop_button = ui.button('Stop', icon='stop', on_click=self.stop).mark('demo-stop')
            self.stop_button.disable()
            ui.button('Reset', icon='restart_alt', on_click=self.reset).props('outline') \
                .classes('demo-outline').mark('demo-reset')
            ui.select(POLL_INTERVALS_MS, value=self.poll_interval_ms, label='Polling interval',
                      on_change=self._change_interval).classes('w-36').props('data-control=poll-interval') \
                .mark('demo-poll-interval')
            ui.select(UPDATE_RATES_PER_S, value=self.update_rate_per_s, label='Update rate',
                      on_change=self._change_rate).classes('w-40').props('data-control=update-rate') \
                .mark('demo-update-rate')
        with ui.column().classes('gap-0 text-sm w-full'):
            self.urls: dict[str, ui.label] = {}
            for kind, label in URL_LABELS:
                self.urls[kind] = ui.label(f'{label} (connecting…)').classes('font-mono break-all') \
                    .props(f'data-url={kind}')
            self.deflate = ui.label('permessage-deflate: not negotiated yet').props('data-figure=deflate')
            self.clock_label = ui.label('Clock offset: not measured yet').props('data-figure=clock-offset')
        self.figures: dict[str, LaneFigures] = {}
        self.statuses: dict[str, ui.label] = {}
        with ui.element('div').classes('grid grid-cols-1 md:grid-cols-2 gap-4 w-full my-2'):
            for lane, spec in LANES.items():
                with ui.card().classes('w-full min-w-0').props(f'data-lane={lane}'):
                    ui.html(spec.title, tag='h3').classes('text-lg font-semibold')
                    ui.label(spec.good_for).classes('text-sm').props(f'data-good-for={lane}')
                    self.statuses[lane] = ui.label('idle').classes('text-sm break-all') \
                        .props(f'data-status={lane} aria-live=off').mark(f'{lane}-status')
                    self.figures[lane] = LaneFigures(lane)
        self.chart = ui.echart({
            'animation': False,  # redrawn twice a second: moving lines would be noise
            'aria': {'enabled': True},
            'tooltip': {'trigger': 'axis'},
            'legend': {'data': [spec.title for spec in LANES.values()], 'top': 0},
            'grid': {'left': 56, 'right': 16, 'top': 64, 'bottom': 48},
            'xAxis': {'type': 'value', 'name': 'update number (seq)', 'nameLocation': 'middle', 'nameGap': 28,
                      'minInterval': 1, 'scale': True},
            'yAxis': {'type': 'value', 'name': 'delay (ms)'},
            'series': [{'name': spec.title, 'type': 'line', 'showSymbol': False, 'data': []}
                       for spec in LANES.values()],
        }).classes('w-full h-72').props('aria-label="Chart: delivery delay of each update in the four lanes"') \
            .mark('demo-chart')
        self.reading = ui.label(WAITING).classes('lesson-prose').props('data-reading=lanes').mark('demo-reading')

    # ----- controls -----

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        self.start_button.disable()
        self.stop_button.enable()
        self.session.set_rate(self.update_rate_per_s)
        # Not awaited: the clients connect and compare clocks, then answer with `demo_lanes_ready`.
        ui.run_javascript('wsDemo.comparison.start()')

    def _start_feed(self, _: events.GenericEventArguments) -> None:
        if self.running:
            self.session.start()

    def stop(self) -> None:
        self.running = False
        self.session.stop()
        ui.run_javascript('wsDemo.comparison.stop()')
        self.start_button.enable()
        self.stop_button.disable()
        self._save_run(force=True)

    def reset(self) -> None:
        self.session.reset()
        self.comparison.reset()
        ui.run_javascript('wsDemo.comparison.reset()')
        for series in self.chart.options['series']:
            series['data'] = []
        self.chart.update()
        self.refresh()

    def _change_interval(self, event: events.ValueChangeEventArguments) -> None:
        self.poll_interval_ms = int(event.value)
        ui.run_javascript(f'wsDemo.comparison.setPollInterval({self.poll_interval_ms})')

    def _change_rate(self, event: events.ValueChangeEventArguments) -> None:
        self.update_rate_per_s = float(event.value)
        self.session.set_rate(self.update_rate_per_s)

    def setup_call(self) -> str:
        """The glue call that makes this page's browser clients (see demos/static/demo_page.js)."""
        options = {'echoPort': self.echo.port, 'session': self.session_id, 'pollIntervalMs': self.poll_interval_ms}
        return f'wsDemo.setUpPage({json.dumps(options)})'

    # ----- what the browser reports -----

    def _show_urls(self, event: events.GenericEventArguments) -> None:
        for kind, label in URL_LABELS:
            self.urls[kind].set_text(f'{label} {event.args.get(kind, "")}')

    def _take_samples(self, event: events.GenericEventArguments) -> None:
        before = {lane: len(report.samples) for lane, report in self.comparison.lanes()}
        self.comparison.take_report(event.args)
        self._extend_chart(before)

    def _extend_chart(self, before: dict[str, int]) -> None:
        clock = self.comparison.clock
        offset = clock.offset_ms if clock else 0.0
        changed = False
        for index, (lane, report) in enumerate(self.comparison.lanes()):
            new = report.samples[before[lane]:]
            if not new:
                continue
            data = self.chart.options['series'][index]['data']
            data.extend([seq, round(received_at + offset - made_at, 2)] for seq, made_at, received_at in new)
            del data[:-CHART_POINTS]
            changed = True
        if changed:
            self.chart.update()

    # ----- the figures -----

    def refresh(self) -> None:
        snapshot = self.session.snapshot()
        counters = snapshot['lanes']
        for lane, report in self.comparison.lanes():
            figures, server = self.figures[lane], counters[lane]
            figures.updates.show(report.updates)
            figures.requests.show(report.requests)
            figures.empty.show(report.empty_answers)
            figures.failures.show(report.failed_requests if lane in {'poll', 'longpoll'} else report.reconnects)
            figures.connections.show(server['tcp_connections'])
            bytes_on_wire = server['bytes_in'] + server['bytes_out']
            figures.bytes_total.show(bytes_on_wire)
            figures.bytes_per_update.show(bytes_per_update(bytes_on_wire, server['updates_out']), 1)
            figures.show_delays(self.comparison.delay_summary(report))
            figures.missing.show(report.missing_seqs())
            self.statuses[lane].set_text(report.status)
        self.figures['push'].server_frames.show(counters['push']['updates_out'])
        self._show_clock()
        self._show_deflate(snapshot['permessage_deflate'])
        self.reading.set_text(self._reading())
        self._save_run(force=not self.running)  # after Stop, the last samples still arrive: keep them too

    def _save_run(self, *, force: bool = False) -> None:
        """Keep the run's summary for the quiz: when it changed, at most every few seconds (and at Stop)."""
        run = self.comparison.run_summary(self.poll_interval_ms)
        if self.store is None or run is None or run == self._saved_run:
            return
        if not force and time.monotonic() - self._saved_at < RUN_SAVE_EVERY_S:
            return
        self.store[DEMO_RUN_KEY] = demo_run_to_store(run)
        self._saved_run, self._saved_at = run, time.monotonic()

    def _show_clock(self) -> None:
        clock = self.comparison.clock
        if clock is None:
            return
        self.clock_label.set_text(
            f'Clock offset (server minus browser): {clock.offset_ms:+.2f} ms ± {clock.max_error_ms:.2f} ms, '
            f'from the fastest of {clock.exchanges} exchanges over the {self.comparison.clock_via}')
        self.clock_label.props(f'data-value="{clock.offset_ms:.3f}"')

    def _show_deflate(self, offered_by_server: bool) -> None:
        # The browser always offers it; what the socket reports in `extensions` is what was agreed.
        extensions = self.comparison.push.extensions
        if not offered_by_server and not self.comparison.push.connections_opened:
            self.deflate.set_text('permessage-deflate: off (the echo server does not offer it)')
            self.deflate.props('data-value=off')
            return
        if not self.comparison.push.connections_opened:
            return
        on = 'permessage-deflate' in extensions
        self.deflate.set_text('permessage-deflate: on (frames are compressed, so push bytes are smaller than the '
                              'JSON)' if on else 'permessage-deflate: off (each frame carries the JSON as is)')
        self.deflate.props(f'data-value={"on" if on else "off"}')

    def _reading(self) -> str:
        comparison = self.comparison
        poll = comparison.poll
        delays = {lane: comparison.delay_summary(report) for lane, report in comparison.lanes()}
        poll_delay, push_delay = delays['poll'], delays['push']
        if poll_delay is None or push_delay is None:
            return WAITING
        wasted = wasted_poll_ratio(min(poll.empty_answers, poll.requests), poll.requests) or 0.0
        empty_hint = ('' if poll.empty_answers else
                      ' Lower the update rate below one per interval and watch the empty answers pile up.')
        text = (
            f'All four watch the same feed. Polling asked {poll.requests} times and {wasted:.0%} of the answers '
            f'were empty; every question is a new TCP connection with its own HTTP headers.{empty_hint} '
            f'An update waits on the server until the next question arrives, anywhere from 0 to a whole '
            f'{self.poll_interval_ms} ms interval: here a median {poll_delay.p50:.0f} ms '
            f'(p95 {poll_delay.p95:.0f} ms). '
        )
        if (long_delay := delays['longpoll']) is not None:
            text += (f'Long polling answered at once (median {long_delay.p50:.1f} ms), but paid a new request '
                     f'and connection for each answer: {comparison.longpoll.requests} so far. ')
        if (sse_delay := delays['sse']) is not None:
            text += (f'Server-Sent Events streamed every update over one HTTP response (median {sse_delay.p50:.1f} '
                     'ms), in one direction only. ')
        return text + (
            f'Push sent each update the moment it was made, over one connection: median {push_delay.p50:.1f} ms, '
            f'p95 {push_delay.p95:.1f} ms, and the browser spoke on the same socket. A shorter polling interval makes '
            f'polling faster but means even more questions for nothing; a WebSocket removes that trade-off.'
        )
