"""Push over plain HTTP: long polling and Server-Sent Events, fed by the session's one feed.

Both are answered from the echo server's ``process_request``, like ``/poll``, so the same checks (origin,
session, connection limit) and the same byte counting at the socket apply.

**Long polling** (``GET /longpoll?session=ID&after=SEQ``) answers like ``/poll`` but, when nothing newer than
``SEQ`` exists yet, holds the request until an update is made or the hold time is up (then the answer is
empty). ``process_request`` may return an awaitable, which websockets awaits, so the hold is simply an
``await``. But websockets runs the whole opening handshake, ``process_request`` included, under its
``open_timeout`` (10 s by default), counted from the moment the TCP connection was accepted, and aborts the
connection when it expires. So a hold lasts :data:`LONG_POLL_HOLD_S` (8 s) and ends at the latest
:data:`OPEN_TIMEOUT_MARGIN_S` before that deadline: a shorter ``open_timeout`` shortens the hold.

**Server-Sent Events** (``GET /sse?session=ID``) is one response that never ends: a ``text/event-stream`` head,
then one event per update, ``id: SEQ`` and ``data: UPDATE-JSON``, the moment the update is made. That cannot
run inside ``process_request`` (the open timeout would abort the stream after 10 s), and websockets closes the
connection after any answer that is not ``101``. So the stream takes the socket over: ``process_request``
writes the head itself, through the counting transport, and hands the socket to an :class:`EventStream`
(:meth:`demos.server.websockets_internals.AdaptedConnection.hand_over`); websockets is told the connection is gone,
so its handshake ends at once and it sends nothing more. The connection object stays the socket's asyncio protocol,
so every byte of the stream is counted where every other lane's bytes are. A stream ends when the client goes
away (the socket's EOF or loss removes it from the session: no task is left behind, since a stream has none),
when it falls :data:`EventStream.backlog_limit_bytes` behind (dropped like a slow push subscriber) or when
the server stops or restarts.

An ``EventSource`` that reconnects sends ``Last-Event-ID``; the stream then starts with the updates the client
missed that the feed still keeps, as ``after=SEQ`` does for a poll.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from websockets.datastructures import MultipleValuesError
from websockets.http11 import Request, Response

from demos.protocol.feed import Update, epoch_ms
from demos.protocol.http_answers import answer_headers, parse_cursor, poll_answer
from demos.server.counting import CountingConnection, LaneCounters
from demos.server.refusals import Refused

if TYPE_CHECKING:
    from demos.server.sessions import DemoSession

log = logging.getLogger(__name__)

#: Longest a long poll is held waiting for an update, in seconds: a quiet feed then costs one request every
#: 8 s. Real servers hold 20 to 60 s; here websockets' open timeout (10 s by default) bounds the hold.
LONG_POLL_HOLD_S = 8.0

#: A held long poll is answered at least this long before websockets' open timeout would abort its connection.
OPEN_TIMEOUT_MARGIN_S = 1.0


def _only_get(request: Request, what: str) -> None:
    if request.method != 'GET':
        raise Refused(http.HTTPStatus.METHOD_NOT_ALLOWED, f'{what} with GET')


def long_poll(
    connection: CountingConnection,
    request: Request,
    session: DemoSession,
    query: Mapping[str, Sequence[str]],
    *,
    allow_origin: str | None,
    open_timeout_s: float | None,
    batch_limit: int,
    hold_s: float = LONG_POLL_HOLD_S,
) -> Awaitable[Response]:
    """Check a long poll now and return the awaitable answer for ``process_request`` to return.

    Raises:
        Refused: on a method other than GET or a bad ``after``, before anything is held.
    """
    lane = session.lanes['longpoll']
    lane.messages_in += 1
    _only_get(request, 'long-poll')
    try:
        cursor = parse_cursor(query.get('after', []))
    except ValueError as error:
        raise Refused(http.HTTPStatus.BAD_REQUEST, str(error)) from None
    deadline = connection.loop.time() + hold_s
    if open_timeout_s is not None:
        deadline = min(deadline, connection.opened_at + open_timeout_s - OPEN_TIMEOUT_MARGIN_S)
    return _hold(connection, session, lane, cursor, deadline, batch_limit, allow_origin)


async def _hold(
    connection: CountingConnection,
    session: DemoSession,
    lane: LaneCounters,
    cursor: int,
    deadline: float,
    batch_limit: int,
    allow_origin: str | None,
) -> Response:
    updates = await session.wait_for_updates(cursor, batch_limit, deadline, gone=connection.gone)
    answer = poll_answer(updates, epoch_ms(), allow_origin=allow_origin)
    if connection.gone.done():
        return answer  # the client went away while held: websockets sends nothing, nothing to count
    lane.messages_out += 1
    lane.updates_out += len(updates)
    if not updates:
        lane.empty_polls += 1
    return answer


def event_stream_head(allow_origin: str | None) -> Response:
    """The head of an event stream: no length, so the body runs until the connection closes."""
    headers = answer_headers('text/event-stream', length=None, allow_origin=allow_origin)
    return Response(http.HTTPStatus.OK.value, http.HTTPStatus.OK.phrase, headers, b'')


def event_bytes(update: Update) -> bytes:
    """One update as a Server-Sent Event: ``id: SEQ``, ``data: UPDATE-JSON`` and a blank line."""
    data = json.dumps(update.as_message(), separators=(',', ':'))
    return f'id: {update.seq}\ndata: {data}\n\n'.encode()


def open_event_stream(
    connection: CountingConnection,
    request: Request,
    session: DemoSession,
    query: Mapping[str, Sequence[str]],
    *,
    allow_origin: str | None,
    backlog_limit_bytes: int,
) -> Response:
    """Start an event stream on ``connection`` and return the head for ``process_request`` to return.

    The head is already written when this returns; websockets, told the connection is gone, sends nothing.

    Raises:
        Refused: on a method other than GET or a bad ``after`` or ``Last-Event-ID``, before anything is written.
    """
    lane = session.lanes['sse']
    lane.messages_in += 1
    _only_get(request, 'open an event stream')
    try:
        last_event_id = request.headers.get_all('Last-Event-ID')
        cursor = parse_cursor(last_event_id or query.get('after', []))
    except (ValueError, MultipleValuesError) as error:
        raise Refused(http.HTTPStatus.BAD_REQUEST, str(error)) from None
    resume = bool(last_event_id) or 'after' in query
    head = event_stream_head(allow_origin)
    connection.counting_transport.write(head.serialize())
    stream = EventStream(
        lane,
        backlog_limit_bytes,
        peer=connection.client,
        on_closed=session.remove_event_stream,
        on_dropped=connection.report_drop,
    )
    connection.hand_over(stream)
    session.add_event_stream(stream, cursor if resume else None)
    return head


class EventStream(asyncio.Protocol):
    """One ``EventSource`` client: writes each update as an event; ends when the client goes away.

    Args:
        lane: The ``sse`` counters of the session (bytes are counted by the connection itself).
        backlog_limit_bytes: A client with more than this unsent is dropped rather than written to, so a
            stalled client costs at most this much memory; see ``EchoSettings.push_backlog_limit_bytes``.
        peer: The client's address, for log lines.
        on_closed: Called once when the socket is gone.
        on_dropped: Logs a drop (kind, what): once a minute per address, since a client can repeat it.
    """

    def __init__(
        self,
        lane: LaneCounters,
        backlog_limit_bytes: int,
        *,
        peer: str,
        on_closed: Callable[[EventStream], Any],
        on_dropped: Callable[[str, str], None] | None = None,
    ) -> None:
        self.lane = lane
        self.backlog_limit_bytes = backlog_limit_bytes
        self.peer = peer
        self._on_closed = on_closed
        self._on_dropped = on_dropped
        self._transport: asyncio.WriteTransport | None = None

    @property
    def open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        pass  # an event stream's client has nothing more to say; the connection counted the bytes anyway

    def eof_received(self) -> bool:
        return False  # the client is gone: close our side too (EventSource.close() ends with this)

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_closed(self)

    def send(self, updates: Sequence[Update]) -> bool:
        """Write ``updates`` as events now, without waiting; :obj:`False` if the stream is closed or dropped."""
        transport = self._transport
        if transport is None or transport.is_closing() or not updates:
            return self.open
        if transport.get_write_buffer_size() > self.backlog_limit_bytes:
            self.lane.dropped_slow += 1
            what = f'dropped event stream {self.peer}: more than {self.backlog_limit_bytes} bytes unsent'
            if self._on_dropped is not None:
                self._on_dropped('slow event stream', what)
            else:
                log.warning('echo server: %s', what)
            transport.abort()
            return False
        transport.write(b''.join(event_bytes(update) for update in updates))
        self.lane.messages_out += len(updates)
        self.lane.updates_out += len(updates)
        return True

    def close(self) -> None:
        """End the stream: what was written is still delivered, then the connection closes."""
        if self._transport is not None:
            self._transport.close()
