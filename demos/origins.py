"""Which web pages may use the echo server: the ``Origin`` check, as pure functions.

Browsers send ``Origin`` on every WebSocket handshake and on every cross-origin ``fetch``, and a page cannot
forge it. Checking it is what stops a foreign page from using the server through a learner's browser
(cross-site WebSocket hijacking): the Same-Origin Policy does not protect WebSockets by itself.

The rule: a page may connect when its origin is in the explicit list (the app's loopback origins plus
``--allowed-origin``), **or** when it is this app's own page reached at the same address as the echo server:
same scheme and port as the app, and the same host as the ``Host`` header of the request to the echo server.
The second half is what lets a class reach a teacher's app on ``--host 0.0.0.0`` at
``http://192.168.1.5:8080`` — an address the app cannot list, since it does not know which of its
addresses the class uses. A page on another port or another host is still refused.

Like the Same-Origin Policy itself, the rule trusts the name the browser used: a DNS-rebinding attacker, who
can already read the app's own pages under their name, could reach the echo server the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

#: The port a browser leaves out of an origin, by scheme.
DEFAULT_PORTS = {'http': 80, 'https': 443, 'ws': 80, 'wss': 443}


@dataclass(frozen=True, slots=True)
class Origin:
    """A parsed ``scheme://host:port``, normalised: lower case, no IPv6 brackets, the default port filled in."""

    scheme: str
    host: str
    port: int


def parse_origin(text: str) -> Origin | None:
    """``text`` as an :class:`Origin`, or :obj:`None` when it is not one (e.g. ``null``, a path, a bad port)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname  # lower-cased by urlsplit, IPv6 brackets removed
    if scheme not in DEFAULT_PORTS or not host or parts.path not in ('', '/') or parts.query or parts.username:
        return None
    return Origin(scheme, host, port if port is not None else DEFAULT_PORTS[scheme])


def host_without_port(host_header: str | None) -> str | None:
    """The host part of a ``Host`` header (``192.168.1.5:8765`` -> ``192.168.1.5``, ``[::1]:80`` -> ``::1``)."""
    if not host_header:
        return None
    try:
        parts = urlsplit('//' + host_header.strip())
        parts.port  # noqa: B018 -- raises ValueError on a port that is not a number
    except ValueError:
        return None
    if parts.path or parts.query or parts.fragment or parts.username is not None:
        return None
    return parts.hostname or None


def origin_allowed(
    origin: str | None,
    allowed_origins: Iterable[str],
    allow_missing_origin: bool,
    *,
    app_scheme: str | None = None,
    app_port: int | None = None,
    request_host: str | None = None,
) -> bool:
    """Whether a request with this ``Origin`` header may use the server.

    Args:
        origin: The request's ``Origin`` header, or :obj:`None` when it has none.
        allowed_origins: Origins always allowed (``scheme://host[:port]``).
        allow_missing_origin: Whether a request without ``Origin`` is served. Only programs (``websocat``, the
            benchmark) send none, and they could send any header they like, so refusing them protects nothing.
        app_scheme: ``http`` or ``https``: how the app serves its pages. With ``app_port``, enables the
            same-address rule; :obj:`None` disables it.
        app_port: The port the app serves its pages on.
        request_host: The ``Host`` header of the request to the echo server (its port is ignored).
    """
    if origin is None:
        return allow_missing_origin
    page = parse_origin(origin)
    if page is None:
        return False
    if any(parse_origin(allowed) == page for allowed in allowed_origins):
        return True
    if app_scheme is None or app_port is None:
        return False
    reached_at = host_without_port(request_host)
    return (
        page.scheme == app_scheme.lower()
        and page.port == app_port
        and reached_at is not None
        and page.host == reached_at.lower()
    )
