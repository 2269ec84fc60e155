"""The class board's push-delay line (``board_delay.js``): the server hands it the answers' times, the browser
measures when the new bars arrived."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from nicegui import ui

#: Answers kept in the prop: two updates can land in one browser tick (Vue then runs the watcher once, with the
#: newer value), so each update carries the recent answers, numbered, and the browser measures the ones it has not.
RECENT_ANSWERS = 100


class BoardDelay(ui.element, component='board_delay.js'):
    def __init__(self, clock_url: str) -> None:
        super().__init__()
        self._props['clock-url'] = clock_url
        self._recent: deque[list[float]] = deque(maxlen=RECENT_ANSWERS)
        self._props['stamp'] = {'answers': []}
        self._number = 0

    def stamp(self, answers_at_ms: Sequence[float], sent_ms: float) -> None:
        """Send with this update the app's times (epoch ms) of the answers it shows for the first time, and the
        time it was sent (so the browser can tell the page server's share of the delay from the network's)."""
        fresh = []
        for at_ms in answers_at_ms:
            self._number += 1
            fresh.append([self._number, at_ms, sent_ms])
        # the whole batch however large (the board draws a class's answers together), after the recent ones
        self._props['stamp'] = {'answers': [*self._recent, *fresh]}
        self._recent.extend(fresh)
        self.update()
