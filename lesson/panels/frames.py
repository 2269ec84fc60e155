"""The frame log panel: every frame of the echo console's connection as the server read it off the socket.

The browser side is ``frames_panel.js``: it takes the ``frames`` messages of the page's inspection stream
(:mod:`demos.server.inspection`, entries of :func:`demos.server.frame_log.frame_entry`) and shows each
header field by field; its
three buttons send 125, 126 and 65,536 bytes through the shared echo console, one per length form. The page
server only builds it.
"""

from __future__ import annotations

from collections.abc import Mapping

from nicegui import ui

from lesson.panels.panel_texts import checked_texts
from lesson.panels.setup import DemoSetup

TEXT_KEYS: tuple[str, ...] = (
    'send_button',
    'send_hint',
    'log_title',
    'log_empty',
    'left_out',
    'pause',
    'resume',
    'pause_label',
    'resume_label',
    'paused_empty',
    'held',
    'newer_below',
    'to_server',
    'to_browser',
    'heading',
    'line_bits',
    'masking_key',
    'line_length',
    'form_7',
    'form_16',
    'form_64',
    'line_sizes',
    'line_close',
    'close_reason',
    'line_wire',
    'wire_masked',
    'line_unmasked',
    'line_compressed',
    'line_text',
    'no_bytes',
)


class FramesPanel(ui.element, component='frames_panel.js'):
    TEXT_KEYS = TEXT_KEYS

    def __init__(self, setup: DemoSetup, texts: Mapping[str, str]) -> None:
        super().__init__()
        self._props['setup'] = setup.as_props()
        self._props['texts'] = checked_texts('frames', TEXT_KEYS, texts)
