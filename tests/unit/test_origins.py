"""The Origin check: the explicit list, and the app's own page reached at the echo server's address."""

from __future__ import annotations

import pytest

from demos.protocol.origins import Origin, host_without_port, is_loopback, origin_allowed, parse_origin

LOOPBACK_ORIGINS = ('http://127.0.0.1:8080', 'http://localhost:8080')


def test_origins_are_normalised() -> None:
    assert parse_origin('http://127.0.0.1:8080') == Origin('http', '127.0.0.1', 8080)
    assert parse_origin('HTTPS://Teacher.Local') == Origin('https', 'teacher.local', 443)
    assert parse_origin('http://[fe80::1]:8080') == Origin('http', 'fe80::1', 8080)
    assert parse_origin('http://host:80/') == parse_origin('http://host')


@pytest.mark.parametrize(
    'text',
    [
        'null',
        '',
        'file://',
        'http://',
        'http://h:port',
        'http://h:99999',
        'http://h/page',
        'http://u@h',
        'chrome-extension://abc',
        'http://h?x=1',
    ],
)
def test_what_is_not_an_origin(text: str) -> None:
    assert parse_origin(text) is None


@pytest.mark.parametrize(
    ('header', 'host'),
    [
        ('192.168.1.5:8765', '192.168.1.5'),
        ('Teacher.local', 'teacher.local'),
        ('[::1]:8765', '::1'),
        ('[fe80::1]', 'fe80::1'),
        (None, None),
        ('', None),
        ('h:x', None),
        ('h/path', None),
        ('u@h:1', None),
    ],
)
def test_the_host_a_client_used(header: str | None, host: str | None) -> None:
    assert host_without_port(header) == host


def test_the_explicit_list_and_missing_origins() -> None:
    assert origin_allowed('http://127.0.0.1:8080', LOOPBACK_ORIGINS, allow_missing_origin=False)
    assert origin_allowed('http://LOCALHOST:8080', LOOPBACK_ORIGINS, allow_missing_origin=False)
    assert not origin_allowed('http://127.0.0.1:8081', LOOPBACK_ORIGINS, allow_missing_origin=True)
    assert not origin_allowed('https://127.0.0.1:8080', LOOPBACK_ORIGINS, allow_missing_origin=True)
    assert not origin_allowed('null', LOOPBACK_ORIGINS, allow_missing_origin=True)
    assert origin_allowed(None, LOOPBACK_ORIGINS, allow_missing_origin=True)
    assert not origin_allowed(None, LOOPBACK_ORIGINS, allow_missing_origin=False)


def allowed_for_a_class(origin: str, host_header: str | None, scheme: str = 'http') -> bool:
    """The app serves a class on 0.0.0.0:8080 (echo server on 8765); the client reached it with ``host_header``."""
    return origin_allowed(
        origin, LOOPBACK_ORIGINS, allow_missing_origin=True, app_scheme=scheme, app_port=8080, request_host=host_header
    )


def test_the_apps_own_page_at_the_echo_servers_address_is_allowed() -> None:
    assert allowed_for_a_class('http://192.168.1.5:8080', '192.168.1.5:8765')
    assert allowed_for_a_class('http://teacher.local:8080', 'Teacher.Local:8765')
    assert allowed_for_a_class('http://[fe80::1]:8080', '[fe80::1]:8765')
    assert allowed_for_a_class('https://192.168.1.5:8080', '192.168.1.5:8765', scheme='https')
    assert allowed_for_a_class('http://192.168.1.5', '192.168.1.5:8765', scheme='http') is False  # port 80


@pytest.mark.parametrize(
    ('origin', 'host_header'),
    [
        ('http://192.168.1.5:8081', '192.168.1.5:8765'),  # another port on the teacher's machine
        ('http://192.168.1.6:8080', '192.168.1.5:8765'),  # another machine
        ('https://192.168.1.5:8080', '192.168.1.5:8765'),  # another scheme
        ('http://evil.example:8080', '192.168.1.5:8765'),  # a foreign site on the app's port number
        ('http://192.168.1.5:8080', None),  # no Host header: nothing to compare with
        ('http://192.168.1.5:8080', 'bad host'),
        ('null', '192.168.1.5:8765'),
    ],
)
def test_a_foreign_page_is_still_refused(origin: str, host_header: str | None) -> None:
    assert not allowed_for_a_class(origin, host_header)


def test_the_same_address_rule_is_off_without_the_apps_scheme_and_port() -> None:
    assert not origin_allowed(
        'http://192.168.1.5:8080', LOOPBACK_ORIGINS, allow_missing_origin=True, request_host='192.168.1.5:8765'
    )


@pytest.mark.parametrize(
    ('host', 'loopback'),
    [
        ('127.0.0.1', True),
        ('127.0.0.2', True),
        ('::1', True),
        ('[::1]', True),
        ('::ffff:127.0.0.1', True),
        ('192.168.1.5', False),
        ('::ffff:10.0.0.1', False),
        ('localhost', False),
        ('', False),
    ],
)
def test_only_this_machines_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
