"""The one place that reaches into ``websockets``' internals, for the hooks its public API does not offer.

The echo server counts every byte and frame, limits pings and pongs, answers requests ``websockets`` cannot parse,
writes large echoes without a copy and hands a socket over to a Server-Sent Events stream. ``websockets`` has no
public hook for any of these, so :class:`AdaptedConnection` takes them at its internal seams, all of them here:

* ``protocol.recv_frame`` and ``protocol.send_frame`` are swapped per connection (a ping or pong is seen before the
  protocol answers it; a large frame is queued as header and payload, straight onto ``protocol.writes``);
* ``ServerConnection.process_event`` (the request has arrived) and ``send_data`` (a request head that failed to
  parse, seen through ``protocol.handshake_exc``, is answered and closed);
* :meth:`AdaptedConnection.hand_over` mutes the transport and calls ``ServerConnection.connection_lost`` although
  the socket stays open, so ``websockets`` ends the handshake and lets go;
* ``protocol.available_extensions`` and ``protocol.extensions`` (compression offered per connection, and agreed),
  ``protocol.accept_called`` and ``connection_lost_waiter``;
* the wording of ``websockets``' parse errors (:func:`head_error_answer`).

Written against ``websockets`` :data:`SUPPORTED_VERSIONS`; ``tests/server/test_websockets_internals.py`` checks each
seam on the installed version and fails, naming this module, when an upgrade moves one.
"""

from __future__ import annotations

import asyncio
import http
import struct
from collections.abc import Iterable, Sequence
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import HeaderLineTooLong, RequestLineTooLong, TooManyHeaders
from websockets.extensions.base import Extension, ServerExtensionFactory
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import OPEN, Event

#: The ``websockets`` releases these seams were written and tested against (pyproject.toml pins the same range).
SUPPORTED_VERSIONS = '>=17.4,<18'

#: Frames at least this large are written as header and payload, without a copy (see :meth:`AdaptedConnection`).
ZERO_COPY_FROM_BYTES = 4096

#: Parse errors ``websockets`` answers itself (414, 431); for the others it only closes the connection.
ANSWERED_BY_WEBSOCKETS = (RequestLineTooLong, HeaderLineTooLong, TooManyHeaders)


def head_error_answer(error: BaseException) -> tuple[http.HTTPStatus, str]:
    """The answer to a request head websockets could not parse: the status and why, for the client and the log."""
    if isinstance(error, RequestLineTooLong):
        return http.HTTPStatus.REQUEST_URI_TOO_LONG, 'request line too long'
    if isinstance(error, HeaderLineTooLong | TooManyHeaders):
        return http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, str(error)
    # websockets wraps the parser's error, sometimes twice ("connection closed while reading HTTP request line"
    # from "line without CRLF"): the innermost one says what was wrong.
    cause: BaseException = error
    while cause.__cause__ is not None:
        cause = cause.__cause__
    text = str(cause)
    if isinstance(cause, NotImplementedError):
        return http.HTTPStatus.BAD_REQUEST, 'Transfer-Encoding: this server takes no request body'
    if text.startswith('unsupported protocol'):
        return http.HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, 'speak HTTP/1.1 (an HTTP/2 preface or another version)'
    if text == 'unsupported request body':
        return http.HTTPStatus.BAD_REQUEST, 'Content-Length: this server takes no request body'
    if text == 'line without CRLF':
        return http.HTTPStatus.BAD_REQUEST, 'a line that does not end in CRLF (a bare LF)'
    if isinstance(cause, UnicodeDecodeError):
        return http.HTTPStatus.BAD_REQUEST, 'a request line that is not ASCII'
    # e.g. "invalid HTTP header value: ..." (a NUL in a header): websockets' own words, cut short
    return http.HTTPStatus.BAD_REQUEST, f'not a valid HTTP request ({text[:80]})'


class MutedTransport:
    """What websockets holds once its socket was handed over: writes and closes go nowhere."""

    def __init__(self, transport: Any) -> None:
        self.inner = transport

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        pass

    def write_eof(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def is_closing(self) -> bool:
        return True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.inner.get_extra_info(name, default)


class AdaptedConnection(ServerConnection):
    """A :class:`ServerConnection` with the hooks the echo server needs, taken at websockets' internal seams.

    Subclasses override the hooks (:meth:`control_frame_refusal`, :meth:`request_arrived`,
    :meth:`request_unparsable`) and use :meth:`hand_over`, :attr:`gone`, :meth:`offer_extensions`; they need
    not know how websockets is built inside.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: A request head was refused before websockets parsed it whole (unparsable, or too slow): once the
        #: answer is out, the connection is closed (websockets would only half-close it).
        self.head_refused = False
        self._receiving = False  # inside data_received: a parse error now means the client sent a bad request
        self._handed_over_to: asyncio.Protocol | None = None
        protocol = self.protocol
        self._library_recv_frame = protocol.recv_frame
        protocol.recv_frame = self._recv_frame  # type: ignore[method-assign]
        self._library_send_frame = protocol.send_frame
        protocol.send_frame = self._send_frame  # type: ignore[method-assign]

    # Hooks for subclasses.

    def control_frame_refusal(self) -> str | None:
        """Called for each ping or pong received on an open connection, before websockets answers it.

        Returns a reason to close the connection with 1008 instead, or None to let the frame through.
        """
        return None

    def request_arrived(self) -> None:
        """Called once the request head is parsed: from now on ``process_request`` and ``open_timeout`` apply."""

    def request_unparsable(self, error: BaseException, answered_by_websockets: bool) -> None:
        """Called once when websockets failed to parse the request head, before its EOF (or its 414/431) goes."""

    # What the subclasses and the server may ask.

    @property
    def handed_over(self) -> bool:
        return self._handed_over_to is not None

    @property
    def socket_transport(self) -> Any:
        """The transport this connection was made with, also after :meth:`hand_over` muted websockets' view."""
        transport = self.transport
        return transport.inner if isinstance(transport, MutedTransport) else transport

    @property
    def gone(self) -> asyncio.Future[None]:
        """Done when the TCP connection is lost (or was handed over)."""
        return self.connection_lost_waiter

    @property
    def answered_by_websockets(self) -> bool:
        """Whether websockets itself decided the handshake (``process_request`` let it through)."""
        return bool(self.protocol.accept_called)  # type: ignore[attr-defined]

    @property
    def is_open(self) -> bool:
        return self.protocol.state is OPEN

    @property
    def negotiated_extensions(self) -> list[Extension]:
        """The extensions the handshake agreed on (e.g. permessage-deflate), empty before it or without any."""
        return list(self.protocol.extensions)

    def offer_extensions(self, extensions: Sequence[ServerExtensionFactory]) -> None:
        """Offer ``extensions`` (e.g. permessage-deflate, or none) to this connection's client only.

        websockets reads them when it accepts the handshake, after ``process_request``.
        """
        self.protocol.available_extensions = list(extensions)  # type: ignore[attr-defined]

    def hand_over(self, protocol: asyncio.Protocol) -> Any:
        """Take the socket away from websockets and give it to ``protocol``, e.g. a Server-Sent Events stream.

        Call it from ``process_request``, after writing the response head yourself, then return any
        :class:`~websockets.http11.Response`: websockets is told the connection is gone, so it sends nothing,
        ends its handshake at once (its ``open_timeout`` no longer applies) and finds only a muted transport
        to close. This connection stays the socket's asyncio protocol; the socket's events (data, EOF, loss,
        write flow control) go on to ``protocol``, which writes through the returned transport and closes the
        socket when it is done.
        """
        transport = self.socket_transport
        self._handed_over_to = protocol
        self.transport = MutedTransport(transport)  # type: ignore[assignment]
        ServerConnection.connection_lost(self, None)
        protocol.connection_made(transport)
        return transport

    # websockets' internal seams.

    def process_event(self, event: Event) -> None:
        super().process_event(event)
        if isinstance(event, Request):
            self.request_arrived()

    def send_data(self) -> None:
        if self._receiving and self.request is None and not self.head_refused:
            error = self.protocol.handshake_exc
            if error is not None:
                self.head_refused = True
                self.request_unparsable(error, isinstance(error, ANSWERED_BY_WEBSOCKETS))
        super().send_data()
        if self.head_refused and self.request is None:
            # websockets only half-closes; a client that keeps its side open would hold the slot for open_timeout
            self.socket_transport.close()

    def _recv_frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.PING, Opcode.PONG) and self.protocol.state is OPEN:
            reason = self.control_frame_refusal()
            if reason is not None:
                # fail() sends the close frame and EOF and discards whatever else the client already sent.
                self.protocol.fail(CloseCode.POLICY_VIOLATION, reason)
                return
        self._library_recv_frame(frame)

    def _send_frame(self, frame: Frame) -> None:
        """Queue a large frame as its header and the payload object itself, not a serialized copy of both.

        websockets serializes a frame into one new bytes object; for an echo that a client does not read, that
        copy waits in the write buffer while the received message (the same bytes the payload is) is still held
        by the parser: two copies of up to 64 KiB per connection. Frames with an extension (compression) are
        transformed on the way and left to websockets.
        """
        protocol = self.protocol
        if len(frame.data) < ZERO_COPY_FROM_BYTES or protocol.extensions or frame.rsv1 or frame.rsv2 or frame.rsv3:
            self._library_send_frame(frame)
            return
        frame.check()
        head = (0b10000000 if frame.fin else 0) | frame.opcode
        length = len(frame.data)
        header = struct.pack('!BBH', head, 126, length) if length < 65536 else struct.pack('!BBQ', head, 127, length)
        data = frame.data
        # A server's frames are not masked: the payload goes as it is (bytes: the very object; a view is copied once).
        protocol.writes += [header, data if isinstance(data, bytes) else bytes(data)]

    # The socket's events: websockets' own handling, or the handed-over protocol's.

    def data_received(self, data: bytes) -> None:
        if self._handed_over_to is not None:
            self._handed_over_to.data_received(data)
            return
        self._receiving = True
        try:
            super().data_received(data)
        finally:
            self._receiving = False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._handed_over_to is not None:
            self._handed_over_to.connection_lost(exc)
        else:
            super().connection_lost(exc)

    # The handed-over protocol may keep the socket half-open (True); websockets' own answer is always None.
    def eof_received(self) -> bool | None:  # type: ignore[override]
        if self._handed_over_to is not None:
            return self._handed_over_to.eof_received()
        return super().eof_received()

    def pause_writing(self) -> None:
        if self._handed_over_to is not None:
            self._handed_over_to.pause_writing()
        else:
            super().pause_writing()

    def resume_writing(self) -> None:
        if self._handed_over_to is not None:
            self._handed_over_to.resume_writing()
        else:
            super().resume_writing()
