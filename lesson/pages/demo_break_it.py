"""Break it and watch: the server closes, drops, pings and stops reading on purpose; the browser's side shows in
the echo console above and in the frame log.

The server side is in-process (``session.close_echo``, ``drop_echo``, ``ping_echo``, ``pause_echo_reading``); the
browser side of the two experiments that need one (a burst of sends, the compression comparison) is
demos/static/break_it.js, which reports with ``demo_backpressure`` and ``demo_compression``.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

from nicegui import events, ui

from demos.echo_server import EchoServer

from .demo_console import ConsoleEvent, EchoConsolePanel
from .demo_figures import Figure, figure_grid

PICKED_CLOSE_CODES = {1001: '1001 going away', 1008: '1008 policy violation', 1011: '1011 internal error'}
PAUSE_S = 3.0
# Within the server's burst allowance (100 messages at once, EchoSettings.message_burst) and under its largest
# message (64 KiB), yet more than the kernel's socket buffers take in on loopback, so the browser's buffer grows.
BURST_COUNT = 80
BURST_SIZE = 60_000
CONNECT_WAIT_S = 4.0
BACKPRESSURE_POINTS = 600

_SYMBOLS = ('ACME', 'GLOBEX', 'INITECH', 'UMBRELLA', 'HOOLI', 'STARK')
# The same five messages over both connections: JSON as a live feed sends it, repetitive as real JSON is.
COMPRESSION_MESSAGES = tuple(
    json.dumps({'type': 'prices', 'seq': seq, 'items': [
        {'symbol': symbol, 'price': round(100 + seq * 0.25 + index * 7.5, 2), 'currency': 'EUR'}
        for index, symbol in enumerate(_SYMBOLS)]}, separators=(',', ':'))
    for seq in range(1, 6))


def wire_bytes(entries: list[dict[str, Any]], reason: str) -> dict[str, int] | None:
    """Bytes of data frames in each direction on the connection that closed with ``reason`` (pure)."""
    by_connection: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        by_connection[entry['connection']].append(entry)
    for frames in by_connection.values():
        if any(frame['close_reason'] == reason and frame['direction'] == 'client→server' for frame in frames):
            data = [frame for frame in frames if frame['opcode_name'] in {'text', 'binary', 'continuation'}]
            return {
                'out': sum(f['frame_size'] for f in data if f['direction'] == 'client→server'),
                'in': sum(f['frame_size'] for f in data if f['direction'] == 'server→client'),
                'messages': sum(1 for f in data if f['direction'] == 'client→server' and f['fin']),
                'compressed': int(any(f['rsv1'] for f in data)),
            }
    return None


class BreakItPanel:
    def __init__(self, echo: EchoServer, session_id: str, console: EchoConsolePanel) -> None:
        self.echo = echo
        self.session_id = session_id
        self.burst_size = min(BURST_SIZE, echo.settings.max_message_bytes)
        self.compression_since = 0
        console.listeners.append(self._watch_console)
        self._build()
        ui.on('demo_backpressure', self._take_backpressure)
        ui.on('demo_compression', self._take_compression)
        ui.on('demo_motion', self._take_motion)

    @property
    def session(self) -> Any:
        return self.echo.session(self.session_id)

    def _build(self) -> None:
        ui.label('Closing').classes('text-lg font-semibold')
        with ui.row().classes('items-end gap-2 w-full flex-wrap'):
            ui.button('Server closes cleanly (1000)', icon='logout', on_click=lambda: self.close(1000)) \
                .props('no-caps').mark('break-close-1000')
            self.code = ui.select(PICKED_CLOSE_CODES, value=1008, label='Close code').classes('w-52') \
                .props('data-control=close-code').mark('break-close-code')
            ui.button('Server closes with this code', icon='logout', on_click=lambda: self.close(self.code.value)) \
                .props('no-caps').mark('break-close-picked')
            ui.button('Drop the TCP connection', icon='link_off', on_click=self.drop) \
                .props('no-caps outline color=negative').classes('demo-outline-negative').mark('break-drop')
        with figure_grid():
            self.close_code = Figure('last-close-code', 'Close code the browser saw (onclose event.code)')
            self.close_clean = Figure('last-close-clean', 'Closed cleanly? (onclose event.wasClean)')
        self.status = ui.label('').classes('text-sm').props('aria-live=polite data-status=break-it') \
            .mark('break-status')

        ui.label('Ping and pong').classes('text-lg font-semibold mt-2')
        ui.button('Ping from the server', icon='sensors', on_click=self.ping).props('no-caps') \
            .classes('self-start').mark('break-ping')

        ui.label('Back-pressure').classes('text-lg font-semibold mt-2')
        ui.button(f'Pause the server\'s reading for {PAUSE_S:g} s, then burst', icon='water', on_click=self.burst) \
            .props('no-caps').classes('self-start').mark('break-burst')
        ui.markdown(f'{BURST_COUNT} messages of {self.burst_size:,} bytes at once. The kernel takes some in, then '
                    '`bufferedAmount` (bytes the browser holds, unsent) grows; it drains once the server reads again.'
                    ).classes('text-sm opacity-80')
        self.chart = ui.echart({
            'animation': False,  # until the page hears the learner's motion preference
            'aria': {'enabled': True},
            'tooltip': {'trigger': 'axis'},
            'grid': {'left': 64, 'right': 16, 'top': 24, 'bottom': 48},
            'xAxis': {'type': 'value', 'name': 'ms since the burst', 'nameLocation': 'middle', 'nameGap': 28},
            'yAxis': {'type': 'value', 'name': 'bufferedAmount (KiB)'},
            'series': [{'name': 'bufferedAmount', 'type': 'line', 'showSymbol': False, 'data': [], 'areaStyle': {}}],
        }).classes('w-full h-56').props('data-motion=unknown '
                                        'aria-label="Chart: the browser\'s bufferedAmount during the burst"') \
            .mark('backpressure-chart')
        with figure_grid():
            self.peak = Figure('backpressure-peak', 'Highest bufferedAmount', 'B')
            self.drained = Figure('backpressure-drained', 'Back to 0 after', 'ms')

        ui.label('Compression').classes('text-lg font-semibold mt-2')
        ui.button('Compare the same 5 messages without and with permessage-deflate', icon='compress',
                  on_click=self.compare).props('no-caps').classes('self-start').mark('break-compression')
        with ui.element('div').classes('grid gap-x-3 gap-y-1 w-full text-sm') \
                .style('grid-template-columns: minmax(0, 1fr) auto auto').mark('compression-table'):
            for text in ('', 'deflate=0', 'deflate=1'):
                ui.label(text).classes('font-semibold text-right')
            ui.label('Characters of JSON sent')
            text_size = sum(len(message) for message in COMPRESSION_MESSAGES)
            for _ in range(2):
                ui.label(f'{text_size:,}').classes('font-mono text-right')
            self.compression: dict[str, Figure] = {}
            for key, label in (('out', 'Browser → server, frame bytes'), ('in', 'Server → browser, frame bytes'),
                               ('compressed', 'Compressed (RSV1 set)')):
                ui.label(label)
                for setting in ('off', 'on'):
                    self.compression[f'{setting}-{key}'] = self._cell(f'compression-{setting}-{key}')

    @staticmethod
    def _cell(name: str) -> ui.label:
        return ui.label('—').classes('font-mono text-right tabular-nums').props(f'data-figure={name} data-value=""')

    # ----- the server's side -----

    async def _connected(self) -> int:
        """The open echo connections, after asking the console to connect if there were none."""
        controls = self.session.echo
        if not controls.open_connections():
            self.status.set_text('Connecting the echo console first…')
            ui.run_javascript('wsDemo.echoConsole.connect()')
            for _ in range(int(CONNECT_WAIT_S / 0.1)):
                await asyncio.sleep(0.1)
                if controls.open_connections():
                    break
        count = len(controls.open_connections())
        if not count:
            self.status.set_text('No echo connection is open: press Connect in the echo console.')
        return count

    async def close(self, code: int) -> None:
        if await self._connected():
            self.status.set_text(f'The server sends a close frame with code {code}…')
            await self.session.close_echo(code, f'closed with {code} from the page')
            self.status.set_text(f'The server closed with {code}; the console reconnects after a pause.')

    async def drop(self) -> None:
        if await self._connected():
            await self.session.drop_echo()
            self.status.set_text('The server cut the TCP connection without a close frame.')

    async def ping(self) -> None:
        if await self._connected():
            self.status.set_text('Ping sent…')
            round_trips = await self.session.ping_echo()
            shown = ', '.join('no pong' if rtt is None else f'{rtt:.1f} ms' for rtt in round_trips)
            self.status.set_text(f'Pong back after {shown}: the browser answered on its own; JavaScript never saw '
                                 'either frame. Both are in the frame log.')

    async def burst(self) -> None:
        if not await self._connected():
            return
        self.chart.options['series'][0]['data'] = []
        self.chart.update()
        self.peak.show(None)
        self.drained.show(None)
        self.status.set_text(f'The server stops reading for {PAUSE_S:g} s; the page sends a burst…')
        paused = asyncio.create_task(self.session.pause_echo_reading(PAUSE_S))
        await asyncio.sleep(0.1)  # reading is held before the first byte of the burst arrives
        ui.run_javascript(f'wsDemo.breakIt.burst({{count: {BURST_COUNT}, size: {self.burst_size}}})')
        await paused
        self.status.set_text('The server reads again: the buffered messages drain and their echoes come back.')

    def compare(self) -> None:
        self.compression_since = self.session.frame_log.next_index
        for cell in self.compression.values():
            cell.set_text('…')
        ui.run_javascript(f'wsDemo.breakIt.compareCompression({json.dumps(list(COMPRESSION_MESSAGES))})')

    # ----- what the browser reports -----

    def _watch_console(self, seen: ConsoleEvent) -> None:
        if seen.kind != 'close':
            return
        code = int(seen.details.get('code') or 0)
        self.close_code.value.set_text(str(code))  # a code, not a quantity: no thousands separator
        self.close_code.value.props(f'data-value={code}')
        clean = bool(seen.details.get('clean'))
        self.close_clean.value.set_text('yes' if clean else 'no: the connection just broke')
        self.close_clean.value.props(f'data-value={"true" if clean else "false"}')

    def _take_backpressure(self, event: events.GenericEventArguments) -> None:
        if event.args.get('error'):
            self.status.set_text(f'No burst: {event.args["error"]}.')
            return
        data = self.chart.options['series'][0]['data']
        data.extend([round(at, 1), round(buffered / 1024, 1)] for at, buffered in event.args.get('samples', []))
        del data[:-BACKPRESSURE_POINTS]
        self.chart.update()
        if data:
            peak = max(point[1] for point in data) * 1024
            self.peak.show(peak)
        if event.args.get('done') and data:
            self.drained.show(data[-1][0])

    def _take_compression(self, event: events.GenericEventArguments) -> None:
        entries = self.session.frame_entries(self.compression_since)
        for run in event.args.get('runs', []):
            setting = 'on' if run.get('deflate') else 'off'
            measured = wire_bytes(entries, str(run.get('reason', '')))
            for key in ('out', 'in', 'compressed'):
                cell = self.compression[f'{setting}-{key}']
                if measured is None:
                    cell.set_text('not measured')
                    continue
                value = measured[key]
                cell.set_text(('yes' if value else 'no') if key == 'compressed' else f'{value:,}')
                cell.props(f'data-value={value}')

    def _take_motion(self, event: events.GenericEventArguments) -> None:
        reduced = bool(event.args.get('reduced'))
        self.chart.options['animation'] = not reduced
        self.chart.props(f'data-motion={"reduced" if reduced else "full"}')
        self.chart.update()
