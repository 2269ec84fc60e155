"""A demo session: one learner's feed, its push subscribers, its counters, its last echo handshake.

Every demo page load gets its own session, so thirty learners in a class each see their own figures.
The feed itself is pure (:mod:`demos.feed`); this module adds the two bits of I/O around it: a ticker
task that makes updates at the feed's rate, and the fan-out of each update to the push subscribers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.datastructures import Headers
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.protocol import OPEN

from .counting import LANES, LaneCounters
from .feed import PriceFeed, Update

log = logging.getLogger(__name__)

#: What a session id may look like: the page makes one with ``uuid4().hex``; anything printable and short
#: is accepted so a learner can type ``?session=me`` into a command-line client.
SESSION_ID_PATTERN = re.compile(r'[A-Za-z0-9_-]{1,64}')

#: The session of clients that name none, e.g. ``websocat ws://127.0.0.1:8765/echo``.
DEFAULT_SESSION_ID = 'default'

#: Header values not to echo onto a page: browsers send the app's cookies to the echo port too.
_REDACTED_HEADERS = frozenset({'cookie', 'authorization'})


def check_session_id(session_id: str) -> str:
    """Return ``session_id`` if it is a valid session id, else raise :exc:`ValueError`."""
    if not SESSION_ID_PATTERN.fullmatch(session_id):
        raise ValueError('a session id is 1 to 64 letters, digits, "-" or "_"')
    return session_id


@dataclass(frozen=True, slots=True)
class Handshake:
    """An opening handshake as the server saw it: the request's lines and the response's lines."""

    request_line: str
    request_headers: tuple[tuple[str, str], ...]
    status_line: str
    response_headers: tuple[tuple[str, str], ...]
    at: float

    @classmethod
    def from_exchange(cls, request: Request, response: Response, at: float) -> Handshake:
        return cls(
            request_line=f'GET {request.path} HTTP/1.1',
            request_headers=_shown_headers(request.headers),
            status_line=f'HTTP/1.1 {response.status_code} {response.reason_phrase}',
            response_headers=_shown_headers(response.headers),
            at=at,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            'request_line': self.request_line,
            'request_headers': [list(item) for item in self.request_headers],
            'status_line': self.status_line,
            'response_headers': [list(item) for item in self.response_headers],
            'at': self.at,
        }


def _shown_headers(headers: Headers) -> tuple[tuple[str, str], ...]:
    return tuple((name, '(hidden)' if name.lower() in _REDACTED_HEADERS else value)
                 for name, value in headers.raw_items())


class DemoSession:
    """One learner's demo: a feed, its push subscribers and the counters of the three lanes.

    The page's Python code calls :meth:`start`, :meth:`stop`, :meth:`reset`, :meth:`set_rate` and
    :meth:`snapshot` in-process; the echo server calls the rest. Must be used inside the running loop.

    Args:
        session_id: The id the page put in its URLs.
        feed: The session's event source.
        push_backlog_limit_bytes: A push subscriber with more than this waiting in its write buffer is
            closed with 1008; see :attr:`demos.echo_server.EchoSettings.push_backlog_limit_bytes`.
        permessage_deflate: Whether the server offers compression (reported in :meth:`snapshot`).
    """

    def __init__(self, session_id: str, feed: PriceFeed, *, push_backlog_limit_bytes: int,
                 permessage_deflate: bool = False) -> None:
        self.id = check_session_id(session_id)
        self.feed = feed
        self.push_backlog_limit_bytes = push_backlog_limit_bytes
        self.permessage_deflate = permessage_deflate
        self.lanes: dict[str, LaneCounters] = {lane: LaneCounters() for lane in LANES}
        self.subscribers: set[ServerConnection] = set()
        self.last_handshake: Handshake | None = None
        self.last_used = time.monotonic()
        self._ticker: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    # Feed controls, for the page.

    @property
    def running(self) -> bool:
        """Whether the feed is making updates."""
        return self._ticker is not None and not self._ticker.done()

    def start(self, rate_per_s: float | None = None) -> None:
        """Start making updates, at ``rate_per_s`` if given (else at the feed's current rate)."""
        if rate_per_s is not None:
            self.set_rate(rate_per_s)
        self.touch()
        if not self.running:
            self._ticker = asyncio.get_running_loop().create_task(self._tick(), name=f'feed {self.id}')

    def stop(self) -> None:
        """Stop making updates; subscribers stay connected and polls keep answering from the history."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def reset(self) -> None:
        """Number updates from 1 again and zero the counters; a running feed keeps running."""
        self.feed.reset()
        # Zeroed in place: open connections keep crediting the same counters.
        for counters in self.lanes.values():
            counters.clear()
        self.touch()

    def set_rate(self, rate_per_s: float) -> None:
        """Change the update rate (0.1 to 1,000 per second); a running feed uses it from its next update."""
        self.feed.rate_per_s = rate_per_s

    @property
    def rate_per_s(self) -> float:
        return self.feed.rate_per_s

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, as plain data (JSON-ready)."""
        return {
            'session': self.id,
            'running': self.running,
            'rate_per_s': self.feed.rate_per_s,
            'latest_seq': self.feed.latest_seq,
            'subscribers': len(self.subscribers),
            'permessage_deflate': self.permessage_deflate,
            'lanes': {name: counters.as_dict() for name, counters in self.lanes.items()},
            'last_handshake': self.last_handshake.as_dict() if self.last_handshake else None,
        }

    # For the echo server.

    def touch(self) -> None:
        self.last_used = time.monotonic()

    @property
    def idle_for_s(self) -> float:
        return time.monotonic() - self.last_used

    def subscribe(self, connection: ServerConnection) -> None:
        self.subscribers.add(connection)
        self.touch()

    def unsubscribe(self, connection: ServerConnection) -> None:
        self.subscribers.discard(connection)
        self.touch()

    def publish(self, update: Update) -> None:
        """Send ``update`` to every subscriber now, dropping those that have fallen too far behind.

        ``broadcast`` writes without waiting for any client, which is what keeps one slow subscriber
        from delaying the others; it also never waits for a full buffer to drain, so each subscriber's
        backlog is checked here first and a subscriber over the limit is closed instead of written to.
        """
        keeping_up = []
        for subscriber in list(self.subscribers):
            if subscriber.protocol.state is not OPEN:
                continue
            if subscriber.transport.get_write_buffer_size() > self.push_backlog_limit_bytes:
                self._drop_slow(subscriber)
            else:
                keeping_up.append(subscriber)
        if not keeping_up:
            return
        broadcast(keeping_up, json.dumps(update.as_message(), separators=(',', ':')))
        push = self.lanes['push']
        push.messages_out += len(keeping_up)
        push.updates_out += len(keeping_up)

    def close_subscribers(self, code: int, reason: str) -> None:
        for subscriber in list(self.subscribers):
            self._close_later(subscriber, code, reason)
        self.subscribers.clear()

    async def aclose(self) -> None:
        """Stop the feed and wait for the subscribers being closed."""
        self.stop()
        if self._closing:
            await asyncio.wait(list(self._closing))

    def _drop_slow(self, subscriber: ServerConnection) -> None:
        self.subscribers.discard(subscriber)
        self.lanes['push'].dropped_slow += 1
        peer = getattr(subscriber, 'peer', subscriber.remote_address)
        log.warning('echo server: dropped push subscriber %s of session %s: more than %d bytes unsent (1008)',
                    peer, self.id, self.push_backlog_limit_bytes)
        self._close_later(subscriber, CloseCode.POLICY_VIOLATION, 'too slow: fell behind the feed')

    def _close_later(self, connection: ServerConnection, code: int, reason: str) -> None:
        # close() waits for the peer's close frame (up to close_timeout); nobody else should wait for that.
        task = asyncio.get_running_loop().create_task(connection.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            # Absolute deadlines, so the rate holds however long each publish takes.
            next_at += self.feed.interval_s
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                # Far behind (a suspended laptop, an overloaded machine): carry on from now, no burst.
                next_at = loop.time()
            self.publish(self.feed.make_update())
