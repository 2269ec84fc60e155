"""The handshake computed: ``Sec-WebSocket-Accept`` worked out again from the echo console's last handshake.

The echo server does the arithmetic (:func:`demos.protocol.handshake.check_handshake`) on the request and response it
really exchanged and sends the steps in the ``handshake`` message of the page's inspection stream;
``handshake_panel.js`` shows each step and the verdict. The page server only builds it.
"""

from __future__ import annotations

from collections.abc import Mapping

from nicegui import ui

from demos.protocol.handshake import GUID
from lesson.panels.panel_texts import checked_texts
from lesson.panels.setup import DemoSetup

TEXT_KEYS: tuple[str, ...] = (
    'step_key',
    'step_guid',
    'step_key_with_guid',
    'step_sha1',
    'step_expected',
    'step_server_accept',
    'no_accept',
    'waiting',
    'match',
    'mismatch',
    'unreadable',
)


class HandshakePanel(ui.element, component='handshake_panel.js'):
    TEXT_KEYS = TEXT_KEYS

    def __init__(self, setup: DemoSetup, texts: Mapping[str, str]) -> None:
        super().__init__()
        self._props['setup'] = setup.as_props()
        self._props['texts'] = checked_texts('handshake', TEXT_KEYS, texts)
        self._props['guid'] = GUID
