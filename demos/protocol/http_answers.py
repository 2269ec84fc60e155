"""The plain HTTP answers of the echo server: poll and clock JSON, and short refusals.

``websockets`` sends whatever :class:`~websockets.http11.Response` ``process_request`` returns and then
closes the TCP connection, so every answer here is the last thing said on its connection.
"""

from __future__ import annotations

import email.utils
import http
import json
from collections.abc import Sequence
from typing import Any

from websockets.datastructures import Headers
from websockets.http11 import Response

from demos.protocol.feed import Update


def answer_headers(content_type: str, *, length: int | None, allow_origin: str | None) -> Headers:
    """The head every answer of the echo server carries: never cached, the connection closed after it.

    ``length`` None leaves ``Content-Length`` out (an event stream, whose body ends with the connection). With
    ``allow_origin`` (an origin already checked as the app's own), that page may read the answer (CORS), e.g. why its
    poll was refused instead of an opaque network error.
    """
    # Headers(...) from a list: in websockets, headers[name] = value appends rather than replaces.
    headers = [
        ('Date', email.utils.formatdate(usegmt=True)),
        ('Connection', 'close'),
        ('Content-Type', content_type),
    ]
    if length is not None:
        headers.append(('Content-Length', str(length)))
    headers.append(('Cache-Control', 'no-store'))
    if allow_origin is not None:
        headers += [('Access-Control-Allow-Origin', allow_origin), ('Vary', 'Origin')]
    return Headers(headers)


def json_answer(payload: dict[str, Any], *, allow_origin: str | None = None) -> Response:
    """A ``200`` JSON answer that no cache keeps, readable by the page at ``allow_origin`` (CORS)."""
    body = json.dumps(payload, separators=(',', ':')).encode()
    headers = answer_headers('application/json', length=len(body), allow_origin=allow_origin)
    return Response(http.HTTPStatus.OK.value, http.HTTPStatus.OK.phrase, headers, body)


def refusal(status: http.HTTPStatus, reason: str, *, allow_origin: str | None = None) -> Response:
    """A short plain-text refusal: the status, and one line saying why."""
    body = f'{status.value} {status.phrase}: {reason}\n'.encode()
    headers = answer_headers('text/plain; charset=utf-8', length=len(body), allow_origin=allow_origin)
    return Response(status.value, status.phrase, headers, body)


def poll_answer(updates: Sequence[Update], server_time: float, *, allow_origin: str | None) -> Response:
    """``{"updates": [update, ...], "server_time": MS}``."""
    return json_answer(
        {'updates': [update.as_message() for update in updates], 'server_time': server_time}, allow_origin=allow_origin
    )


def clock_answer(server_time: float, *, allow_origin: str | None) -> Response:
    """``{"server_time": MS}``."""
    return json_answer({'server_time': server_time}, allow_origin=allow_origin)


def parse_cursor(values: Sequence[str]) -> int:
    """The ``after`` query parameter of a poll: one non-negative integer (absent means 0).

    Raises:
        ValueError: with a reason to send back in the 400 answer.
    """
    if not values:
        return 0
    if len(values) > 1:
        raise ValueError('give "after" once')
    text = values[0]
    # isdecimal() rules out signs, spaces, "1e3" and non-ASCII digits before int() could accept them.
    if not (text.isascii() and text.isdecimal()) or len(text) > 18:
        raise ValueError(f'"after" must be the seq of the last update you have (0 or more), not {text[:40]!r}')
    return int(text)
