"""A Redis URL as it may be shown (log lines, start-up, refusals): without its password, wherever it was written.

redis-py takes a password in the user-info (``redis://:secret@host``) and also as a query parameter
(``unix:///run/redis.sock?password=secret``, the usual form for a socket); both are replaced by ``***``. A URL that
does not parse is named by its scheme only: a mistyped one may still carry the password.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

MASK = '***'
#: Query parameters redis-py reads as credentials (``password``, and ``username`` beside it would say whose).
SECRET_PARAMETERS = frozenset({'password', 'pass', 'passwd', 'pwd', 'token', 'secret'})


def scheme_only(url: str) -> str:
    """What a URL that cannot be shown is called: its scheme, when it has a plausible one."""
    scheme, separator, _ = url.partition('://')
    if separator and scheme.isascii() and scheme.replace('+', '').isalnum() and len(scheme) <= 16:
        return f'a {scheme}:// URL'
    return 'a URL without a scheme'


def redacted(url: str) -> str:
    """The URL with any password replaced by ``***`` (user-info and query); :func:`scheme_only` when unparsable."""
    try:
        parts = urlsplit(url)
        port = parts.port
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        return scheme_only(url)
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ''
        host = f'[{host}]' if ':' in host else host
        netloc = f'{parts.username or ""}:{MASK}@{host}' + (f':{port}' if port else '')
    shown = parts.query
    if any(name.lower() in SECRET_PARAMETERS for name, _ in query):
        shown = urlencode(
            [(name, MASK if name.lower() in SECRET_PARAMETERS else value) for name, value in query], safe='*'
        )
    # by hand, not urlunsplit: that drops the empty host of unix:///path
    return f'{parts.scheme}://{netloc}{parts.path}' + (f'?{shown}' if shown else '')
