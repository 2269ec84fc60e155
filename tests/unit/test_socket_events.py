"""The NiceGUI internals :mod:`lesson.web.socket_events` reaches into are there in the installed NiceGUI."""

from __future__ import annotations

from nicegui import core, ui
from nicegui.client import Client

from lesson.web import socket_events


def test_nicegui_keeps_the_sockets_of_a_client_where_the_check_reads_them() -> None:
    client = Client(ui.page('/socket-events-probe'))
    try:
        for name in socket_events.INTERNALS:
            assert isinstance(getattr(client, name), dict), name
    finally:
        client.delete()


def test_nicegui_handles_the_guarded_messages_on_the_default_namespace() -> None:
    handlers = core.sio.handlers['/']
    assert all(callable(handlers.get(kind)) for kind in socket_events.GUARDED_MESSAGES)


def test_a_cookie_is_read_from_the_socket_request() -> None:
    environ = {'HTTP_COOKIE': 'a=1; lesson_teacher=1.abc.def; b=2'}
    assert socket_events.cookie_of(environ, 'lesson_teacher') == '1.abc.def'
    assert socket_events.cookie_of(environ, 'missing') is None
