"""When the server goes away: the learner takes the echo server down for a few seconds and watches it come back.

``restart_panel.js`` asks over the page's inspection stream (``restart``), which the echo server refuses when a
class shares it (``DemoSetup.may_restart`` is then false and the button is off, with the reason). The page server
only builds it.
"""

from __future__ import annotations

from collections.abc import Mapping

from nicegui import ui

from lesson.panels.panel_texts import checked_texts
from lesson.panels.setup import DemoSetup

TEXT_KEYS: tuple[str, ...] = ('button', 'down', 'back', 'failed', 'switched_off')

#: Long enough to see the push socket and the console back off and retry, short enough to wait for.
DOWNTIME_S = 3.0


class RestartPanel(ui.element, component='restart_panel.js'):
    TEXT_KEYS = TEXT_KEYS

    def __init__(self, setup: DemoSetup, texts: Mapping[str, str], *, downtime_s: float = DOWNTIME_S) -> None:
        super().__init__()
        self._props['setup'] = setup.as_props()
        self._props['texts'] = checked_texts('restart', TEXT_KEYS, texts)
        self._props['seconds'] = downtime_s
