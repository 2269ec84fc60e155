"""The echo and push WebSocket lanes: what the server does with each message a client sends on them.

``/echo`` sends every message back; ``/push`` answers only the clock question (the feed's updates are written by
the session, :meth:`demos.server.sessions.DemoSession.publish`). Both hold the client to its message rate.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

from websockets.frames import CloseCode

from demos.protocol.feed import epoch_ms
from demos.protocol.limits import MessageRateLimiter
from demos.server.counting import CountingConnection
from demos.server.refusals import Refusals
from demos.server.sessions import DemoSession


async def serve_echo(
    connection: CountingConnection, session: DemoSession, limiter: MessageRateLimiter, refusals: Refusals
) -> None:
    """Send each message back, until the client closes or goes over its rate (1008)."""
    lane = session.lanes['echo']
    async for message in connection:
        lane.messages_in += 1
        if not limiter.allow():
            await _close_over_rate(connection, limiter, refusals)
            return
        await connection.send(message)
        lane.messages_out += 1
    session.touch()


async def serve_push(
    connection: CountingConnection, session: DemoSession, limiter: MessageRateLimiter, refusals: Refusals
) -> None:
    """Subscribe the client to the session's feed and answer its clock questions; anything else closes it (1008)."""
    lane = session.lanes['push']
    session.subscribe(connection)
    try:
        async for message in connection:
            lane.messages_in += 1
            if not limiter.allow():
                await _close_over_rate(connection, limiter, refusals)
                return
            client_sent = _clock_question(message)
            if client_sent is None:
                reason = 'expected {"type":"clock","client_sent":MS}'
                refusals.closing(connection, 'bad message', reason)
                await connection.close(CloseCode.POLICY_VIOLATION, reason)
                return
            answer = {'type': 'clock', 'client_sent': client_sent, 'server_time': epoch_ms()}
            await connection.send(json.dumps(answer, separators=(',', ':')))
            lane.messages_out += 1
    finally:
        session.unsubscribe(connection)


async def _close_over_rate(connection: CountingConnection, limiter: MessageRateLimiter, refusals: Refusals) -> None:
    reason = f'too many messages: at most {limiter.rate_per_s:g} per second'
    refusals.closing(connection, 'message rate', reason)
    await connection.close(CloseCode.POLICY_VIOLATION, reason)


def _clock_question(message: str | bytes) -> float | None:
    """``client_sent`` of a ``{"type": "clock", "client_sent": T0}`` message, else :obj:`None`."""
    if not isinstance(message, str):
        return None
    # RecursionError: a 64 KiB message of nested brackets is valid JSON too deep for the parser.
    with contextlib.suppress(ValueError, RecursionError):
        question: Any = json.loads(message)
        if isinstance(question, dict) and question.get('type') == 'clock':
            client_sent = question.get('client_sent')
            if (
                isinstance(client_sent, int | float)
                and not isinstance(client_sent, bool)
                and math.isfinite(client_sent)
            ):
                return float(client_sent)
    return None
