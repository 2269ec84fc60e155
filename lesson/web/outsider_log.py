"""Log lines an outsider can trigger on the page server: one a minute per address and kind, with a count.

A script repeats whatever it can make the server say (5,000 crafted quiz answers were 5,000 WARNING lines in 5 s;
2,000 unknown paths 2,000 "not found" lines). The echo process already had the rule
(:class:`demos.protocol.limits.OncePerMinute`, in :mod:`demos.server.refusals`); the app uses the same class here, so
both processes say the same: the first line of a minute per address and kind, then one that says how many it stands
for. Counts left unsaid when a minute ends are logged with the next outsider's line.

The address is the browser's: uvicorn replaces the peer with ``X-Forwarded-For`` only from the trusted proxies
(:func:`lesson.web.hardening.server_options`), and :class:`ClientAddressMiddleware` keeps it for the log lines of
the request; an event of a page's socket takes the address the page was loaded from.

NiceGUI logs a page that does not exist as ``<the whole URL> not found``, query included (a mistyped teacher
address carries its token): :class:`NotFoundLines` rewrites that line to the path alone and throttles it.
"""

from __future__ import annotations

import contextvars
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from demos.protocol.limits import OncePerMinute

#: The address of the request being handled, for log lines written while handling it.
_client_address: contextvars.ContextVar[str | None] = contextvars.ContextVar('client_address', default=None)
#: NiceGUI's line for a page that does not exist (nicegui.py and page.py: ``log.warning(f'{request.url} not found')``).
_NOT_FOUND = re.compile(r'^(?P<url>\S+) not found$')


class OutsiderLog:
    """Writes warnings an outsider can trigger, one line a minute per address and kind."""

    def __init__(self, lines: OncePerMinute | None = None) -> None:
        self.lines = lines or OncePerMinute()

    def warning(
        self, logger: logging.Logger, kind: str, message: str, *args: object, address: str | None = None
    ) -> None:
        """``logger.warning(message, *args)`` as the first line of ``kind`` this minute from the client, or nothing.

        ``address``: the client's, where the context does not tell it (a socket.io handler outside any page).
        """
        self.say_unsaid(logger)
        address = address or client_address()
        count = self.lines.note(address, kind)
        if count is None:
            return
        more = f' ({count} such from this address since the last line)' if count > 1 else ''
        logger.warning(f'{message} [from %s]%s', *args, address, more)

    def say_unsaid(self, logger: logging.Logger) -> None:
        for address, kind, count in self.lines.unsaid():
            logger.warning('%d more %r from %s in the last minute', count, kind, address)


#: The page server's one instance (the echo process has its own, in its refusals).
OUTSIDERS = OutsiderLog()


def outsider_warning(
    logger: logging.Logger, kind: str, message: str, *args: object, address: str | None = None
) -> None:
    """A WARNING a client can trigger at will (a crafted event, a refused value): throttled per address."""
    OUTSIDERS.warning(logger, kind, message, *args, address=address)


def client_address() -> str:
    """The browser's address for the request or page event being handled ('unknown' outside of either)."""
    if (address := _client_address.get()) is not None:
        return address
    from nicegui import context, core

    if not core.app.is_started:  # before ui.run, NiceGUI's context would make a page of its own to answer
        return 'unknown'
    try:
        return context.client.ip or 'unknown'  # where the page was loaded from
    except RuntimeError:  # no page in this context (a timer), or a page without its request
        return 'unknown'


def path_only(url: str) -> str:
    """``url`` without its query and fragment: a token or session id in the query stays out of the log."""
    parts = urlsplit(url)
    hidden = '?…' if parts.query else ''
    return f'{parts.path or "/"}{hidden}'


class ClientAddressMiddleware:
    """Keeps the request's client address (after uvicorn's proxy-header handling) for log lines written meanwhile."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        client = scope.get('client')
        token = _client_address.set(str(client[0]) if client else 'unknown')
        try:
            await self.app(scope, receive, send)
        finally:
            _client_address.reset(token)


class NotFoundLines(logging.Filter):
    """On NiceGUI's logger: a "not found" line shows the path without its query, once a minute per address."""

    def __init__(self, outsiders: OutsiderLog = OUTSIDERS) -> None:
        super().__init__()
        self.outsiders = outsiders

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        found = _NOT_FOUND.match(message)
        if found is None:
            return True
        address = client_address()
        count = self.outsiders.lines.note(address, 'not found')
        if count is None:
            return False
        more = f' ({count} such from this address since the last line)' if count > 1 else ''
        record.msg, record.args = '%s not found [from %s]%s', (path_only(found['url']), address, more)
        return True


def install_outsider_log(app: Any) -> None:
    """Put the address middleware and the "not found" filter in place (``app``: NiceGUI's)."""
    app.add_middleware(ClientAddressMiddleware)
    nicegui_log = logging.getLogger('nicegui')
    if not any(isinstance(f, NotFoundLines) for f in nicegui_log.filters):
        nicegui_log.addFilter(NotFoundLines())
