"""Break it and watch: the server closes, drops, pings and stops reading on purpose; the browser's side shows.

``break_it_panel.js`` asks the echo server over the page's inspection stream (``close_echo``, ``drop_echo``,
``ping_echo``, ``pause_echo``) and runs the browser's half of the two experiments that need one with
``demos/static/break_it.js``: a burst of sends while the server does not read (``bufferedAmount`` drawn with the
server's pause and resume marked), and the same messages without and with permessage-deflate, their frame bytes
counted from the frame log. The page server only builds it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from nicegui import ui

from demos.server.break_it import CLOSE_CODES
from demos.server.echo_server import EchoSettings
from lesson.panels.panel_texts import checked_texts
from lesson.panels.setup import DemoSetup

#: The codes the learner picks from (1000 has its own button): the server's list, so the two never disagree.
PICKED_CLOSE_CODES = tuple(code for code in sorted(CLOSE_CODES) if code != 1000)

TEXT_KEYS: tuple[str, ...] = (
    'closing_title',
    'close_clean',
    'close_code_label',
    *(f'close_code_{code}' for code in PICKED_CLOSE_CODES),
    'close_picked',
    'drop',
    'last_close_code',
    'last_close_clean',
    'clean_yes',
    'clean_no',
    'reconnect_failed',
    'no_close_yet',
    'connecting_first',
    'no_connection',
    'closing',
    'closed',
    'dropped',
    'failed',
    'ping_title',
    'ping',
    'ping_sent',
    'pong',
    'no_pong',
    'ping_round_trip',
    'backpressure_title',
    'burst',
    'burst_explain',
    'burst_note',
    'chart_label',
    'chart_empty',
    'chart_x',
    'chart_y',
    'chart_paused',
    'chart_resumed',
    'peak',
    'at_resume',
    'kernels_took',
    'drained',
    'bytes_unit',
    'ms_unit',
    'burst_pausing',
    'burst_waiting',
    'burst_resumed',
    'burst_error',
    'compression_title',
    'compare',
    'compression_setting_off',
    'compression_setting_on',
    'compression_chars',
    'compression_out',
    'compression_in',
    'compression_compressed',
    'compression_measuring',
    'compression_not_measured',
    'compression_yes',
    'compression_no',
    'compression_empty',
)

#: How long the server stops reading for the burst.
PAUSE_S = 3.0
#: Messages in the burst: within the server's burst allowance (EchoSettings.message_burst, 100 at once), or it
#: would close the connection with 1008 instead of showing back-pressure.
BURST_COUNT = 80
#: Bytes per message, at most the server's largest message: 80 of them are more than the kernels' socket buffers
#: take in on loopback, so some of the burst is left in bufferedAmount until the server reads again.
BURST_SIZE = 60_000

_SYMBOLS = ('ACME', 'GLOBEX', 'INITECH', 'UMBRELLA', 'HOOLI', 'STARK')
#: The same five messages over both connections: JSON as a live feed sends it, repetitive as real JSON is.
COMPRESSION_MESSAGES = tuple(
    json.dumps(
        {
            'type': 'prices',
            'seq': seq,
            'items': [
                {'symbol': symbol, 'price': round(100 + seq * 0.25 + index * 7.5, 2), 'currency': 'EUR'}
                for index, symbol in enumerate(_SYMBOLS)
            ],
        },
        separators=(',', ':'),
    )
    for seq in range(1, 6)
)


@dataclass(frozen=True)
class BurstPlan:
    """The back-pressure experiment: ``count`` messages of ``size`` bytes while the server pauses ``pause_s``."""

    count: int
    size: int
    pause_s: float

    @classmethod
    def for_server(cls, max_message_bytes: int, message_burst: int) -> BurstPlan:
        """Within what the echo server accepts, so the burst shows back-pressure, not a refusal."""
        return cls(count=min(BURST_COUNT, message_burst), size=min(BURST_SIZE, max_message_bytes), pause_s=PAUSE_S)

    def as_props(self) -> dict[str, float]:
        return {'count': self.count, 'size': self.size, 'pauseS': self.pause_s}


class BreakItPanel(ui.element, component='break_it_panel.js'):
    TEXT_KEYS = TEXT_KEYS

    def __init__(
        self,
        setup: DemoSetup,
        texts: Mapping[str, str],
        *,
        max_message_bytes: int = EchoSettings.max_message_bytes,
        message_burst: int = EchoSettings.message_burst,
    ) -> None:
        super().__init__()
        self._props['setup'] = setup.as_props()
        self._props['texts'] = checked_texts('break_it', TEXT_KEYS, texts)
        self._props['burstPlan'] = BurstPlan.for_server(max_message_bytes, message_burst).as_props()
        self._props['compressionMessages'] = list(COMPRESSION_MESSAGES)
        self._props['closeCodes'] = list(PICKED_CLOSE_CODES)
