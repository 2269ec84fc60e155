"""The one check in front of every teacher page and export, and the exchange of the start-up token for a cookie.

The start-up block prints ``/teacher?token=…``. The first visit with it is answered with a redirect to the same
address without the token and a signed teacher cookie (HttpOnly: no script reads it; SameSite=Strict: no other site's
page sends it; :func:`lesson.teaching.access.teacher_cookie`), as Jupyter does with its start-up token: the address
bar, the projector, every link the pages draw and the browser's history never show the token again. Every teacher
request then needs the cookie; a wrong token is refused like no credential at all. The board's buttons are checked
against the same cookie on the socket that sends them (:mod:`lesson.web.socket_events`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from nicegui import app

from lesson.teaching.access import COOKIE_MAX_AGE_S, COOKIE_NAME, cookie_valid, teacher_cookie, token_matches
from lesson.web.socket_events import cookie_of

FORBIDDEN = '403 Forbidden: the teacher pages need the teacher address printed when the app started.\n'
TOKEN_PARAMETER = 'token'


class NotTheTeacher(Exception):
    """Raised by the guard; answered with :func:`forbidden` before any page is built."""


class TokenExchanged(Exception):
    """Raised by the guard for a request carrying the right token: answered with the cookie and a redirect."""

    def __init__(self, location: str, secure: bool) -> None:
        super().__init__('teacher token exchanged')
        self.location = location
        self.secure = secure


def forbidden(_request: Request | None = None, _error: Exception | None = None) -> PlainTextResponse:
    return PlainTextResponse(FORBIDDEN, status_code=403, headers={'Cache-Control': 'no-store'})


def without_token(request: Request) -> str:
    """The same page's address without the token (relative: right behind a proxy too)."""
    rest = [(key, value) for key, value in request.query_params.multi_items() if key != TOKEN_PARAMETER]
    return request.url.path + (f'?{urlencode(rest)}' if rest else '')


def teacher_guard(token: str) -> Callable[[Request], None]:
    """A FastAPI dependency: a request with the right token is exchanged for the cookie, one with a valid cookie
    goes on, anything else is refused."""

    def guard(request: Request) -> None:
        given = request.query_params.get(TOKEN_PARAMETER)
        if given is not None:
            if token_matches(token, given):
                raise TokenExchanged(without_token(request), request.url.scheme == 'https')
            raise NotTheTeacher
        if not cookie_valid(token, request.cookies.get(COOKIE_NAME)):
            raise NotTheTeacher

    return guard


def exchange(token: str) -> Callable[[Request, Exception], Response]:
    """The exception handler answering :class:`TokenExchanged`: 303 to the page without the token, with the cookie."""

    def answer(_request: Request, error: Exception) -> Response:
        assert isinstance(error, TokenExchanged)
        response = RedirectResponse(error.location, status_code=303)
        response.headers['Cache-Control'] = 'no-store'
        response.headers['Referrer-Policy'] = 'no-referrer'
        response.set_cookie(
            COOKIE_NAME,
            teacher_cookie(token),
            max_age=COOKIE_MAX_AGE_S,
            path='/',  # the page's socket.io connection carries it too: the board's buttons are checked against it
            secure=error.secure,
            httponly=True,
            samesite='strict',
        )
        return response

    return answer


def socket_is_the_teachers(token: str) -> Callable[[Mapping[str, Any]], bool]:
    """For :func:`lesson.web.socket_events.require`: the socket's own request carries a valid teacher cookie."""
    return lambda environ: cookie_valid(token, cookie_of(environ, COOKIE_NAME))


def install(token: str) -> None:
    app.add_exception_handler(NotTheTeacher, forbidden)
    app.add_exception_handler(TokenExchanged, exchange(token))


def teacher_link(path: str, **query: str) -> str:
    """A link to another teacher page: the cookie is the credential, so the address carries none."""
    return f'{path}?{urlencode(query)}' if query else path
