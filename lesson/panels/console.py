"""The echo console panel: one WebSocket the learner opens, uses and closes by hand, logged and drawn live.

The browser side is ``console_panel.js`` over ``demos/static/echo_console.js``; the handshake as the server saw it
comes from the page's inspection stream. The page server only builds it.
"""

from __future__ import annotations

from collections.abc import Mapping

from nicegui import ui

from lesson.panels.setup import DemoSetup

TEXT_KEYS = (
    'connect',
    'send',
    'disconnect',
    'message',
    'default_message',
    'ready_state',
    'log',
    'log_empty',
    'newer_below',
    'pause',
    'resume',
    'paused',
    'handshake',
    'handshake_empty',
    'diagram',
    'diagram_empty',
    'diagram_gap',
    'browser',
    'server',
)


class EchoConsolePanel(ui.element, component='console_panel.js'):
    def __init__(self, setup: DemoSetup, texts: Mapping[str, str]) -> None:
        super().__init__()
        self._props['setup'] = setup.as_props()
        self._props['texts'] = dict(texts)
