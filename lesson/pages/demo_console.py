"""The echo console: one WebSocket to /echo that the learner opens, uses and closes by hand.

The browser side is demos/static/echo_console.js; it reports each event with `demo_console`. This panel
logs them (as text: whatever comes back from the echo is never read as HTML), shows the opening handshake
as the server saw it, and redraws the lesson's sequence diagram from what actually happened.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nicegui import events, ui

from demos.echo_server import EchoServer

from .demo_live_log import LiveLog

DIAGRAM_EVENTS = 14  # the newest events drawn; older ones stay in the log
LOG_ENTRIES = 200
DEFAULT_MESSAGE = 'Hello, echo!'

# Mermaid reads its own syntax in message text (`;`, `#`, `:` …); keep the diagram to plain characters.
_DIAGRAM_UNSAFE = re.compile(r"[^A-Za-z0-9 .,!?()'_/=-]")

# Who speaks in each event: browser to server, server to browser, or a note on the browser's side.
_DIRECTIONS = {'connecting': '→', 'sent': '→', 'closing': '→', 'open': '←', 'received': '←', 'close': '←'}


@dataclass(frozen=True)
class ConsoleEvent:
    kind: str
    at: float
    ready_state: str
    details: dict[str, Any]

    @property
    def direction(self) -> str:
        return _DIRECTIONS.get(self.kind, '·')

    @property
    def text(self) -> str:
        return str(self.details.get('text', ''))

    def describe(self) -> str:
        """One log line, for reading (the echoed text itself is shown apart, as text)."""
        match self.kind:
            case 'connecting':
                return f'opening the handshake: GET {self.details.get("url", "")}'
            case 'open':
                extensions = self.details.get('extensions') or 'no extensions'
                return f'open: 101 Switching Protocols ({extensions})'
            case 'sent':
                return 'sent a text frame:'
            case 'received':
                return 'received a text frame:'
            case 'closing':
                return f'sent a close frame (code {self.details.get("code")}, “{self.details.get("reason")}”)'
            case 'close':
                clean = 'clean' if self.details.get('clean') else 'not clean: the connection just broke'
                reason = self.details.get('reason') or 'no reason given'
                return f'close: code {self.details.get("code")}, “{reason}” ({clean})'
            case 'reconnecting':
                return (f'the server is gone: trying again in {self.details.get("delay_ms")} ms '
                        f'(attempt {self.details.get("attempt")})')
            case 'error':
                return f'error: {self.text}' if self.text else 'error'
            case kind:
                return kind

    def diagram_line(self) -> str | None:
        text = _DIAGRAM_UNSAFE.sub('·', self.text)[:28]
        match self.kind:
            case 'connecting':
                return 'B->>S: GET /echo with Upgrade: websocket'
            case 'open':
                return 'S-->>B: 101 Switching Protocols'
            case 'sent':
                return f'B->>S: text frame {text}'
            case 'received':
                return f'S-->>B: text frame {text} (echo)'
            case 'closing':
                return f'B->>S: close frame {self.details.get("code")}'
            case 'close' if self.details.get('clean'):
                return f'S-->>B: close frame {self.details.get("code")}'
            case 'close':
                return f'Note over B,S: connection lost ({self.details.get("code")})'
            case 'reconnecting':
                return f'Note over B: retry in {self.details.get("delay_ms")} ms'
            case 'error':
                return 'Note over B: error'
        return None


def sequence_diagram(events_seen: list[ConsoleEvent]) -> str:
    lines = ['sequenceDiagram', '    participant B as Browser (this page)', '    participant S as Echo server']
    drawn = [line for event in events_seen if (line := event.diagram_line())][-DIAGRAM_EVENTS:]
    if not drawn:
        drawn = ['Note over B,S: press Connect']
    return '\n'.join(lines + [f'    {line}' for line in drawn])


def handshake_text(handshake: dict[str, Any] | None) -> str:
    if not handshake:
        return 'No handshake yet: press Connect.'
    request = [handshake['request_line'], *(f'{name}: {value}' for name, value in handshake['request_headers'])]
    response = [handshake['status_line'], *(f'{name}: {value}' for name, value in handshake['response_headers'])]
    return '\n'.join([*request, '', *response])


class EchoConsolePanel:
    def __init__(self, echo: EchoServer, session_id: str) -> None:
        self.echo = echo
        self.session_id = session_id
        self.events: list[ConsoleEvent] = []
        #: Called with each event the browser reports (e.g. the break-it panel watches the close codes).
        self.listeners: list[Callable[[ConsoleEvent], None]] = []
        self._build()
        ui.on('demo_console', self._take_event)

    def _build(self) -> None:
        with ui.row().classes('items-end gap-2 w-full flex-wrap'):
            ui.button('Connect', icon='power', on_click=lambda: ui.run_javascript('wsDemo.echoConsole.connect()')) \
                .mark('console-connect')
            self.message = ui.input('Message to send', value=DEFAULT_MESSAGE).classes('grow min-w-0') \
                .props('data-input=console-message').mark('console-message')
            ui.button('Send', icon='send', on_click=self._send).mark('console-send')
            ui.button('Disconnect', icon='power_off',
                      on_click=lambda: ui.run_javascript('wsDemo.echoConsole.disconnect()')) \
                .props('outline').classes('demo-outline').mark('console-disconnect')
        with ui.row().classes('items-center gap-2'):
            ui.label('readyState:').classes('text-sm opacity-80')
            self.ready_state = ui.label('CLOSED').classes('font-mono font-semibold') \
                .props('data-figure=ready-state data-value=CLOSED').mark('console-ready-state')
        with ui.element('div').classes('grid grid-cols-1 md:grid-cols-2 gap-4 w-full'):
            with ui.column().classes('min-w-0 gap-1'):
                self.log = LiveLog('Echo console log', 'console', max_entries=LOG_ENTRIES, classes='max-h-80')
                self.log.container.mark('console-log')
            with ui.column().classes('min-w-0 gap-1'):
                ui.label('The opening handshake, as the server saw it').classes('font-semibold')
                self.handshake = ui.label(handshake_text(None)) \
                    .classes('font-mono text-xs whitespace-pre-wrap break-all w-full') \
                    .props('data-handshake=echo').mark('console-handshake')
        ui.label("The same conversation as the lesson's diagram, drawn from what just happened").classes(
            'font-semibold mt-2')
        self.diagram = ui.mermaid(sequence_diagram([])).classes('w-full').mark('console-diagram')

    def _send(self) -> None:
        ui.run_javascript(f'wsDemo.echoConsole.send({json.dumps(self.message.value or "")})')

    def _take_event(self, event: events.GenericEventArguments) -> None:
        args = dict(event.args)
        seen = ConsoleEvent(kind=str(args.pop('kind', '')), at=float(args.pop('at', 0.0)),
                            ready_state=str(args.pop('ready_state', '')), details=args)
        self.events.append(seen)
        for listener in self.listeners:
            listener(seen)
        self.ready_state.set_text(seen.ready_state)
        self.ready_state.props(f'data-value={seen.ready_state}')
        self._log(seen)
        if seen.kind == 'open':
            self.show_handshake()
        self.diagram.set_content(sequence_diagram(self.events))

    def _log(self, seen: ConsoleEvent) -> None:
        started = self.events[0].at

        def build() -> None:
            with ui.row().classes('w-full gap-2 items-baseline flex-nowrap').props(f'data-log-kind={seen.kind}'):
                ui.label(f'+{(seen.at - started) / 1000:.3f} s').classes('font-mono opacity-70 shrink-0')
                ui.label(seen.direction).classes('shrink-0').props('aria-hidden=true')
                ui.label(_direction_name(seen)).classes('sr-only')
                with ui.column().classes('gap-0 min-w-0'):
                    ui.label(seen.describe()).classes('break-all')
                    if seen.kind in {'sent', 'received'}:
                        ui.label(seen.text).classes('font-mono break-all whitespace-pre-wrap') \
                            .props(f'data-log-text={seen.kind}')

        self.log.add(build, seen.describe())

    def show_handshake(self) -> None:
        session = self.echo.session(self.session_id)
        self.handshake.set_text(handshake_text(session.snapshot()['last_handshake']))


def _direction_name(seen: ConsoleEvent) -> str:
    return {'→': 'browser to server', '←': 'server to browser'}.get(seen.direction, 'in the browser')
