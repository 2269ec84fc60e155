"""The class board's push-delay line (``board_delay.js``): the server hands it the answers' times, the browser
measures when the new bars arrived."""

from __future__ import annotations

from collections.abc import Sequence

from nicegui import ui


class BoardDelay(ui.element, component='board_delay.js'):
    def __init__(self, clock_url: str) -> None:
        super().__init__()
        self._props['clock-url'] = clock_url
        self._props['stamp'] = {'seq': 0, 'answers': [], 'sent': 0}
        self._seq = 0

    def stamp(self, answers_at_ms: Sequence[float], sent_ms: float) -> None:
        """Send with this update the app's times (epoch ms) of the answers it shows for the first time, and the
        time it was sent (so the browser can tell the page server's share of the delay from the network's)."""
        self._seq += 1
        self._props['stamp'] = {'seq': self._seq, 'answers': list(answers_at_ms), 'sent': sent_ms}
        self.update()
