"""Polling against push, for a matrix of client counts and polling intervals, as one table.

Requests or frames per update, bytes on the wire per update (both directions, HTTP headers and WebSocket framing
included, as the server's sockets counted them), delivery delay, and the server's CPU time. Then the 2010
comparison ("HTML5 Web Sockets: A Quantum Leap in Scalability for the Web": 871 bytes of headers per poll against
2 bytes of framing per message) recomputed with the bytes measured here.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from demos.bench.clients import Received, poll, subscribe
from demos.bench.server_process import ServerProcess
from demos.bench.targets import fmt, target, targets_markdown
from demos.protocol.metrics import bytes_per_update, delivery_delays, mean, summarize

#: The 2010 paper's figures: bytes of HTTP headers per poll, bytes of WebSocket framing per message.
PAPER_2010_HEADER_BYTES = 871
PAPER_2010_FRAMING_BYTES = 2
PAPER_2010_CLIENTS = (1_000, 10_000, 100_000)


@dataclass
class Cell:
    """One lane at one client count (and polling interval): what the clients got and what it cost."""

    lane: str
    clients: int
    interval_ms: float | None
    rate_per_s: float
    duration_s: float
    updates_made: int
    updates_received: int = 0
    #: HTTP requests (poll) or WebSocket data frames received (push) for each update received, as the clients
    #: counted them.
    requests_or_frames_per_update: float | None = None
    #: Every byte of the lane on the wire while the feed ran, both directions, per update received: HTTP headers and
    #: WebSocket framing included (and pings and pongs, should the keepalive fire during the run).
    bytes_per_update: float | None = None
    delay_ms: dict[str, float] | None = None
    server_cpu_s: float = 0.0
    header_bytes_per_poll: float | None = None
    payload_bytes_per_update: float | None = None
    #: Header bytes of the data frames that carried the updates, as the clients received them: the handshake,
    #: pings, pongs and the closing frames are not in it.
    framing_bytes_per_frame: float | None = None


async def run_cell(
    server: ServerProcess, lane: str, clients: int, interval_ms: float | None, rate_per_s: float, duration_s: float
) -> Cell:
    """Run ``clients`` clients of ``lane`` while the feed makes ``rate_per_s`` updates a second for ``duration_s``."""
    session = f'bench-{lane}-{clients}-{int(interval_ms or 0)}-{random.randrange(10**6)}'
    stop = asyncio.Event()
    received = [Received() for _ in range(clients)]
    if lane == 'push':
        readies = [asyncio.Event() for _ in range(clients)]
        tasks = [
            asyncio.create_task(subscribe(server.port, session, r, stop, ready))
            for r, ready in zip(received, readies, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in readies)), 60)
    before = await server.call('snapshot', session)
    cpu_before = await server.call('cpu')
    await server.call('start', session, rate_per_s)
    if lane == 'poll':
        assert interval_ms is not None
        tasks = [asyncio.create_task(poll(server.port, session, interval_ms / 1000, r, stop)) for r in received]
    await asyncio.sleep(duration_s)
    await server.call('stop', session)
    # Let the last update reach every client before anyone leaves.
    await asyncio.sleep(max(0.2, (interval_ms or 0) / 1000 * 1.5) if lane == 'poll' else 0.2)
    after = await server.call('snapshot', session)
    cpu_after = await server.call('cpu')
    stop.set()
    await asyncio.gather(*tasks)
    lane_before, lane_after = before['lanes'][lane], after['lanes'][lane]
    wire_bytes = lane_after['bytes_in'] + lane_after['bytes_out'] - lane_before['bytes_in'] - lane_before['bytes_out']
    cell = Cell(
        lane=lane,
        clients=clients,
        interval_ms=interval_ms,
        rate_per_s=rate_per_s,
        duration_s=duration_s,
        updates_made=after['latest_seq'],
        server_cpu_s=cpu_after - cpu_before,
    )
    _fill_figures(cell, received, wire_bytes)
    return cell


def _fill_figures(cell: Cell, received: Sequence[Received], wire_bytes: int) -> None:
    """What the clients saw, per update and per request or frame."""
    samples = [s for r in received for s in r.samples]
    count = cell.updates_received = len(samples)
    summary = summarize(delivery_delays(samples))  # one machine, one clock: no offset
    cell.delay_ms = summary.as_dict() if summary else None
    cell.bytes_per_update = bytes_per_update(wire_bytes, count)
    if cell.lane == 'poll':
        requests = sum(r.requests for r in received)
        cell.requests_or_frames_per_update = requests / count if count else None
        cell.header_bytes_per_poll = sum(r.header_bytes for r in received) / requests if requests else None
        return
    frames = sum(r.frames for r in received)
    cell.requests_or_frames_per_update = frames / count if count else None
    if count:
        cell.payload_bytes_per_update = sum(r.payload_bytes for r in received) / count
    if frames:
        cell.framing_bytes_per_frame = sum(r.framing_bytes for r in received) / frames


def scalability_2010(cells: Sequence[Cell]) -> list[dict[str, float]]:
    """Header/framing bandwidth at 1,000 to 100,000 clients, one update a second each: 2010 against ours."""
    polls = [c.header_bytes_per_poll for c in cells if c.header_bytes_per_poll is not None]
    frames = [c.framing_bytes_per_frame for c in cells if c.framing_bytes_per_frame is not None]
    ours_poll = mean(polls) if polls else float('nan')
    ours_frame = mean(frames) if frames else float('nan')
    return [
        {
            'clients': clients,
            'paper_2010_polling_mbps': mbps(clients * PAPER_2010_HEADER_BYTES),
            'measured_polling_mbps': mbps(clients * ours_poll),
            'measured_header_bytes_per_poll': ours_poll,
            'paper_2010_websocket_mbps': mbps(clients * PAPER_2010_FRAMING_BYTES),
            'measured_websocket_mbps': mbps(clients * ours_frame),
            'measured_framing_bytes_per_frame': ours_frame,
        }
        for clients in PAPER_2010_CLIENTS
    ]


def mbps(bytes_per_s: float) -> float:
    # The paper used binary megabits (871,000 B/s -> 6.6 Mbps): 8 bits per byte, 2**20 bits per Mbit.
    return bytes_per_s * 8 / 2**20


def comparison_targets(cells: Sequence[Cell]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    for cell in cells:
        if cell.lane == 'push' and cell.clients == 100 and cell.rate_per_s == 10 and cell.delay_ms:
            targets.append(target('push delay p50 <= 2 ms (100 clients, 10/s)', cell.delay_ms['p50'], 2.0))
            targets.append(target('push delay p95 <= 10 ms (100 clients, 10/s)', cell.delay_ms['p95'], 10.0))
        if cell.lane == 'poll' and cell.delay_ms and cell.interval_ms:
            half = cell.interval_ms / 2
            deviation = abs(cell.delay_ms['mean'] - half) / half
            targets.append(
                target(
                    f'poll delay mean within 15% of {half:g} ms ({cell.clients} clients, {cell.interval_ms:g} ms)',
                    deviation * 100,
                    15.0,
                    unit='%',
                )
            )
        if cell.lane == 'push' and cell.bytes_per_update and cell.payload_bytes_per_update:
            expected = cell.payload_bytes_per_update + 2
            deviation = abs(cell.bytes_per_update - expected) / expected
            targets.append(
                target(
                    f'push bytes per update within 5% of payload + 2 ({cell.clients} clients)',
                    deviation * 100,
                    5.0,
                    unit='%',
                )
            )
    return targets


def comparison_markdown(report: dict[str, Any]) -> str:
    lines = [
        f'## Polling vs push on 127.0.0.1 ({report["machine"]["cpus"]} CPUs, Python {report["machine"]["python"]})',
        '',
        '| lane | clients | poll interval ms | updates made | updates received | requests or frames / update '
        '| bytes / update | delay p50 ms | delay p95 ms | delay mean ms | server CPU s |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    for c in report['cells']:
        delay = c['delay_ms'] or {}
        lines.append(
            f'| {c["lane"]} | {c["clients"]} | {fmt(c["interval_ms"], 0) if c["interval_ms"] else "-"} '
            f'| {c["updates_made"]} | {c["updates_received"]} | {fmt(c["requests_or_frames_per_update"], 2)} '
            f'| {fmt(c["bytes_per_update"])} | {fmt(delay.get("p50"))} | {fmt(delay.get("p95"))} '
            f'| {fmt(delay.get("mean"))} | {fmt(c["server_cpu_s"], 2)} |'
        )
    rows = report['scalability_2010']
    header_bytes = rows[0]['measured_header_bytes_per_poll'] if rows else None
    framing = rows[0]['measured_framing_bytes_per_frame'] if rows else None
    lines += [
        '',
        '## The 2010 comparison, with the bytes measured here',
        '',
        f'Header bandwidth when every client gets one update a second: polling at {PAPER_2010_HEADER_BYTES} bytes '
        f'of HTTP headers per poll (2010) and {fmt(header_bytes, 0)} measured here (request + response headers '
        f'of a browser-like fetch); WebSocket at {PAPER_2010_FRAMING_BYTES} bytes of framing per message (2010) '
        f"and {fmt(framing, 1)} measured here (the header of each update's frame as received: the handshake, pings "
        'and closing frames are not in it). Payload excluded, as in 2010; so is TCP/IP overhead, which '
        'adds a connection set-up and tear-down to every poll here.',
        '',
        '| clients | polling 2010 Mbps | polling measured Mbps | WebSocket 2010 Mbps | WebSocket measured Mbps |',
        '| ---: | ---: | ---: | ---: | ---: |',
    ]
    for row in rows:
        lines.append(
            f'| {row["clients"]:,} | {fmt(row["paper_2010_polling_mbps"], 3)} '
            f'| {fmt(row["measured_polling_mbps"], 3)} | {fmt(row["paper_2010_websocket_mbps"], 3)} '
            f'| {fmt(row["measured_websocket_mbps"], 3)} |'
        )
    lines += ['', '## Targets (reported, not enforced)', '', *targets_markdown(report['targets'])]
    return '\n'.join(lines)
