"""``websocket-lesson bench --link PROFILES``: the four lanes under link profiles, measured against the model.

For each profile, one simulated ``/demo`` page (:class:`demos.bench.learner.Learner`: polling every 500 ms, long
polling, Server-Sent Events, push, an echo a second, a feed of 5 updates/s) puts its session on the profile over the
inspection stream before it opens a lane, as the page's profile control does, then runs for ``duration_s``. Per lane:
the median and p95 delivery delay measured (the update's ``made_at`` against this process's clock: one machine, one
clock) beside the model's median and p95 (:mod:`demos.protocol.lane_forecast`, as the echo server answered the ``link``
command) and the range in which the model puts a run's median for as many updates as were measured (long polling on 4G
sits where that range is wide: see the forecast's module), and the bytes on the wire per update as the server counted
them once the lanes were set up, beside the same run on loopback ("same room"): on the streams shaping must not change
them; polling's change with the number of polls the link allows (its requests per update say so).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from demos.bench.app_under_test import AppUnderTest
from demos.bench.clients import PushSubscriber
from demos.bench.learner import POLL_INTERVAL_S, RATE_PER_S, Learner, Target
from demos.bench.targets import fmt, target, targets_markdown
from demos.protocol.lane_forecast import LaneForecast
from demos.protocol.lanes import COMPARED_LANES
from demos.protocol.link import UNSHAPED
from demos.protocol.metrics import summarize
from demos.server.echo_process import loop_factory

#: Seconds after the feed stops for the last update to reach every lane: a poll on a 600 ms link takes 1.2 s.
WIND_DOWN_S = 3.0
#: Seconds into a run before the byte counts are read the first time: the lanes' own set-up (handshakes, the clock
#: checks, the SSE head) is behind them by then, so bytes per update are the updates' own, whatever the run's length.
SETTLE_S = 3.0
#: A lane's median is on target within 15 % of the model's, or 20 ms, whichever is larger (issue 21).
TOLERANCE_SHARE, TOLERANCE_MS = 0.15, 20.0
#: Bytes per update shaped against loopback: within 1 % (for the lanes whose message count the link leaves alone).
BYTES_TOLERANCE = 0.01


class LinkedLearner(Learner):
    """A simulated page that puts its session on ``profile_id`` before its first lane opens."""

    def __init__(self, index: int, target: Target, profile_id: str) -> None:
        super().__init__(index, target)
        self.profile_id = profile_id
        self.link_reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.counts: dict[str, Any] = {}
        #: Mean length of an update's JSON as pushed (the same JSON the event stream carries).
        self.update_json_bytes: float | None = None

    async def _open_push(self) -> None:  # the first lane the page opens: the link must be chosen before it
        await self.command(
            'link', profile=self.profile_id, poll_interval_ms=POLL_INTERVAL_S * 1000, rate_per_s=RATE_PER_S
        )
        reply = await asyncio.wait_for(self.link_reply, 10)
        if not reply.get('ok'):
            raise RuntimeError(f'the link command was refused: {reply.get("error")}')
        await super()._open_push()

    def _collect_push(self, client: PushSubscriber) -> None:
        super()._collect_push(client)
        sizes = [len(payload) for _, payload in client.messages if b'"update"' in payload]
        self.update_json_bytes = sum(sizes) / len(sizes) if sizes else None

    async def _read_inspect(self, connection: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in connection:
                news = json.loads(message)
                if news.get('type') == 'counts':
                    self.counts = news
                    self.log.latest_seq = int(news['latest_seq'])
                elif news.get('type') == 'reply' and news.get('do') == 'link' and not self.link_reply.done():
                    self.link_reply.set_result(news)


async def measure(target: Target, profile_id: str, duration_s: float) -> dict[str, Any]:
    """One page under ``profile_id`` for ``duration_s``: per lane, measured delays, the model's, bytes per update."""
    learner = LinkedLearner(0, target, profile_id)
    try:
        await learner.join()
        await asyncio.sleep(SETTLE_S)
        settled = learner.counts.get('lanes', {})
        await asyncio.sleep(max(0.0, duration_s - SETTLE_S))
        await learner.command('stop')
        await asyncio.sleep(WIND_DOWN_S)
    finally:
        await learner.leave()
    reply = learner.link_reply.result() if learner.link_reply.done() else {}
    log = learner.log
    samples = {'poll': log.poll.samples, 'longpoll': log.longpoll.samples, 'sse': log.sse, 'push': log.push}
    lanes: dict[str, Any] = {}
    for lane in COMPARED_LANES:
        counted = _difference(learner.counts.get('lanes', {}).get(lane.id, {}), settled.get(lane.id, {}))
        updates = counted['updates_out']
        summary = summarize([received - made for _seq, made, received in samples[lane.id]])
        model = reply.get('forecast', {}).get(lane.id, {})
        model_range = LaneForecast(**model).median_range_ms(summary.count) if model and summary else None
        per_update = (counted['bytes_in'] + counted['bytes_out']) / updates if updates else None
        payload = learner.update_json_bytes
        lanes[lane.id] = {
            'measured': summary.as_dict() if summary else None,
            'model_p50_ms': model.get('median_ms'),
            'model_p95_ms': model.get('p95_ms'),
            'model_range_ms': model_range,
            'model_waiting_share': model.get('waiting_share'),
            'model_cycle_ms': model.get('cycle_ms'),
            'bytes_per_update': per_update,
            # The updates' JSON differs from run to run by a byte or so (prices, times): on the wire per JSON byte is
            # what shaping could change.
            'wire_per_payload_byte': per_update / payload if per_update and payload else None,
            'requests_per_update': counted['messages_in'] / updates if updates else None,
            'lost': log.lost(samples[lane.id]),
        }
    return {'profile': reply.get('profile', {'id': profile_id}), 'lanes': lanes, 'errors': log.errors}


def _difference(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    names = ('bytes_in', 'bytes_out', 'messages_in', 'updates_out')
    return {name: after.get(name, 0) - before.get(name, 0) for name in names}


def link_targets(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each shaped lane's median against the model's; push and SSE bytes per update against loopback."""
    targets: list[dict[str, Any]] = []
    baseline = next((run for run in runs if run['profile']['id'] == UNSHAPED.id), None)
    for run in runs:
        name = run['profile']['id']
        if name == UNSHAPED.id:
            continue
        for lane, figures in run['lanes'].items():
            measured, model = figures['measured'], figures['model_p50_ms']
            if measured and model is not None:
                allowed = max(TOLERANCE_SHARE * model, TOLERANCE_MS)
                targets.append(
                    target(
                        f'{name} {lane}: |median - model| <= {allowed:.0f} ms', abs(measured['p50'] - model), allowed
                    )
                )
                low, high = figures['model_range_ms']
                if high > low:  # the streams' range is one point: their host's own 1 ms would miss it
                    targets.append(
                        target(
                            f"{name} {lane}: median inside the model's 95 % range for {measured['count']} updates "
                            f'({low:.0f} to {high:.0f} ms); ms outside',
                            max(0.0, low - measured['p50'], measured['p50'] - high),
                            0.0,
                        )
                    )
            if baseline and lane in ('sse', 'push'):
                shaped, loopback = figures['wire_per_payload_byte'], baseline['lanes'][lane]['wire_per_payload_byte']
                if shaped and loopback:
                    change = abs(shaped - loopback) / loopback * 100
                    targets.append(
                        target(
                            f'{name} {lane}: wire bytes per JSON byte vs loopback', change, 100 * BYTES_TOLERANCE, '%'
                        )
                    )
    return targets


def run_links(app_command: str | None, profiles: list[str], duration_s: float) -> dict[str, Any]:
    """Start the app, measure loopback and then each profile in turn, stop the app."""
    load_before = os.getloadavg()
    runs: list[dict[str, Any]] = []
    with AppUnderTest(app_command) as app:
        target_ = Target(app.port, app.echo_port)
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            for profile_id in [UNSHAPED.id, *[p for p in profiles if p != UNSHAPED.id]]:
                runs.append(runner.run(measure(target_, profile_id, duration_s)))
    return {
        'machine': {'cpus': os.cpu_count(), 'python': sys.version.split()[0]},
        'load_average_before_after': [load_before[0], os.getloadavg()[0]],
        'duration_s': duration_s,
        'poll_interval_ms': POLL_INTERVAL_S * 1000,
        'runs': runs,
        'targets': link_targets(runs),
    }


def links_markdown(report: dict[str, Any]) -> str:
    lines = [
        f'## The lanes on a link, measured against the model ({report["duration_s"]:g} s per profile, polling every '
        f'{report["poll_interval_ms"]:g} ms, 5 updates/s; load average {fmt(report["load_average_before_after"][0], 2)}'
        f' before, {fmt(report["load_average_before_after"][1], 2)} after)',
        '',
        "| profile | lane | model p50 ms | measured p50 ms | model's 95 % range of a run's p50 | model p95 ms "
        '| measured p95 ms | waiting share (model) | updates | lost | bytes / update | bytes / JSON byte '
        '| requests / update |',
        '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    for run in report['runs']:
        for lane, f in run['lanes'].items():
            measured = f['measured'] or {}
            low, high = f['model_range_ms'] or (None, None)
            lines.append(
                f'| {run["profile"]["id"]} | {lane} | {fmt(f["model_p50_ms"])} | {fmt(measured.get("p50"))} '
                f'| {fmt(low)} to {fmt(high)} | {fmt(f["model_p95_ms"])} | {fmt(measured.get("p95"))} '
                f'| {fmt(f["model_waiting_share"], 2)} | {measured.get("count", 0)} | {f["lost"]} '
                f'| {fmt(f["bytes_per_update"])} | {fmt(f["wire_per_payload_byte"], 3)} '
                f'| {fmt(f["requests_per_update"], 2)} |'
            )
        if run['errors']:
            lines.append(f'| {run["profile"]["id"]} | errors: {"; ".join(run["errors"])[:300]} |')
    lines += ['', '## Targets (reported, not enforced)', '', *targets_markdown(report['targets'])]
    return '\n'.join(lines)
