"""Who may run a page's events: the socket that page opened, and for a teacher's page a socket with the teacher's
cookie. The one reach into NiceGUI's socket.io handlers, checked against the pinned NiceGUI (3.18).

NiceGUI runs an ``event`` message for whatever ``client_id`` it names (``nicegui.nicegui._on_event`` ignores the
sending socket), so a student who learned the class board's client id could press the teacher's buttons from their
own page's socket. Here an ``event`` or ``javascript_response`` is run only when the socket that sent it handshook
for that client (NiceGUI's ``Client._socket_to_document_id``), and, for a client a page marked with
:func:`require`, only when that socket's own handshake request passes the check given (the teacher's cookie, read
from the socket's request, never from the page's). Anything else is dropped and counted in one line a minute.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from nicegui import core
from nicegui.client import Client

log = logging.getLogger(__name__)

#: NiceGUI internals used here (a test checks them on the installed version).
INTERNALS = ('_socket_to_document_id',)
GUARDED_MESSAGES = ('event', 'javascript_response')
WARN_EVERY_S = 60.0

Environ = Mapping[str, Any]
_checks: dict[str, Callable[[Environ], bool]] = {}


class _Dropped:
    count = 0
    said_at = -float('inf')


def require(client: Client, allowed: Callable[[Environ], bool]) -> None:
    """Run ``client``'s events only from sockets whose handshake request passes ``allowed`` (given its environ)."""
    _checks[client.id] = allowed
    client.on_delete(lambda: _checks.pop(client.id, None))


def cookie_of(environ: Environ, name: str) -> str | None:
    """One cookie of a socket's handshake request."""
    for part in str(environ.get('HTTP_COOKIE', '')).split(';'):
        key, _, value = part.strip().partition('=')
        if key == name:
            return value
    return None


def sent_by_its_socket(sid: str, message: object) -> bool:
    if not isinstance(message, dict):
        return False
    client = Client.instances.get(str(message.get('client_id')))
    if client is None or sid not in getattr(client, '_socket_to_document_id', {}):
        return False
    check = _checks.get(client.id)
    return check is None or check(core.sio.get_environ(sid) or {})


def _dropped(kind: str) -> None:
    _Dropped.count += 1
    now = time.monotonic()
    if now - _Dropped.said_at >= WARN_EVERY_S:
        log.warning('dropped %d socket.io %s message(s) naming a page its socket did not open', _Dropped.count, kind)
        _Dropped.said_at, _Dropped.count = now, 0


def install() -> None:
    """Put the check in front of NiceGUI's own handlers; call once, before ``ui.run``."""
    handlers = core.sio.handlers['/']
    for kind in GUARDED_MESSAGES:
        original = handlers[kind]

        def guarded(sid: str, message: Any, _original: Callable[..., Any] = original, _kind: str = kind) -> Any:
            if sent_by_its_socket(sid, message):
                return _original(sid, message)
            _dropped(_kind)
            return None

        core.sio.on(kind, handler=guarded)
