"""The echo lane's frame log: every frame as the server's socket really received and sent it.

:class:`FrameTap` sits where :mod:`demos.server.counting` counts bytes, so it reads exactly what crossed the socket:
in each direction it skips the HTTP head of the opening handshake (the request, the ``101`` answer) and cuts
the rest into frames with a :class:`~demos.protocol.frames.FrameSplitter`. It sees control frames (ping, pong, close)
that the application never does, the mask on every client frame and the length forms as the peer wrote them.

:class:`FrameLog` keeps the last entries of one demo session as plain dicts, numbered, so the page can poll
``entries(since=n)`` cheaply. Bounded twice: a log holds :data:`DEFAULT_LOG_SIZE` entries and each entry only
the first :data:`~demos.protocol.frames.PREVIEW_SIZE` bytes of its payload, whatever the frame carried.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from demos.protocol.feed import epoch_ms
from demos.protocol.frames import FrameError, FrameInfo, FrameSplitter, describe

log = logging.getLogger(__name__)

#: Entries one session's log keeps: enough for a learner to scroll back through a few exchanges.
DEFAULT_LOG_SIZE = 200

#: Longest HTTP head the tap waits through; websockets refuses longer requests long before this.
MAX_HEAD_SIZE = 256 * 1024

#: Frames a tap holds before a log is attached (the client may send right behind its request).
MAX_PENDING = 16

CLIENT_TO_SERVER = 'client→server'
SERVER_TO_CLIENT = 'server→client'

_HEAD_END = b'\r\n\r\n'


def frame_entry(frame: FrameInfo) -> dict[str, Any]:
    """A frame as plain JSON-ready data: every header field, the previews in hex, a one-line description."""
    return {
        'opcode': frame.opcode,
        'opcode_name': frame.opcode_name,
        'fin': frame.fin,
        'rsv1': frame.rsv1,
        'rsv2': frame.rsv2,
        'rsv3': frame.rsv3,
        'masked': frame.masked,
        'masking_key': frame.masking_key.hex() if frame.masking_key is not None else None,
        'payload_length': frame.payload_length,
        'length_form': frame.length_form,
        'length_is_minimal': frame.length_is_minimal,
        'header_size': frame.header_size,
        'frame_size': frame.frame_size,
        'wire_preview': frame.wire_preview.hex(),
        'payload_preview': frame.payload_preview.hex(),
        'close_code': frame.close_code,
        'close_reason': frame.close_reason,
        'summary': describe(frame),
    }


class FrameLog:
    """The last ``size`` frames of one session's echo connections, numbered from 0 in the order seen.

    Each entry is ``{"index", "at", "connection", "direction", **frame_entry(frame)}``: ``at`` in epoch ms,
    ``connection`` the session's echo connection number (1, 2, ... in the order they opened), ``direction``
    :data:`CLIENT_TO_SERVER` or :data:`SERVER_TO_CLIENT`.
    """

    def __init__(self, size: int = DEFAULT_LOG_SIZE, clock: Callable[[], float] = epoch_ms) -> None:
        if size < 1:
            raise ValueError(f'a frame log keeps at least 1 entry, not {size}')
        self.clock = clock
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._next_index = 0
        self._connections = 0

    @property
    def next_index(self) -> int:
        """The index the next entry will get: pass it as ``since`` to get only what is new."""
        return self._next_index

    def new_connection(self) -> int:
        """Number a new echo connection of the session."""
        self._connections += 1
        return self._connections

    def record(self, connection: int, direction: str, frame: FrameInfo, at: float | None = None) -> None:
        entry = {
            'index': self._next_index,
            'at': self.clock() if at is None else at,
            'connection': connection,
            'direction': direction,
            **frame_entry(frame),
        }
        self._entries.append(entry)
        self._next_index += 1

    def entries(self, since: int = 0) -> list[dict[str, Any]]:
        """Entries numbered ``since`` or later that are still kept, oldest first (copies: safe to hand out)."""
        if since >= self._next_index:
            return []
        first = self._entries[0]['index'] if self._entries else self._next_index
        start = max(since - first, 0)
        return [dict(self._entries[i]) for i in range(start, len(self._entries))]

    def clear(self) -> None:
        """Forget the entries; numbering goes on, so a page polling with ``since`` never sees an index twice."""
        self._entries.clear()


class _Direction:
    """One direction of a socket: the HTTP head first, then frames."""

    def __init__(self, name: str, needs_switch: bool) -> None:
        self.name = name
        # The response head must say 101: after any other answer no frames follow.
        self.needs_switch = needs_switch
        self.head = bytearray()  # while reading the head: what of it has come so far (bounded)
        self.splitter: FrameSplitter | None = None
        self.done = False

    def feed(self, data: bytes | bytearray | memoryview) -> list[FrameInfo]:
        if self.done:
            return []
        if self.splitter is None:
            data = bytes(data)
            searched_from = max(len(self.head) - 3, 0)
            self.head += data
            end = self.head.find(_HEAD_END, searched_from)
            if end < 0:
                if len(self.head) > MAX_HEAD_SIZE:
                    self.done = True
                return []
            head, rest = bytes(self.head[: end + 4]), bytes(self.head[end + 4 :])
            self.head = bytearray()
            if self.needs_switch and not head.startswith((b'HTTP/1.1 101 ', b'HTTP/1.0 101 ')):
                self.done = True
                return []
            self.splitter = FrameSplitter()
            data = rest
        try:
            return self.splitter.feed(bytes(data))
        except FrameError as error:
            # websockets closes such a connection itself (1002); the log keeps what was well-formed.
            log.info('frame log: the %s stream is not WebSocket frames any more: %s', self.name, error)
            self.done = True
            return list(error.frames)


class FrameTap:
    """Reads both directions of one connection's bytes into frames; records them once a log is attached.

    Feed it every chunk, from the first byte on: :meth:`received` what the socket received, :meth:`sent` what
    was written to it. Until :meth:`attach` the frames (if any) wait, at most :data:`MAX_PENDING` of them.
    """

    def __init__(self) -> None:
        self._received = _Direction(CLIENT_TO_SERVER, needs_switch=False)
        self._sent = _Direction(SERVER_TO_CLIENT, needs_switch=True)
        self._log: FrameLog | None = None
        self._connection = 0
        self._pending: list[tuple[float, str, FrameInfo]] = []

    def attach(self, frame_log: FrameLog) -> int:
        """Record into ``frame_log`` from now on (and what waited so far); returns the connection's number."""
        self._log = frame_log
        self._connection = frame_log.new_connection()
        for at, direction, frame in self._pending:
            frame_log.record(self._connection, direction, frame, at)
        self._pending.clear()
        return self._connection

    def received(self, data: bytes | bytearray | memoryview) -> None:
        self._record(self._received, data)

    def sent(self, data: bytes | bytearray | memoryview) -> None:
        self._record(self._sent, data)

    def _record(self, direction: _Direction, data: bytes | bytearray | memoryview) -> None:
        frames = direction.feed(data)
        if not frames:
            return
        if self._log is not None:
            for frame in frames:
                self._log.record(self._connection, direction.name, frame)
        else:
            at = epoch_ms()
            room = MAX_PENDING - len(self._pending)
            self._pending += [(at, direction.name, frame) for frame in frames[:room]]
