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

**Behind a proxy** (several instances, one public address) the browser's ``Host`` and scheme reach the echo server
only as the proxy forwards them (``Forwarded: proto=..;host=..``, RFC 7239, or ``X-Forwarded-Proto`` and
``X-Forwarded-Host``). Anyone can send those headers, so they count only when the request comes from a trusted
proxy's address (``--trusted-proxy``): :func:`forwarded_origin`. The page must then have exactly that origin
(the pages and the echo server share it: one port for everything).

Like the Same-Origin Policy itself, the rule trusts the name the browser used: a DNS-rebinding attacker, who
can already read the app's own pages under their name, could reach the echo server the same way.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
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


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (``::ffff:127.0.0.1`` too: a dual-stack socket's view of IPv4 loopback)."""
    try:
        address = ipaddress.ip_address(host.strip('[]'))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def peer_is_trusted(peer: str | None, trusted_proxies: Iterable[str]) -> bool:
    """Whether the TCP peer's address is one of the trusted proxies (addresses or networks)."""
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer.strip('[]'))
    except ValueError:
        return False
    for proxy in trusted_proxies:
        try:
            if address in ipaddress.ip_network(proxy.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


#: What a proxy may say the browser used; WebSocket schemes are those of the page that opened them.
_PAGE_SCHEMES = {'http': 'http', 'https': 'https', 'ws': 'http', 'wss': 'https'}


def _first_forwarded(value: str) -> dict[str, str]:
    """The first element of an RFC 7239 ``Forwarded`` header (the one the browser's proxy added) as a dict."""
    element = value.split(',', 1)[0]
    pairs = {}
    for part in element.split(';'):
        name, sep, raw = part.strip().partition('=')
        if sep:
            pairs[name.strip().lower()] = raw.strip().strip('"')
    return pairs


def forwarded_origin(headers: Mapping[str, str], peer: str | None, trusted_proxies: Iterable[str]) -> Origin | None:
    """The origin the browser used, as a trusted proxy forwarded it, or :obj:`None`.

    ``headers`` are the request's (names in lower case). None when the peer is not a trusted proxy, or the proxy
    said nothing usable: then the plain ``Host`` rule applies, as without a proxy.
    """
    if not peer_is_trusted(peer, trusted_proxies):
        return None
    if forwarded := headers.get('forwarded'):
        pairs = _first_forwarded(forwarded)
        proto, host = pairs.get('proto'), pairs.get('host')
    else:
        proto = headers.get('x-forwarded-proto', '').split(',')[0].strip() or None
        host = headers.get('x-forwarded-host', '').split(',')[0].strip() or None
    if not proto or not host or proto.lower() not in _PAGE_SCHEMES:
        return None
    return parse_origin(f'{_PAGE_SCHEMES[proto.lower()]}://{host}')


def forwarded_client(headers: Mapping[str, str], peer: str | None, trusted_proxies: Iterable[str]) -> str | None:
    """The browser's address as a trusted proxy forwarded it (the last ``X-Forwarded-For`` entry, the one that
    proxy added, or ``Forwarded``'s ``for``), or :obj:`None` when the peer is not a trusted proxy.

    Per-address limits count this address behind a proxy: otherwise every learner would be the proxy.
    """
    if not peer_is_trusted(peer, trusted_proxies):
        return None
    if forwarded := headers.get('forwarded'):
        client = _first_forwarded(forwarded).get('for')
    else:
        entries = [entry.strip() for entry in headers.get('x-forwarded-for', '').split(',') if entry.strip()]
        client = entries[-1] if entries else None
    if not client:
        return None
    try:
        return str(ipaddress.ip_address(client.strip('"[]')))
    except ValueError:
        return None


def origin_allowed(
    origin: str | None,
    allowed_origins: Iterable[str],
    allow_missing_origin: bool,
    *,
    app_scheme: str | None = None,
    app_port: int | None = None,
    request_host: str | None = None,
    forwarded: Origin | None = None,
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
        forwarded: The public origin a trusted proxy says the browser used (:func:`forwarded_origin`); a page of
            exactly that origin is allowed, and the same-address rule is not applied (the proxy's ``Host`` and
            port are not the app's).
    """
    if origin is None:
        return allow_missing_origin
    page = parse_origin(origin)
    if page is None:
        return False
    if any(parse_origin(allowed) == page for allowed in allowed_origins):
        return True
    if forwarded is not None:
        return page == forwarded
    if app_scheme is None or app_port is None:
        return False
    reached_at = host_without_port(request_host)
    return (
        page.scheme == app_scheme.lower()
        and page.port == app_port
        and reached_at is not None
        and page.host == reached_at.lower()
    )
