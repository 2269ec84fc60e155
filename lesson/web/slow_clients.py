"""A header timeout on the page port (uvicorn has none): a client that does not finish its request headers within
``--header-timeout`` seconds is answered 408 and closed (slowloris)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: What a client too slow with its headers gets before the connection closes.
_TIMEOUT_TEXT = b'request headers too slow\n'
REQUEST_TIMEOUT_ANSWER = (
    b'HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n'
    b'content-length: %d\r\nconnection: close\r\n\r\n%s' % (len(_TIMEOUT_TEXT), _TIMEOUT_TEXT)
)


@dataclass
class SlowClientLog:
    """One WARNING a minute at most, with the count, however many slow clients there are."""

    clock: Callable[[], float] = time.monotonic
    closed: int = 0
    _logged_at: float | None = None

    def record(self) -> None:
        self.closed += 1
        now = self.clock()
        if self._logged_at is None or now - self._logged_at >= 60:
            log.warning(
                'closed %d connection(s) to the lesson pages that did not send their request headers in '
                'time (slowloris?); see --header-timeout',
                self.closed,
            )
            self._logged_at = now
            self.closed = 0


SLOW_CLIENTS = SlowClientLog()


def header_timeout_protocol(timeout_s: float) -> type:
    """uvicorn's httptools protocol with a deadline for each request's headers (uvicorn 0.54 has none).

    The deadline runs from the connection (or, on a kept-alive connection, from the first byte of the next
    request) to the end of the headers; the body and the app's own time are not limited here.
    """
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        header_timeout_s = timeout_s
        _header_deadline: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            if self._header_deadline is None:
                self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _headers_too_slow(self) -> None:
            self._header_deadline = None
            if self.transport is None or self.transport.is_closing():
                return
            # an answer is still owed to a request in progress: only cut a connection that is between answers
            if self.cycle is not None and not self.cycle.response_complete:
                return
            self.transport.write(REQUEST_TIMEOUT_ANSWER)
            self.transport.close()
            SLOW_CLIENTS.record()

    return HeaderTimeoutProtocol
