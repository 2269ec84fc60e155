"""The link model applied to a real socket, at the server's end, in the server's own process (no root, no qdisc).

The browser and the echo server share a loopback socket, so whatever the server reads has just been sent and
whatever it writes is read at once. :class:`ShapedSocket` sits between the socket's transport and the protocol
serving it and moves both directions in time by :class:`demos.protocol.link.LinkConnection`:

* bytes the client sent reach the protocol when the model says they arrive (the first ones after the connection's
  set-up round trips): a poll's request is read, and the feed looked at, as late as on the real link;
* bytes the protocol writes go into the socket when the model says they reach the client, so the browser's own
  clock sees them arrive then;
* EOF and close travel behind the data, in order; ``abort`` (a reset) does not wait.

Bytes are never changed, split or merged: the server counts exactly what it counted unshaped. Data held here counts
as the transport's write buffer (a real sender keeps unacknowledged bytes in its socket buffer too), so the
protocol's flow control (``pause_writing`` at the high-water mark) still bounds what one connection holds.

:class:`ShapingProtocol` wraps any asyncio protocol this way (the tests, a plain server); the echo server shapes its
own connections, whose link it learns from the request line (:func:`demo_session_of`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, cast
from urllib.parse import parse_qs, urlsplit

from demos.protocol.link import LinkConnection

#: A timer may fire this early (uvloop's clock has millisecond steps) and still count as due.
EARLY_S = 0.0005
_EOF, _CLOSE = object(), object()  # markers travelling in the queues behind the data


class _Lost:
    """The socket went away: passed on behind whatever the client had sent before."""

    def __init__(self, exc: Exception | None) -> None:
        self.exc = exc


class Upward(Protocol):
    """What the shaped socket calls on the side of the protocol serving the connection."""

    def data_received(self, data: bytes) -> None: ...

    def eof_received(self) -> bool | None: ...

    def connection_lost(self, exc: Exception | None) -> None: ...

    def pause_writing(self) -> None: ...

    def resume_writing(self) -> None: ...


class _TimedQueue:
    """Items to hand over at given loop times, in the order they were put (the model's times never go back)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, hand_over: Callable[[object], None]) -> None:
        self._loop = loop
        self._hand_over = hand_over
        self._items: deque[tuple[float, object]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self.held = False  # while held (the protocol paused reading), due items wait

    def put(self, at_ms: float, item: object) -> None:
        self._items.append((at_ms / 1000, item))
        if self._timer is None and not self.held:
            self._arm()

    def _arm(self) -> None:
        if self._items:
            self._timer = self._loop.call_at(self._items[0][0], self.run_due)

    def run_due(self) -> None:
        self._timer = None
        due = self._loop.time() + EARLY_S
        while self._items and self._items[0][0] <= due and not self.held:
            _, item = self._items.popleft()
            self._hand_over(item)
        if not self.held:
            self._arm()

    def hold(self, held: bool) -> None:
        self.held = held
        if held and self._timer is not None:
            self._timer.cancel()
            self._timer = None
        elif not held and self._timer is None:
            self.run_due()

    def clear(self) -> None:
        self._items.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def __len__(self) -> int:
        return len(self._items)


class ShapedSocket:
    """One connection's two directions under a link: a transport to the protocol, a protocol to the transport.

    Args:
        link: The model of this connection (its set-up counted from the accept).
        transport: The socket's real transport.
        upward: The protocol side (data, EOF, loss, write flow control go there).
    """

    def __init__(self, link: LinkConnection, transport: asyncio.Transport, upward: Upward) -> None:
        self.link = link
        self._transport = transport
        self._upward = upward
        self._loop = asyncio.get_running_loop()
        self._inbound = _TimedQueue(self._loop, self._arrive)
        self._outbound = _TimedQueue(self._loop, self._leave)
        self._outbound_bytes = 0
        self._high, self._low = transport.get_write_buffer_limits()[::-1]
        self._queue_paused = False  # our own held bytes are over the high-water mark
        self._socket_paused = False  # the real transport's buffer is
        self._closing = False

    def _now_ms(self) -> float:
        return self._loop.time() * 1000

    # The socket's side: what the real transport reports.

    def received(self, data: bytes) -> None:
        self._inbound.put(self.link.upstream(self._now_ms(), len(data)), data)

    def received_eof(self) -> bool:
        """The client's FIN: passed on behind its data; the socket stays half open until then."""
        self._inbound.put(self.link.upstream(self._now_ms(), 0), _EOF)
        return True

    def lost(self, exc: Exception | None) -> None:
        """The socket is gone: what the client sent still arrives (unless the protocol is not reading, as asyncio
        would not hand it over either); nothing more can be written."""
        self._outbound.clear()
        self._outbound_bytes = 0
        if self._inbound.held:
            self._inbound.clear()
            self._loop.call_soon(self._upward.connection_lost, exc)
        else:
            self._inbound.put(self._now_ms(), _Lost(exc))

    def socket_writing(self, paused: bool) -> None:
        """The real transport's buffer went over (True) or back under (False) its high-water mark."""
        was = self.writing_paused
        self._socket_paused = paused
        self._update_flow(was)

    def _arrive(self, item: object) -> None:
        if item is _EOF:
            if not self._upward.eof_received():
                self.close()  # what asyncio does when a protocol does not keep a half-closed socket
        elif isinstance(item, _Lost):
            self._upward.connection_lost(item.exc)
        else:
            assert isinstance(item, bytes)
            self._upward.data_received(item)

    # The protocol's side: a transport.

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data:
            return
        chunk = data if isinstance(data, bytes) else bytes(data)  # the caller may reuse its buffer
        self._outbound.put(self.link.downstream(self._now_ms(), len(chunk)), chunk)
        self._outbound_bytes += len(chunk)
        if not self._queue_paused and self._outbound_bytes > self._high:
            was = self.writing_paused
            self._queue_paused = True
            self._update_flow(was)

    def writelines(self, list_of_data: Any) -> None:
        self.write(b''.join(list_of_data))

    def _leave(self, item: object) -> None:
        transport = self._transport
        if item is _CLOSE:
            transport.close()
        elif item is _EOF:
            if transport.is_closing():
                return
            try:
                transport.write_eof()
            except OSError:  # the client went away meanwhile (a reset the loop has not seen yet): as asyncio would
                transport.abort()
        else:
            assert isinstance(item, bytes)
            self._outbound_bytes -= len(item)
            if not transport.is_closing():
                transport.write(item)
            if self._queue_paused and self._outbound_bytes <= self._low:
                was = self.writing_paused
                self._queue_paused = False
                self._update_flow(was)

    @property
    def writing_paused(self) -> bool:
        return self._queue_paused or self._socket_paused

    def _update_flow(self, was: bool) -> None:
        now = self.writing_paused
        if now and not was:
            self._upward.pause_writing()
        elif was and not now:
            self._upward.resume_writing()

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._outbound.put(self.link.downstream(self._now_ms(), 0), _CLOSE)

    def write_eof(self) -> None:
        if not self._closing:
            self._outbound.put(self.link.downstream(self._now_ms(), 0), _EOF)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def abort(self) -> None:
        self._closing = True
        self._inbound.clear()  # a reset: nothing more is read
        self._outbound.clear()
        self._outbound_bytes = 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._closing or self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._outbound_bytes + self._transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)
        self._low, self._high = self._transport.get_write_buffer_limits()

    def pause_reading(self) -> None:
        # The socket itself stops being read, so the client's sends pile up in the kernel and then in the browser
        # (the back-pressure demo); what was on its way already is held too. What waited in the kernel is seen, and
        # sent down the link, only once reading resumes: half a round trip more than on a real link, once.
        self._inbound.hold(True)
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()
        self._inbound.hold(False)

    def is_reading(self) -> bool:
        return not self._inbound.held and self._transport.is_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    @property
    def in_flight(self) -> tuple[int, int]:
        """Chunks on their way: (to the server, to the client)."""
        return len(self._inbound), len(self._outbound)


class ShapingProtocol(asyncio.Protocol):
    """Any asyncio protocol, its connection shaped by the link ``link_for`` gives it (None: left alone).

    Args:
        inner: The protocol serving the connection.
        link_for: Called once the connection is accepted, with the accept's loop time in milliseconds and
            whether it is TLS; returns the connection's model or None.
    """

    def __init__(self, inner: asyncio.Protocol, link_for: Callable[[float, bool], LinkConnection | None]) -> None:
        self.inner = inner
        self._link_for = link_for
        self.shaped: ShapedSocket | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # no isinstance check: uvloop's transports (what the echo process runs on) are not asyncio.Transport
        loop = asyncio.get_running_loop()
        tls = transport.get_extra_info('ssl_object') is not None
        link = self._link_for(loop.time() * 1000, tls)
        if link is None:
            self.inner.connection_made(transport)
            return
        self.shaped = ShapedSocket(link, cast(asyncio.Transport, transport), cast(Upward, self.inner))
        self.inner.connection_made(self.shaped)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        if self.shaped is not None:
            self.shaped.received(data)
        else:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self.shaped is not None:
            return self.shaped.received_eof()
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.shaped is not None:
            self.shaped.lost(exc)
        else:
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.shaped is not None:
            self.shaped.socket_writing(paused=True)
        else:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.shaped is not None:
            self.shaped.socket_writing(paused=False)
        else:
            self.inner.resume_writing()


def demo_session_of(head: bytes) -> tuple[str, str] | None:
    """The path and ``session`` of an HTTP request line at the start of ``head``, or None when it is not there.

    What a proxy routing by URL would read; the request is still parsed (and checked) by the server afterwards. A
    connection whose first bytes do not hold a whole request line is simply not shaped.
    """
    line_end = head.find(b'\r\n', 0, 8192)
    if line_end < 0:
        return None
    parts = head[:line_end].split(b' ')
    if len(parts) != 3 or not parts[1].startswith(b'/'):
        return None
    try:
        target = urlsplit(parts[1].decode('ascii'))
    except (UnicodeDecodeError, ValueError):
        return None
    sessions = parse_qs(target.query).get('session')
    return target.path, (sessions[0] if sessions else 'default')
