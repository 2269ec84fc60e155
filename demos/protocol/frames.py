"""Read WebSocket frames byte by byte, the way RFC 6455 section 5.2 draws them, for a learner to look inside.

Pure: bytes in, :class:`FrameInfo` out. Tapping a connection's bytes is the echo server's job.

A frame on the wire::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
    |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
    |N|V|V|V|       |S|             |   (if payload len==126/127)   |
    | |1|2|3|       |K|             |                               |
    +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
    |     Extended payload length continued, if payload len == 127  |
    + - - - - - - - - - - - - - - - +-------------------------------+
    |                               |Masking-key, if MASK set to 1  |
    +-------------------------------+-------------------------------+
    | Masking-key (continued)       |          Payload Data         |
    +-------------------------------- - - - - - - - - - - - - - - - +

:func:`decode_frame` reads one complete frame from the start of a buffer. :class:`FrameSplitter` reads a stream as TCP
delivers it, in chunks of any size, and keeps only a short preview of each payload, so a header announcing gigabytes
costs a counter, not gigabytes of memory.

The decoder reports what is on the wire rather than what a connection negotiated: RSV bits and reserved opcodes are
shown, not rejected, because extensions may give them a meaning. With permessage-deflate (RFC 7692) RSV1 is set on
the first frame of each compressed message and the payload is compressed, so the preview shows compressed bytes, not
the text that was sent. :class:`FrameError` is kept for bytes that cannot be a frame under any extension.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

# One hex-dump row: enough to watch a 4-byte masking key repeat four times, short enough for a log line.
PREVIEW_SIZE = 16

# RFC 6455 section 5.5: control frames carry at most 125 bytes, so their length always fits the 7-bit form.
MAX_CONTROL_PAYLOAD = 125

# 2 fixed bytes, up to 8 bytes of extended length, up to 4 bytes of masking key.
MAX_HEADER_SIZE = 14

OPCODE_NAMES: dict[int, str] = {
    0x0: 'continuation',
    0x1: 'text',
    0x2: 'binary',
    0x8: 'close',
    0x9: 'ping',
    0xA: 'pong',
}

LengthForm = Literal['7-bit', '16-bit', '64-bit']


class FrameError(ValueError):
    """Bytes that cannot be a WebSocket frame: the stream cannot be read any further.

    When raised by :meth:`FrameSplitter.feed`, :attr:`frames` holds the frames completed in that call before the
    malformed one, so a log loses nothing that was well-formed.
    """

    def __init__(self, message: str, frames: tuple[FrameInfo, ...] = ()) -> None:
        super().__init__(message)
        self.frames = frames


@dataclass(frozen=True)
class FrameInfo:
    """One frame's header, decoded field by field, with the start of its payload.

    Attributes:
        fin: FIN bit: this frame ends its message.
        rsv1: RSV1 bit; set by permessage-deflate on the first frame of a compressed message.
        rsv2: RSV2 bit, reserved for extensions.
        rsv3: RSV3 bit, reserved for extensions.
        opcode: The 4-bit opcode as a number; :attr:`opcode_name` says what it means.
        masked: MASK bit; every client-to-server frame is masked, no server-to-client frame is.
        masking_key: The 4 masking-key bytes, or ``None`` for an unmasked frame.
        payload_length: Payload size in bytes, as the header announces it.
        length_form: How the length was written: in the 7 bits of the second byte, or in 16 or 64 more bits.
        length_is_minimal: Whether the shortest form was used, as RFC 6455 requires; a longer one still decodes.
        header_size: Header size in bytes, from 2 (short, unmasked) to 14 (64-bit length, masked).
        wire_preview: The first bytes of the payload as they travelled, that is masked if the frame is masked.
        payload_preview: The same bytes unmasked: what the application receives (still compressed under RSV1).
        close_code: For a close frame with a body, the status code; otherwise ``None``.
        close_reason: For a close frame with a body, the reason text (often empty); otherwise ``None``.
    """

    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    opcode: int
    masked: bool
    masking_key: bytes | None
    payload_length: int
    length_form: LengthForm
    length_is_minimal: bool
    header_size: int
    wire_preview: bytes
    payload_preview: bytes
    close_code: int | None = None
    close_reason: str | None = None

    @property
    def opcode_name(self) -> str:
        """``continuation``, ``text``, ``binary``, ``close``, ``ping``, ``pong`` or ``reserved``."""
        return OPCODE_NAMES.get(self.opcode, 'reserved')

    @property
    def is_control(self) -> bool:
        """Whether this is a control frame (close, ping, pong, or a reserved opcode from 0x8 up)."""
        return self.opcode >= 0x8

    @property
    def frame_size(self) -> int:
        """Bytes the whole frame takes on the wire: header plus payload."""
        return self.header_size + self.payload_length


def apply_mask(data: bytes, masking_key: bytes) -> bytes:
    """XOR each byte with the masking key, repeated; the same call masks and unmasks (RFC 6455 section 5.3).

    ``data`` must start at the beginning of the payload, since byte *i* uses key byte *i* mod 4.
    """
    return bytes(byte ^ masking_key[index % 4] for index, byte in enumerate(data))


@dataclass(frozen=True)
class _Header:
    """Everything before the payload."""

    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    opcode: int
    masking_key: bytes | None
    payload_length: int
    length_form: LengthForm
    length_is_minimal: bool
    size: int


def _header_size(head: bytes | bytearray) -> int:
    """Total header size, as far as ``head`` tells: 2 until the second byte, which announces the rest, is known."""
    if len(head) < 2:
        return 2
    extended = {126: 2, 127: 8}.get(head[1] & 0x7F, 0)
    return 2 + extended + (4 if head[1] & 0x80 else 0)


def _parse_header(data: bytes | bytearray) -> _Header | None:
    """Decode the header at the start of ``data``, or return ``None`` if not all of it is there yet."""
    size = _header_size(data)
    if len(data) < size:
        return None
    first, second = data[0], data[1]
    fin = bool(first & 0x80)
    opcode = first & 0x0F
    length = second & 0x7F
    length_form: LengthForm = '7-bit'
    length_is_minimal = True
    offset = 2
    if length == 126:
        (length,) = struct.unpack_from('!H', data, offset)
        length_form, length_is_minimal = '16-bit', length > MAX_CONTROL_PAYLOAD
        offset += 2
    elif length == 127:
        (length,) = struct.unpack_from('!Q', data, offset)
        if length >> 63:
            raise FrameError('64-bit payload length has its most significant bit set, which RFC 6455 forbids')
        length_form, length_is_minimal = '64-bit', length > 0xFFFF
        offset += 8
    masking_key = bytes(data[offset : offset + 4]) if second & 0x80 else None

    if opcode >= 0x8:
        name = OPCODE_NAMES.get(opcode, f'reserved control 0x{opcode:x}')
        if length > MAX_CONTROL_PAYLOAD:
            raise FrameError(f'{name} frame announces {length} bytes; control frames carry at most 125')
        if not fin:
            raise FrameError(f'{name} frame without FIN; control frames cannot be fragmented')

    return _Header(
        fin=fin,
        rsv1=bool(first & 0x40),
        rsv2=bool(first & 0x20),
        rsv3=bool(first & 0x10),
        opcode=opcode,
        masking_key=masking_key,
        payload_length=length,
        length_form=length_form,
        length_is_minimal=length_is_minimal,
        size=size,
    )


def _bytes_to_keep(header: _Header, preview_size: int) -> int:
    """How much of the payload to hold: a close frame's whole body (at most 125 bytes) for its code, else a preview."""
    if header.opcode == 0x8:
        return header.payload_length
    return min(header.payload_length, preview_size)


def _frame_info(header: _Header, payload_start: bytes, preview_size: int) -> FrameInfo:
    """Combine a header with the first bytes of its payload, as they travelled."""
    unmasked = apply_mask(payload_start, header.masking_key) if header.masking_key is not None else payload_start
    close_code = close_reason = None
    if header.opcode == 0x8 and header.payload_length:
        # RFC 6455 section 5.5.1: an optional body of a 2-byte code, then a UTF-8 reason.
        if header.payload_length == 1:
            raise FrameError('close frame with a 1-byte body; a close code takes 2 bytes')
        close_code = int.from_bytes(unmasked[:2], 'big')
        try:
            close_reason = unmasked[2:].decode()
        except UnicodeDecodeError as error:
            raise FrameError(f'close reason is not valid UTF-8: {unmasked[2:]!r}') from error
    return FrameInfo(
        fin=header.fin,
        rsv1=header.rsv1,
        rsv2=header.rsv2,
        rsv3=header.rsv3,
        opcode=header.opcode,
        masked=header.masking_key is not None,
        masking_key=header.masking_key,
        payload_length=header.payload_length,
        length_form=header.length_form,
        length_is_minimal=header.length_is_minimal,
        header_size=header.size,
        wire_preview=payload_start[:preview_size],
        payload_preview=unmasked[:preview_size],
        close_code=close_code,
        close_reason=close_reason,
    )


def decode_frame(data: bytes, *, preview_size: int = PREVIEW_SIZE) -> tuple[FrameInfo, int] | None:
    """Decode the frame at the start of ``data``.

    Returns the frame and the number of bytes it took, or ``None`` if ``data`` does not hold all of it yet.

    Raises:
        FrameError: If the header is malformed or a close frame's body is.
    """
    header = _parse_header(data)
    if header is None or len(data) < header.size + header.payload_length:
        return None
    keep = _bytes_to_keep(header, preview_size)
    payload_start = bytes(data[header.size : header.size + keep])
    return _frame_info(header, payload_start, preview_size), header.size + header.payload_length


class FrameSplitter:
    """Cut a byte stream into frames, however TCP chunked it.

    Memory stays bounded whatever a header announces: the splitter holds at most one header and the first
    ``preview_size`` bytes of the current payload (a whole close body, at most 125 bytes, for its code), and counts
    the rest of the payload off without keeping it.

    After a :class:`FrameError` the stream has lost its framing; every later :meth:`feed` raises again.
    """

    def __init__(self, *, preview_size: int = PREVIEW_SIZE) -> None:
        """``preview_size``: how many payload bytes of each frame to keep for :attr:`FrameInfo.wire_preview`."""
        self.preview_size = preview_size
        self._buffer = bytearray()  # the header being read, then the payload bytes kept
        self._header: _Header | None = None
        self._payload_seen = 0  # payload bytes of the current frame consumed so far, kept or not
        self._failure: FrameError | None = None

    @property
    def buffered(self) -> int:
        """Bytes the splitter is holding right now."""
        return len(self._buffer)

    @property
    def at_frame_boundary(self) -> bool:
        """Whether the stream so far ends exactly after a frame, e.g. to tell if a dropped connection cut one."""
        return self._header is None and not self._buffer

    def feed(self, data: bytes) -> list[FrameInfo]:
        """Take the next chunk of the stream; return the frames it completed, in order.

        Raises:
            FrameError: If the stream holds a malformed frame, now or earlier.
        """
        if self._failure is not None:
            raise FrameError(f'the stream already failed: {self._failure}')
        frames: list[FrameInfo] = []
        try:
            self._split(memoryview(data), frames)
        except FrameError as error:
            error.frames = tuple(frames)
            self._failure = error
            raise
        return frames

    def _split(self, view: memoryview, frames: list[FrameInfo]) -> None:
        while True:
            if self._header is None:
                needed = _header_size(self._buffer)
                if len(self._buffer) < needed:
                    if not view:
                        return
                    # Take only the header's bytes: the payload must not land in the buffer unbounded.
                    take = needed - len(self._buffer)
                    self._buffer += view[:take]
                    view = view[take:]
                    continue  # the second byte may just have revealed a longer header
                self._header = _parse_header(self._buffer)
                self._buffer.clear()
                self._payload_seen = 0

            header = self._header
            assert header is not None  # parsed just above once the whole header was buffered
            take = min(header.payload_length - self._payload_seen, len(view))
            keep = _bytes_to_keep(header, self.preview_size) - self._payload_seen
            if keep > 0:
                self._buffer += view[: min(take, keep)]
            self._payload_seen += take
            view = view[take:]
            if self._payload_seen < header.payload_length:
                return  # view is used up; the payload goes on in a later chunk
            payload_start = bytes(self._buffer)
            self._header = None
            self._buffer.clear()
            frames.append(_frame_info(header, payload_start, self.preview_size))


def describe(frame: FrameInfo) -> str:
    """One line for a learner, e.g. ``text, FIN, masked with 1a2b3c4d, 16-bit length 126, header 8 bytes``."""
    if frame.opcode_name == 'reserved':
        parts = [f'reserved opcode 0x{frame.opcode:x}']
    elif frame.close_code is not None:
        parts = [f'close {frame.close_code}' + (f' {frame.close_reason!r}' if frame.close_reason else '')]
    elif frame.opcode == 0x8:
        parts = ['close without a code']
    else:
        parts = [frame.opcode_name]
    parts.append('FIN' if frame.fin else 'not final')
    parts += [name for name, bit in (('RSV1', frame.rsv1), ('RSV2', frame.rsv2), ('RSV3', frame.rsv3)) if bit]
    parts.append(f'masked with {frame.masking_key.hex()}' if frame.masking_key is not None else 'unmasked')
    minimal = '' if frame.length_is_minimal else ' (longer form than needed)'
    parts.append(f'{frame.length_form} length {frame.payload_length}{minimal}')
    parts.append(f'header {frame.header_size} bytes')
    return ', '.join(parts)
