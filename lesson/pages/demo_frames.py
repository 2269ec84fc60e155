"""Frame anatomy and the handshake computed: what the echo server read off the socket, field by field.

The server's frame log (:mod:`demos.frame_log`, read in-process with ``session.frame_entries(since)``) is polled
on a timer; each new frame becomes one entry of a live log. The handshake panel recomputes
``Sec-WebSocket-Accept`` from the last echo handshake with :func:`demos.handshake.check_handshake`, in Python,
exactly as the check runs on the server side (the browser does the same check, unseen, before ``onopen``).
"""

from __future__ import annotations

import json
from typing import Any

from nicegui import ui

from demos.echo_server import EchoServer
from demos.handshake import GUID, HandshakeError, check_handshake

from .demo_live_log import LiveLog

FRAME_POLL_S = 0.5
FRAME_LOG_ENTRIES = 60
SHOWN_PER_BATCH = 30  # a burst logs a hundred frames at once; the newest of them are enough to look at
SIZED_MESSAGES = (125, 126, 65_536)

LENGTH_FORMS = {
    '7-bit': 'the 7-bit field holds the length itself (0 to 125)',
    '16-bit': 'the 7-bit field says 126, the next 2 bytes hold the length (126 to 65,535)',
    '64-bit': 'the 7-bit field says 127, the next 8 bytes hold the length (65,536 and more)',
}


def spaced_hex(hex_digits: str) -> str:
    """'48656c' -> '48 65 6c': one byte per group, as a hex dump shows it."""
    return ' '.join(hex_digits[i:i + 2] for i in range(0, len(hex_digits), 2)) or '(none)'


def as_text(hex_digits: str) -> str:
    """The bytes as ASCII, a dot for anything not printable (the preview may cut a UTF-8 character)."""
    return ''.join(chr(byte) if 32 <= byte < 127 else '·' for byte in bytes.fromhex(hex_digits))


def frame_lines(entry: dict[str, Any]) -> list[str]:
    """What one frame's entry shows, one line per part of the header, for reading (pure, tested without a page)."""
    bit = lambda flag: '1' if flag else '0'  # noqa: E731
    masked = entry['masked']
    lines = [
        f'FIN {bit(entry["fin"])} · RSV1 {bit(entry["rsv1"])} RSV2 {bit(entry["rsv2"])} RSV3 {bit(entry["rsv3"])}'
        f' · opcode 0x{entry["opcode"]:x} ({entry["opcode_name"]})'
        f' · MASK {bit(masked)}' + (f', masking key {entry["masking_key"]}' if masked else ''),
        f'payload length {entry["payload_length"]:,} in the {entry["length_form"]} form: '
        f'{LENGTH_FORMS[entry["length_form"]]}',
        f'header {entry["header_size"]} bytes, frame {entry["frame_size"]:,} bytes on the wire',
    ]
    if entry['close_code'] is not None:
        reason = f' “{entry["close_reason"]}”' if entry['close_reason'] else ''
        lines.append(f'close code {entry["close_code"]}{reason}')
    if entry['payload_length']:
        lines.append(f'first bytes as sent{" (masked)" if masked else ""}: {spaced_hex(entry["wire_preview"])}')
        if masked:
            lines.append(f'unmasked (XOR with the key): {spaced_hex(entry["payload_preview"])}')
        if entry['rsv1']:
            lines.append('(RSV1: compressed with permessage-deflate, so these are deflate bytes, not the text)')
        else:
            lines.append(f'as text: {as_text(entry["payload_preview"])}')
    return lines


def frame_heading(entry: dict[str, Any]) -> str:
    who = 'browser → server' if entry['direction'] == 'client→server' else 'server → browser'
    return f'#{entry["index"]} · connection {entry["connection"]} · {who} · {entry["opcode_name"]}'


class FramePanel:
    """Buttons that send the three length forms, and the frame log of the session's echo connections."""

    def __init__(self, echo: EchoServer, session_id: str) -> None:
        self.echo = echo
        self.session_id = session_id
        self.next_index = 0
        with ui.row().classes('items-center gap-2 w-full flex-wrap'):
            for size in SIZED_MESSAGES:
                ui.button(f'Echo {size:,} bytes', icon='straighten',
                          on_click=lambda size=size: ui.run_javascript(f'wsDemo.echoConsole.sendSized({size})')) \
                    .props(f'no-caps data-send-size={size}').mark(f'frames-send-{size}')
        ui.label('Each button connects the console if needed, then sends a message of exactly that many bytes; '
                 'its echo comes back the same size.').classes('text-sm opacity-80')
        self.log = LiveLog('Frame log', 'frames', max_entries=FRAME_LOG_ENTRIES, classes='max-h-[32rem] gap-2')
        self.log.container.mark('frame-log')
        with self.log.container:
            ui.label('No frames yet: connect the console and send something.').classes('opacity-70')
        ui.timer(FRAME_POLL_S, self.poll)

    def poll(self) -> None:
        session = self.echo.session(self.session_id)
        session.watch_frames()  # again: a session the server forgot (idle, or evicted) comes back unwatched
        entries = session.frame_entries(self.next_index)
        if not entries:
            return
        if self.next_index == 0:
            self.log.container.clear()  # the placeholder
        self.next_index = entries[-1]['index'] + 1
        skipped = len(entries) - SHOWN_PER_BATCH
        if skipped > 0:
            self.log.add(lambda: ui.label(f'({skipped} frames in a row not shown: the newest follow)')
                         .classes('opacity-70'), f'{skipped} frames not shown')
        for entry in entries[-SHOWN_PER_BATCH:]:
            self.log.add(lambda entry=entry: self._show(entry), frame_heading(entry))

    @staticmethod
    def _show(entry: dict[str, Any]) -> None:
        outgoing = entry['direction'] == 'client→server'
        attributes = {
            'data-frame-index': entry['index'],
            'data-direction': 'client-to-server' if outgoing else 'server-to-client',
            'data-opcode': entry['opcode_name'], 'data-length-form': entry['length_form'],
            'data-payload-length': entry['payload_length'], 'data-header-size': entry['header_size'],
            'data-masked': 'true' if entry['masked'] else 'false',
            'data-close-code': entry['close_code'] if entry['close_code'] is not None else '',
        }
        props = ' '.join(f'{name}={json.dumps(str(value))}' for name, value in attributes.items())
        border = 'demo-frame-out' if outgoing else 'demo-frame-in'
        with ui.column().classes(f'demo-frame {border} w-full gap-0 pl-2').props(props):
            ui.label(frame_heading(entry)).classes('font-semibold')
            for line in frame_lines(entry):
                ui.label(line).classes('font-mono text-xs break-all')


class HandshakePanel:
    """The last echo handshake's key, the GUID, SHA-1, base64, and whether the server's answer matches."""

    STEPS = (
        ('key', 'Sec-WebSocket-Key, chosen at random by the browser'),
        ('guid', 'The fixed GUID of RFC 6455, the same for every WebSocket'),
        ('key-with-guid', 'The key with the GUID appended: the text that is hashed'),
        ('sha1', 'SHA-1 of that text (20 bytes, in hex)'),
        ('expected', 'Those 20 bytes in base64: the answer the key requires'),
        ('server-accept', 'Sec-WebSocket-Accept, as the server sent it'),
    )

    def __init__(self, echo: EchoServer, session_id: str) -> None:
        self.echo = echo
        self.session_id = session_id
        self.shown_at: float | None = None
        self.values: dict[str, ui.label] = {}
        with ui.element('div').classes('grid gap-x-3 gap-y-2 w-full').style('grid-template-columns: minmax(0, 1fr)'):
            for name, label in self.STEPS:
                with ui.column().classes('gap-0 min-w-0'):
                    ui.label(label).classes('text-sm opacity-80')
                    self.values[name] = ui.label('—').classes('font-mono text-sm break-all') \
                        .props(f'data-handshake-step={name}')
        self.values['guid'].set_text(GUID)
        self.verdict = ui.label('No handshake yet: press Connect in the echo console.') \
            .classes('font-semibold').props('data-figure=handshake-match data-value="" aria-live=polite') \
            .mark('handshake-verdict')
        ui.timer(1.0, self.refresh)

    def refresh(self) -> None:
        handshake = self.echo.session(self.session_id).last_handshake
        if handshake is None or handshake.at == self.shown_at:
            return
        self.shown_at = handshake.at
        try:
            check = check_handshake(handshake.request_headers, handshake.response_headers)
        except HandshakeError as error:
            self.verdict.set_text(f'This handshake cannot be checked: {error}')
            self.verdict.props('data-value=unreadable')
            return
        for name, value in (('key', check.key), ('key-with-guid', check.key_with_guid), ('sha1', check.sha1_hex),
                            ('expected', check.expected_accept), ('server-accept', check.server_accept or '(none)')):
            self.values[name].set_text(value)
        if check.matches:
            self.verdict.set_text('They match: the server proved it read this very request as a WebSocket upgrade.')
        else:
            self.verdict.set_text('They differ: a browser would refuse this connection.')
        self.verdict.props(f'data-value={"match" if check.matches else "mismatch"}')
