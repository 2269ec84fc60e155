"""The comparison panel: four lanes on one feed, every figure computed and drawn in the learner's browser.

The browser side is ``lanes_panel.js`` with the clients of ``demos/static/lanes.js``. The page server builds it
once and hears from it once per run (:attr:`LanesPanel.on_run`), never per update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nicegui import ui

from demos.protocol.lanes import COMPARED_LANES
from demos.protocol.link import PROFILE_IDS, UNSHAPED
from lesson.panels.setup import DemoSetup
from lesson.rules.demo_content import LaneText
from lesson.rules.progress import DemoRun

POLL_INTERVALS_MS = ((100, '100 ms'), (250, '250 ms'), (500, '500 ms'), (1000, '1 s'), (2000, '2 s'), (5000, '5 s'))
UPDATE_RATES_PER_S = (
    (0.5, '1 every 2 s'),
    (1.0, '1 per second'),
    (2.0, '2 per second'),
    (5.0, '5 per second'),
    (10.0, '10 per second'),
    (20.0, '20 per second'),
)
DEFAULT_POLL_INTERVAL_MS = 500
# Several updates per poll: the chart shows each update waiting for the next question (a sawtooth).
# With one update per poll or fewer, the two clocks can beat in step and every update waits the same time.
DEFAULT_UPDATE_RATE_PER_S = 5.0
CHART_POINTS = 200  # per lane: enough to see the pattern

TEXT_KEYS = (
    'start',
    'stop',
    'reset',
    'poll_interval',
    'update_rate',
    'class_feed_on',
    'resumed',
    'connecting',
    'waiting',
    'reading_poll',
    'reading_poll_late',
    'reading_missed',
    'reading_no_empty',
    'reading_longpoll',
    'reading_sse',
    'reading_push',
    'updates',
    'push_frames',
    'connections',
    'bytes',
    'bytes_per_update',
    'delay_mean',
    'delay_p50',
    'delay_p95',
    'missing',
    'chart',
    'chart_empty',
    'clock',
    'clock_unknown',
    'deflate_on',
    'deflate_off',
    'details',
    'more_figures',
    'table_caption',
    'figure',
    'status',
    'row_requests',
    'row_empty',
    'row_failed',
    'server_updates',
    'fewer_figures',
    'table_notes',
    'good_for',
    'status_idle',
    'status_open',
    'status_connecting',
    'status_closed',
    'status_stopped',
    'status_polling',
    'status_longpolling',
    'status_failed',
    'status_reconnecting',
    'status_sse_reconnecting',
    'status_sse_closed',
    'link',
    'reading_poll_link',
    'link_error',
    'class_link_on',
    'delay_model',
    'delay_model_p95',
    'link_longpoll_edge',
    'link_heading',
    'link_intro',
    'link_poll',
    'link_poll_bound',
    'link_longpoll',
    'link_longpoll_bound',
    'link_sse',
    'link_push',
    'link_loss',
    'custom_rtt_ms',
    'custom_jitter_ms',
    'custom_down_kbit_s',
    'custom_up_kbit_s',
    'custom_loss_percent',
    *(f'profile_{profile_id.replace("-", "_")}' for profile_id in PROFILE_IDS),
)

_RUN_FIELDS = {
    name: (int,) for name in ('poll_requests', 'poll_updates', 'poll_empty', 'poll_interval_ms', 'push_updates')
}


def run_from_event(args: Any) -> DemoRun | None:
    """The run summary the browser sent, checked field by field; None when anything is off (nothing is kept)."""
    if not isinstance(args, dict):
        return None
    counts: dict[str, int] = {}
    for name in _RUN_FIELDS:
        value = args.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000_000:
            return None
        counts[name] = value
    delays: dict[str, float | None] = {}
    for name in ('poll_delay_p50_ms', 'push_delay_p50_ms'):
        value = args.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3_600_000
        ):
            return None
        delays[name] = None if value is None else round(float(value), 1)
    if counts['poll_empty'] > counts['poll_requests']:
        return None
    run_id = args.get('run_id', 0)  # the run's Start in ms: the class store counts each run once
    if isinstance(run_id, bool) or not isinstance(run_id, int) or not 0 <= run_id < 2**53:
        return None
    link_profile = args.get('link_profile', UNSHAPED.id)  # the profile the page measured under (class's or own)
    if link_profile not in PROFILE_IDS:
        return None
    return DemoRun(**counts, **delays, run_id=run_id, link_profile=link_profile)  # type: ignore[arg-type]


class LanesPanel(ui.element, component='lanes_panel.js'):
    """Controls, the four lanes, the delay chart and the plain-language reading, for one page's session.

    Args:
        setup: The page's way to its session.
        lanes: The learner text of each lane (``content/demo.md``), by lane id.
        texts: The panel's texts (``[lanes_panel]`` of ``content/demo.md``).
        on_run: Called with each run summary the browser sends (at Stop, and every few seconds of a long run).
    """

    def __init__(
        self,
        setup: DemoSetup,
        lanes: Mapping[str, LaneText],
        texts: Mapping[str, str],
        on_run: Callable[[DemoRun], None],
    ) -> None:
        super().__init__()
        self._props['setup'] = setup.as_props()
        self._props['lanes'] = [{**lane.as_props(), **vars(lanes[lane.id])} for lane in COMPARED_LANES]
        self._props['texts'] = dict(texts)
        self._props['poll-intervals'] = [list(pair) for pair in POLL_INTERVALS_MS]
        self._props['rates'] = [list(pair) for pair in UPDATE_RATES_PER_S]
        self._props['defaults'] = {
            'poll_interval_ms': DEFAULT_POLL_INTERVAL_MS,
            'rate_per_s': DEFAULT_UPDATE_RATE_PER_S,
        }
        self._props['chart-points'] = CHART_POINTS
        self._props['profiles'] = [[p, texts[f'profile_{p.replace("-", "_")}']] for p in PROFILE_IDS]

        def take_run(event: Any) -> None:
            if (run := run_from_event(event.args)) is not None:
                on_run(run)

        self.on('run', take_run)
