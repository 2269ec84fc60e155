"""The browser's log channel (NiceGUI's socket.io ``log`` event), filtered: known levels only, at most WARNING,
control characters escaped, length capped, a budget per browser page and one per address (a script opening many
pages from one machine), the notice of dropped lines once a minute per address (:mod:`lesson.web.outsider_log`)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from demos.protocol.limits import AddressRateLimiter
from lesson.web.outsider_log import outsider_warning

#: Longest browser log line kept; NiceGUI's own messages (a JavaScript error with its stack) fit.
MAX_LOG_LINE = 500
#: Lines one browser page may log per minute; beyond, they are dropped (one line says so).
LOG_LINES_PER_MINUTE = 20
#: Lines all the pages of one address may log per minute: a class behind one router logs little (JavaScript errors),
#: a script opening pages in a loop would otherwise get 20 lines a minute per page.
LOG_LINES_PER_MINUTE_PER_ADDRESS = 200
_LEVELS = {
    'debug': logging.DEBUG,
    'info': logging.INFO,
    'warning': logging.WARNING,
    # a browser's "error" is its own claim about itself: it never raises an alarm at ERROR here
    'error': logging.WARNING,
}
_CONTROL = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029]')
browser_log = logging.getLogger('lesson.browser')


def clean_log_line(raw: object) -> str:
    """A browser's message made safe for one log line: control characters (newlines, ANSI escapes) escaped as
    ``\\xNN``, so nobody can forge extra lines or colour a terminal, and capped at :data:`MAX_LOG_LINE`."""
    text = raw if isinstance(raw, str) else repr(raw)
    text = _CONTROL.sub(lambda match: f'\\x{ord(match.group()):02x}', text)
    return text if len(text) <= MAX_LOG_LINE else text[:MAX_LOG_LINE] + f'... ({len(text) - MAX_LOG_LINE} more)'


@dataclass
class LogBudget:
    """At most ``per_minute`` lines per browser page in each minute; the first drop is reported once."""

    per_minute: int = LOG_LINES_PER_MINUTE
    clock: Callable[[], float] = time.monotonic
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def allow(self, client_id: str) -> bool | None:
        """True: log it. None: the first one over budget (say so once). False: drop silently."""
        now = self.clock()
        started, count = self._windows.get(client_id, (now, 0))
        if now - started >= 60:
            started, count = now, 0
        if len(self._windows) > 10_000:  # bounded memory whatever the number of pages
            self._windows.clear()
        self._windows[client_id] = (started, count + 1)
        if count < self.per_minute:
            return True
        return None if count == self.per_minute else False


def browser_log_handler(
    budget: LogBudget, per_address: AddressRateLimiter | None = None
) -> Callable[[str, object], None]:
    """Replacement for NiceGUI's ``log`` socket.io handler (which logs any text at any level and raises
    KeyError on an unknown level)."""
    from nicegui import Client

    address_lines = per_address or AddressRateLimiter(LOG_LINES_PER_MINUTE_PER_ADDRESS)

    def on_log(_: str, msg: object) -> None:
        if not isinstance(msg, dict):
            return
        client_id, level = msg.get('client_id'), msg.get('level')
        if not isinstance(client_id, str) or level not in _LEVELS or client_id not in Client.instances:
            return  # unknown page or level: nothing a NiceGUI page of ours sends
        address = Client.instances[client_id].ip or 'unknown'
        allowed = budget.allow(client_id)
        if allowed and address_lines.allow(address):
            browser_log.log(_LEVELS[level], 'browser %s: %s', client_id[:8], clean_log_line(msg.get('message')))
        elif allowed is not False:  # the first line over a page's budget, or any over its address's
            outsider_warning(
                browser_log,
                'browser log over budget',
                'browser %s: too many log lines from this page or its address, the rest of this minute is dropped',
                clean_log_line(client_id)[:40],
                address=address,
            )

    return on_log


def filter_browser_log() -> None:
    """Put :func:`browser_log_handler` in place of NiceGUI's own handler of the ``log`` event."""
    from nicegui import core

    core.sio.on('log', handler=browser_log_handler(LogBudget()))
