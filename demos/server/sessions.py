"""A demo session: one learner's feed, its subscribers, its counters, its echo connections and their frames.

Every demo page load gets its own session, so thirty learners in a class each see their own figures.
The feed itself is pure (:mod:`demos.protocol.feed`); this module adds the I/O around it: a ticker task that makes
updates at the feed's rate, and the fan-out of each update to the push subscribers, the event streams
(:mod:`demos.server.http_push`) and the held long polls. The echo lane's frame log (:mod:`demos.server.frame_log`) and
break-it controls (:mod:`demos.server.break_it`) hang off the session too, so the page reaches all of it in-process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.datastructures import Headers
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.protocol import OPEN

from demos.protocol.feed import PriceFeed, Update
from demos.server.break_it import EchoControls, parse_deflate
from demos.server.counting import LANES, CountingConnection, LaneCounters
from demos.server.frame_log import FrameLog
from demos.server.session_links import SessionLink

log = logging.getLogger(__name__)

#: What a session id may look like: the app issues signed ones (:mod:`demos.protocol.session_ids`); a server without a
#: key (tests, the benchmark) takes anything printable and short, so ``?session=me`` works there.
SESSION_ID_PATTERN = re.compile(r'[A-Za-z0-9_.-]{1,64}')

#: The session of clients that name none, e.g. ``websocat ws://127.0.0.1:8765/echo``.
DEFAULT_SESSION_ID = 'default'

#: Header values not to echo onto a page: browsers send the app's cookies to the echo port too.
_REDACTED_HEADERS = frozenset({'cookie', 'authorization'})


class EventStream(Protocol):
    """An open Server-Sent Events stream, as the session sees it (:class:`demos.server.http_push.EventStream` is one):
    the session writes each update to it and ends it; the stream removes itself when its client goes away."""

    def send(self, updates: Sequence[Update]) -> bool: ...

    def close(self) -> None: ...


def check_session_id(session_id: str) -> str:
    """Return ``session_id`` if it is a valid session id, else raise :exc:`ValueError`."""
    if not SESSION_ID_PATTERN.fullmatch(session_id):
        raise ValueError('a session id is 1 to 64 letters, digits, ".", "-" or "_"')
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
    return tuple(
        (name, '(hidden)' if name.lower() in _REDACTED_HEADERS else value) for name, value in headers.raw_items()
    )


class DemoSession:
    """One learner's demo: a feed, its push subscribers and the counters of the three lanes.

    The page's Python code calls :meth:`start`, :meth:`stop`, :meth:`reset`, :meth:`set_rate` and
    :meth:`snapshot` in-process; the echo server calls the rest. Must be used inside the running loop.

    Args:
        session_id: The id the page put in its URLs.
        feed: The session's event source.
        push_backlog_limit_bytes: A push subscriber with more than this waiting in its write buffer is
            closed with 1008; see :attr:`demos.server.echo_server.EchoSettings.push_backlog_limit_bytes`.
        permessage_deflate: Whether the server offers compression (reported in :meth:`snapshot`).
    """

    def __init__(
        self, session_id: str, feed: PriceFeed, *, push_backlog_limit_bytes: int, permessage_deflate: bool = False
    ) -> None:
        self.id = check_session_id(session_id)
        self.feed = feed
        self.push_backlog_limit_bytes = push_backlog_limit_bytes
        self.permessage_deflate = permessage_deflate
        self.lanes: dict[str, LaneCounters] = {lane: LaneCounters() for lane in LANES}
        self.subscribers: set[ServerConnection] = set()
        self.last_handshake: Handshake | None = None
        #: The link profile the page picked (None: loopback, unshaped); its new lane and echo connections travel it.
        self.link: SessionLink | None = None
        #: The profile id the teacher put the whole class on (:mod:`demos.server.class_link`), else None: the page
        #: shows it and greys its own choice out.
        self.class_link: str | None = None
        self.last_used = time.monotonic()
        self._ticker: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        #: The echo lane's frames, both directions, all of the session's echo connections; kept only while
        #: :attr:`watching_frames` (a page showing them asked for it with :meth:`watch_frames`).
        self.frame_log = FrameLog()
        self.watching_frames = False
        #: Break-it controls and compression choice of the session's echo connections.
        self.echo = EchoControls(self.frame_log)
        #: Open Server-Sent Events streams (the ``sse`` lane).
        self.event_streams: set[EventStream] = set()
        # Held long polls wait on these; each new update (or the server stopping) resolves them.
        self._update_waiters: set[asyncio.Future[bool]] = set()
        #: The class feed's rate while it publishes to this session instead of its own ticker
        #: (:mod:`demos.server.class_feed`), else None; the page shows it and greys its own rate out.
        self.class_rate_per_s: float | None = None
        #: Whether the learner's page asked for updates (Start, not yet Stop): the session's own ticker runs again
        #: the moment a class feed lets go, so no page freezes when the teacher stops it.
        self.wants_updates = False
        #: Open inspection streams (``/inspect``): the page's view of what only the server sees.
        self.inspectors: set[ServerConnection] = set()
        #: Called with True when the echo connections stop reading (the back-pressure demo) and False when they
        #: read again, so the inspection streams can mark both moments on the page's chart.
        self.reading_listeners: set[Callable[[bool], None]] = set()

    # Feed controls, for the page.

    @property
    def running(self) -> bool:
        """Whether the feed is making updates."""
        return self._ticker is not None and not self._ticker.done()

    def start(self, rate_per_s: float | None = None) -> None:
        """Start making updates, at ``rate_per_s`` if given (else at the feed's current rate).

        While the session follows a class feed (:attr:`following`), its own ticker stays off: the class feed
        publishes to it, and a learner's Start must not slip their own updates in between the class's.
        """
        if rate_per_s is not None:
            self.set_rate(rate_per_s)
        self.touch()
        self.wants_updates = True
        if self.following:
            return
        if not self.running:
            self._ticker = asyncio.get_running_loop().create_task(self._tick(), name=f'feed {self.id}')

    def stop(self) -> None:
        """Stop making updates; subscribers stay connected and polls keep answering from the history."""
        self.wants_updates = False
        self._stop_ticker()

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    @property
    def following(self) -> bool:
        """Whether a class feed publishes to this session (its own ticker off meanwhile)."""
        return self.class_rate_per_s is not None

    def follow(self, rate_per_s: float) -> None:
        """Take the class feed's updates from now on (:meth:`relay`), the session's own ticker off meanwhile."""
        self.class_rate_per_s = rate_per_s
        self._stop_ticker()  # not stop(): the learner's wish for updates outlives the class feed

    def unfollow(self) -> None:
        """The class feed ended: back to the session's own feed, ticking at once if the page had asked for it."""
        self.class_rate_per_s = None
        if self.wants_updates:
            self.start()

    def relay(self, update: Update) -> None:
        """Publish the class feed's ``update`` under this session's own numbering (:meth:`PriceFeed.relay`)."""
        self.publish(self.feed.relay(update))

    def reset(self) -> None:
        """Number updates from 1 again, zero the counters and empty the frame log; a running feed keeps running."""
        self.feed.reset()
        # Zeroed in place: open connections keep crediting the same counters.
        for counters in self.lanes.values():
            counters.clear()
        self.frame_log.clear()
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
            'class_feed_rate_per_s': self.class_rate_per_s,
            'class_link': self.class_link,
            'latest_seq': self.feed.latest_seq,
            'subscribers': len(self.subscribers),
            'permessage_deflate': self.permessage_deflate,
            'lanes': {name: counters.as_dict() for name, counters in self.lanes.items()},
            'last_handshake': self.last_handshake.as_dict() if self.last_handshake else None,
            'event_streams': len(self.event_streams),
            'long_polls_held': len(self._update_waiters),
            'echo_connections': self.echo.describe(),
            'echo_deflate': self.echo.deflate,
            'frame_log_next': self.frame_log.next_index,
        }

    # The echo lane's frames and break-it controls, for the page (see demos.server.break_it).

    def watch_frames(self) -> None:
        """Log the frames of the echo connections that open from now on.

        Off until a page asks: reading every frame a second time in Python costs an echo connection more than
        half of its throughput, a price only a learner looking at the frame log should pay.
        """
        self.watching_frames = True

    async def close_echo(self, code: int = 1000, reason: str = '') -> int:
        """Close the echo connections cleanly with ``code`` (1000, 1001, 1008 or 1011); how many were open."""
        return await self.echo.close(code, reason)

    async def drop_echo(self) -> int:
        """Abort the echo connections' TCP connections, no close frame (the browser sees 1006); how many."""
        return self.echo.drop()

    async def ping_echo(self) -> list[float | None]:
        """Ping the echo connections; each pong's round trip in ms (None: no pong within 5 s)."""
        return await self.echo.ping()

    async def pause_echo_reading(self, seconds: float) -> int:
        """Stop reading the echo connections for ``seconds`` (at most 10), then read again; returns when resumed."""
        for listener in list(self.reading_listeners):
            listener(True)
        try:
            return await self.echo.pause_reading(seconds)
        finally:
            for listener in list(self.reading_listeners):
                listener(False)

    # For the echo server.

    def admit(self, connection: CountingConnection, endpoint: str, query: Mapping[str, Sequence[str]]) -> None:
        """Credit a new connection to the lane of ``endpoint``; an echo connection also gets its frames logged
        (if :meth:`watch_frames` was called) and its compression chosen (``deflate`` in ``query``).
        Called from ``process_request``.

        Raises:
            ValueError: on a bad ``deflate`` parameter, before anything is credited.
        """
        deflate = parse_deflate(query.get('deflate', [])) if endpoint == 'echo' else None
        connection.bind(self.lanes[endpoint])
        if endpoint != 'echo' or not self.watching_frames:
            connection.frame_tap = None  # only the echo lane's frames are logged, and only when watched
        if endpoint == 'echo':
            self.echo.admit(connection, deflate)

    def touch(self) -> None:
        self.last_used = time.monotonic()

    @property
    def in_use(self) -> bool:
        """Whether any connection is open on the session: such a session is never forgotten to make room."""
        return bool(
            self.subscribers
            or self.event_streams
            or self.inspectors
            or self._update_waiters
            or self.echo.open_connections()
        )

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
            if subscriber.state is not OPEN:
                continue
            if subscriber.transport.get_write_buffer_size() > self.push_backlog_limit_bytes:
                self._drop_slow(subscriber)
            else:
                keeping_up.append(subscriber)
        for stream in list(self.event_streams):
            stream.send([update])
        self._wake_long_polls(True)
        if not keeping_up:
            return
        broadcast(keeping_up, json.dumps(update.as_message(), separators=(',', ':')))
        push = self.lanes['push']
        push.messages_out += len(keeping_up)
        push.updates_out += len(keeping_up)

    def close_subscribers(self, code: int, reason: str) -> None:
        """Close the push subscribers with ``code``, and end the event streams and held long polls."""
        for subscriber in list(self.subscribers):
            self._close_later(subscriber, code, reason)
        self.subscribers.clear()
        self.end_http_streams()

    def end_http_streams(self) -> None:
        """Answer the held long polls now and end the event streams: the server is stopping or restarting."""
        self._wake_long_polls(False)
        for stream in list(self.event_streams):
            stream.close()

    def add_event_stream(self, stream: EventStream, after: int | None) -> None:
        """Send ``stream`` each update from now on, first the kept ones numbered above ``after`` if given."""
        self.event_streams.add(stream)
        self.touch()
        if after is not None:
            stream.send(self.feed.updates_after(after, self.feed.history_limit))

    def remove_event_stream(self, stream: EventStream) -> None:
        self.event_streams.discard(stream)
        self.touch()

    async def wait_for_updates(
        self, after: int, limit: int, deadline: float, gone: asyncio.Future[None] | None = None
    ) -> list[Update]:
        """The updates numbered above ``after`` (at most ``limit``), waiting for one until ``deadline`` (loop time).

        Returns early, maybe with nothing, when ``gone`` (the client's connection lost) is done or the server
        stops (:meth:`end_http_streams`).
        """
        loop = asyncio.get_running_loop()
        while True:
            updates = self.feed.updates_after(after, limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or (gone is not None and gone.done()):
                return updates
            waiter: asyncio.Future[bool] = loop.create_future()
            self._update_waiters.add(waiter)
            waited: list[asyncio.Future[Any]] = [waiter] if gone is None else [waiter, gone]
            try:
                await asyncio.wait(waited, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._update_waiters.discard(waiter)
            if waiter.done() and not waiter.result():
                return self.feed.updates_after(after, limit)

    def _wake_long_polls(self, new_update: bool) -> None:
        waiters, self._update_waiters = self._update_waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(new_update)

    async def aclose(self) -> None:
        """Stop the feed, end the HTTP streams and wait for the subscribers being closed."""
        self.stop()
        self.end_http_streams()
        if self._closing:
            await asyncio.wait(list(self._closing))

    def _drop_slow(self, subscriber: ServerConnection) -> None:
        self.subscribers.discard(subscriber)
        self.lanes['push'].dropped_slow += 1
        what = (
            f'dropped push subscriber {getattr(subscriber, "client", subscriber.remote_address)} of session {self.id}: '
            f'more than {self.push_backlog_limit_bytes} bytes unsent (1008)'
        )
        if (report := getattr(subscriber, 'report_drop', None)) is not None:
            report('slow push subscriber', what)  # a client can repeat it: once a minute per address
        else:
            log.warning('echo server: %s', what)
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
            next_at += self.feed.next_interval_s()
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                # Far behind (a suspended laptop, an overloaded machine): carry on from now, no burst.
                next_at = loop.time()
            self.publish(self.feed.make_update())
