"""Break the echo connection on purpose, and let the learner watch what the protocol does about it.

One :class:`EchoControls` per demo session holds that session's open echo connections. The page calls its
methods in-process (through :class:`demos.server.sessions.DemoSession`); every one acts on all of the session's
echo connections that are open (normally the page's one) and says how many it reached:

* :meth:`~EchoControls.close` — a clean closing handshake with a code the learner picks: the browser's
  ``onclose`` sees that code and ``wasClean: true``;
* :meth:`~EchoControls.drop` — the TCP connection ends without a close frame: the browser sees 1006 and
  ``wasClean: false``;
* :meth:`~EchoControls.ping` — a ping from the server; the browser answers with a pong on its own, and both
  show in the frame log (:mod:`demos.server.frame_log`);
* :meth:`~EchoControls.pause_reading` — the server stops reading for a few seconds: what the page sends
  waits in the kernel's buffers, then in the browser's (``bufferedAmount`` grows), and drains on resume;
* per-connection compression: whether permessage-deflate is offered to the session's next echo connections
  (:attr:`~EchoControls.deflate`, or ``&deflate=1`` / ``&deflate=0`` in the URL), so the same messages can
  be compared on the wire with and without it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import PerMessageDeflate, enable_server_permessage_deflate

from demos.server.counting import CountingConnection
from demos.server.frame_log import FrameLog

log = logging.getLogger(__name__)

#: Close codes the page may pick, and what the browser will be told. 1005 and 1006 are never sent (RFC 6455
#: section 7.4.1): they are what a browser reports when a close frame had no code, or there was no close frame.
CLOSE_CODES = {
    1000: 'normal closure',
    1001: 'going away',
    1008: 'policy violation',
    1011: 'internal error',
}

#: Longest reading pause. Well under the keepalive's 20 s ping timeout, so the pause never makes the server
#: give up on the client (the pong waits, unread, with everything else the client sent).
MAX_PAUSE_S = 10.0

#: How long :meth:`EchoControls.ping` waits for the pong.
PONG_TIMEOUT_S = 5.0

#: Longest close reason, in UTF-8 bytes: a close frame's body is at most 125 bytes, 2 of them the code.
MAX_REASON_BYTES = 123

#: What ``deflate=`` in an echo URL may say.
_DEFLATE_VALUES = {'1': True, 'on': True, 'true': True, '0': False, 'off': False, 'false': False}


def parse_deflate(values: Sequence[str]) -> bool | None:
    """The ``deflate`` query parameter of an echo URL: :obj:`None` when absent.

    Raises:
        ValueError: with a reason to send back in the 400 answer.
    """
    if not values:
        return None
    choice = _DEFLATE_VALUES.get(values[-1].lower())
    if choice is None:
        raise ValueError(f'"deflate" is 1 (offer permessage-deflate) or 0 (do not), not {values[-1][:40]!r}')
    return choice


class EchoControls:
    """The break-it controls of one session's echo connections.

    Args:
        frame_log: Where the frames of the session's echo connections are recorded.
    """

    def __init__(self, frame_log: FrameLog) -> None:
        self.frame_log = frame_log
        #: Whether to offer permessage-deflate to the session's next echo connections; :obj:`None` follows the
        #: server's setting. A ``deflate`` parameter in the URL wins over it.
        self.deflate: bool | None = None
        self._connections: dict[CountingConnection, int] = {}

    # For the echo server.

    def admit(self, connection: CountingConnection, deflate: bool | None) -> None:
        """Take a new echo connection during its opening handshake (before websockets accepts it).

        Compression is negotiated per connection: websockets' server protocol offers the extensions in its
        ``available_extensions``, read when it accepts the handshake, which comes after ``process_request``.
        """
        choice = self.deflate if deflate is None else deflate
        if choice is not None:
            connection.offer_extensions(enable_server_permessage_deflate(None) if choice else [])
        tap = connection.frame_tap
        number = tap.attach(self.frame_log) if tap is not None else self.frame_log.new_connection()
        self._connections[connection] = number
        connection.gone.add_done_callback(lambda _: self._connections.pop(connection, None))

    # For the page.

    def open_connections(self) -> list[CountingConnection]:
        """The session's echo connections that finished the opening handshake and are not closing."""
        return [connection for connection in self._connections if connection.is_open]

    def describe(self) -> list[dict[str, Any]]:
        """Each echo connection as plain data: its number in the frame log, state, compression, reading held."""
        return [
            {
                'connection': number,
                'state': connection.state.name.lower(),
                'permessage_deflate': any(
                    isinstance(extension, PerMessageDeflate) for extension in connection.negotiated_extensions
                ),
                'reading_held': connection.counting_transport.reading_held,
            }
            for connection, number in self._connections.items()
        ]

    async def close(self, code: int = 1000, reason: str = '') -> int:
        """Close cleanly with ``code`` and ``reason``; waits for each closing handshake (at most close_timeout).

        Raises:
            ValueError: if ``code`` is not one of :data:`CLOSE_CODES` or ``reason`` is too long.
        """
        if code not in CLOSE_CODES:
            raise ValueError(f'close with one of {sorted(CLOSE_CODES)}, not {code}')
        if len(reason.encode()) > MAX_REASON_BYTES:
            raise ValueError(f'a close reason is at most {MAX_REASON_BYTES} bytes of UTF-8')
        connections = self.open_connections()
        await asyncio.gather(*(connection.close(code, reason) for connection in connections))
        return len(connections)

    def drop(self) -> int:
        """End each TCP connection at once, without a close frame: the client sees 1006, not clean."""
        connections = self.open_connections()
        for connection in connections:
            log.info('echo server: dropping echo connection %s on request (no close frame)', connection.peer)
            connection.counting_transport.abort()
        return len(connections)

    async def ping(self, payload: bytes = b'from the server') -> list[float | None]:
        """Ping each connection and wait for its pong; the round trips in ms (:obj:`None`: no pong in time)."""
        return list(await asyncio.gather(*(self._ping(connection, payload) for connection in self.open_connections())))

    @staticmethod
    async def _ping(connection: CountingConnection, payload: bytes) -> float | None:
        # Timed here, not with the latency websockets returns: it reads loop.time(), which under uvloop moves in
        # whole milliseconds, so a loopback pong would show as 0.0 ms.
        started = time.perf_counter()
        try:
            pong = await connection.ping(payload)
            await asyncio.wait_for(pong, PONG_TIMEOUT_S)
        except (ConnectionClosed, TimeoutError):
            return None
        return (time.perf_counter() - started) * 1000

    async def pause_reading(self, seconds: float) -> int:
        """Stop reading from each connection for ``seconds`` (at most :data:`MAX_PAUSE_S`), then read again.

        Returns once reading resumed. Only the socket's reading stops: websockets' own flow control (it
        pauses reading when too many messages wait unread) keeps working and resumes on its own terms.
        """
        if not 0 < seconds <= MAX_PAUSE_S:
            raise ValueError(f'pause for more than 0 and at most {MAX_PAUSE_S:g} seconds, not {seconds}')
        transports = [connection.counting_transport for connection in self.open_connections()]
        for transport in transports:
            transport.hold_reading()
        try:
            await asyncio.sleep(seconds)
        finally:
            for transport in transports:
                transport.release_reading()
        return len(transports)
