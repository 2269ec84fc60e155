"""The one check in front of every teacher page and export, and the links that carry the teacher's credential.

Today the credential is the start-up token in the address (``?token=``); when it becomes a cookie, this module is
the one that changes.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import PlainTextResponse

from lesson.teaching.access import token_matches

FORBIDDEN = '403 Forbidden: the teacher pages need the teacher address printed when the app started.\n'


class NotTheTeacher(Exception):
    """Raised by the guard; answered with :func:`forbidden` before any page is built."""


def forbidden(_request: Request | None = None, _error: Exception | None = None) -> PlainTextResponse:
    return PlainTextResponse(FORBIDDEN, status_code=403, headers={'Cache-Control': 'no-store'})


def credential(request: Request) -> str:
    """The teacher's credential as this request carries it (for the links a page draws; never logged)."""
    return request.query_params.get('token', '')


def teacher_guard(token: str) -> Callable[[Request], None]:
    """A FastAPI dependency that lets through only requests carrying ``token`` (compared in constant time)."""

    def guard(request: Request) -> None:
        if not token_matches(token, credential(request)):
            raise NotTheTeacher

    return guard


def token_link(path: str, token: str, **query: str) -> str:
    """A link to another teacher page that keeps the credential."""
    return f'{path}?{urlencode({"token": token, **query})}'
