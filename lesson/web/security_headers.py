"""What every answer of the page server tells the browser: security headers (a pure ASGI middleware) and the
learner cookie's flags.

No MIME sniffing, no referrer, no framing, the strictest Content-Security-Policy NiceGUI's pages work under, and
HSTS under TLS. The decisions are pure functions (:func:`content_security_policy`, :func:`security_headers`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from lesson.config import Config

#: HSTS lifetime. Short on purpose: a teacher's laptop that serves https today may serve plain http at the same
#: name next week, and a browser that remembered HSTS for a year would refuse it; a day covers a lesson.
HSTS_MAX_AGE_S = 24 * 3600
#: A Host header we put into the policy must be a plain host name or address: anything else (``;``, spaces,
#: quotes) could add directives of the sender's choosing to their own answer, so it is left out instead.
_SAFE_HOST = re.compile(r'^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$')
#: The same for a configured public echo address's ``host[:port]``.
_SAFE_ORIGIN = re.compile(r'^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$')


def host_of(host_header: str | None) -> str | None:
    """The host part of a ``Host`` header (``[::1]:8080`` -> ``[::1]``), or None when it is absent or odd."""
    if not host_header:
        return None
    host = host_header.strip()
    if host.startswith('['):
        host = host[: host.find(']') + 1] if ']' in host else ''
    else:
        host = host.rsplit(':', 1)[0] if host.count(':') == 1 else host
    return host if _SAFE_HOST.match(host) else None


def echo_sources(host: str | None, echo_port: int, tls: bool, public_echo_url: str | None = None) -> str:
    """The ``connect-src`` entries for the echo server (with a leading space), or ``''`` when 'self' covers it.

    Behind a proxy (``--public-echo-url``) the demos use that address instead of the echo port: a path on the
    page's own origin is covered by ``'self'``; an absolute ``ws(s)://`` URL is allowed as its scheme and host, in
    both its WebSocket and its HTTP form (polls and SSE go to the same place).
    """
    if public_echo_url:
        if public_echo_url.startswith('/'):
            return ''
        parts = urlsplit(public_echo_url)
        origin = parts.netloc.rsplit('@', 1)[-1]
        if not _SAFE_ORIGIN.match(origin):
            return ''
        secure = parts.scheme == 'wss'
        return f' {parts.scheme}://{origin} {"https" if secure else "http"}://{origin}'
    ws, http = ('wss', 'https') if tls else ('ws', 'http')
    return f' {ws}://{host}:{echo_port} {http}://{host}:{echo_port}' if host else ''


def content_security_policy(host: str | None, echo_port: int, tls: bool, public_echo_url: str | None = None) -> str:
    """The policy of every page: the strictest that NiceGUI (Vue, Quasar) and the demos work under.

    NiceGUI renders each page with inline ``<script>`` blocks and Vue compiles templates at run time, so
    ``'unsafe-inline'`` and ``'unsafe-eval'`` stay in ``script-src``; everything else comes from the app itself.
    The demos talk to the echo server on its own port at the host the page was loaded from (WebSocket,
    ``fetch`` for polls, ``EventSource`` for SSE), so ``connect-src`` names exactly that origin, and only
    the secure schemes under TLS. Framing is refused (``frame-ancestors 'none'``: clickjacking).
    """
    echo = echo_sources(host, echo_port, tls, public_echo_url)
    return '; '.join(
        (
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            # 'self' covers NiceGUI's own socket.io connection (ws:// to the page's origin) in CSP level 3 browsers
            f"connect-src 'self'{echo}",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(
    host_header: str | None, echo_port: int, tls: bool, public_echo_url: str | None = None
) -> list[tuple[bytes, bytes]]:
    policy = content_security_policy(host_of(host_header), echo_port, tls, public_echo_url)
    headers = [
        (b'x-content-type-options', b'nosniff'),
        (b'referrer-policy', b'no-referrer'),
        (b'x-frame-options', b'DENY'),
        (b'content-security-policy', policy.encode()),
    ]
    if tls:
        headers.append((b'strict-transport-security', f'max-age={HSTS_MAX_AGE_S}'.encode()))
    return headers


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeadersMiddleware:
    """Adds :func:`security_headers` to every HTTP answer (a plain ASGI middleware: streams stay streams)."""

    def __init__(self, app: ASGIApp, echo_port: int, tls: bool, public_echo_url: str | None = None) -> None:
        self.app = app
        self.echo_port = echo_port
        self.tls = tls
        self.public_echo_url = public_echo_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        host = next((value.decode('latin-1') for name, value in scope.get('headers', ()) if name == b'host'), None)
        extra = security_headers(host, self.echo_port, self.tls, self.public_echo_url)
        ours = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message['type'] == 'http.response.start':
                kept = [(name, value) for name, value in message.get('headers', ()) if name.lower() not in ours]
                message['headers'] = [*kept, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def session_cookie_options(config: Config) -> dict[str, Any]:
    """Starlette's SessionMiddleware options: under TLS the learner cookie is ``Secure`` (never sent over http)."""
    return {'https_only': True, 'same_site': 'lax'} if config.uses_tls else {'same_site': 'lax'}
