"""The hardening of the page server, against the console script as a subprocess (no browser needed):
security headers, no file for a cookie-less visitor, a truncated progress file found at start-up, the header
timeout against slowloris, and under TLS a Secure cookie and HSTS."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from ..support.app_process import RunningApp, insecure_context


@pytest.fixture
def app(tmp_path: Path) -> Iterator[RunningApp]:
    running = RunningApp(data_dir=tmp_path, extra_args=['--header-timeout', '1'])
    running.start()
    yield running
    running.stop()


def get(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], list[str]]:
    request = urllib.request.Request(url, headers={'Cookie': cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10, context=insecure_context()) as answer:
        return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.headers.get_all('set-cookie')


def user_files(app: RunningApp) -> list[Path]:
    return sorted((app.data_dir / 'storage').glob('storage-user-*'))


def test_pages_carry_the_security_headers(app: RunningApp) -> None:
    for path in ('/', '/quiz', '/demo'):
        status, headers, _ = get(app.url + path)
        assert status == 200
        assert headers['x-content-type-options'] == 'nosniff' and headers['referrer-policy'] == 'no-referrer'
        assert headers['x-frame-options'] == 'DENY'
        assert "frame-ancestors 'none'" in headers['content-security-policy']
        assert f'ws://127.0.0.1:{app.echo_port}' in headers['content-security-policy']
        assert 'strict-transport-security' not in headers


def test_cookie_less_visits_leave_no_file(app: RunningApp) -> None:
    for _ in range(30):
        for path in ('/', '/quiz', '/demo'):
            get(app.url + path)
    app.stop()  # NiceGUI writes storage in the background; a graceful stop writes whatever was pending
    assert user_files(app) == []


def test_a_truncated_progress_file_is_found_at_start_up_and_kept(app: RunningApp) -> None:
    app.stop()
    folder = app.data_dir / 'storage'
    path = folder / 'storage-user-0d6c5c1e-aaaa-bbbb-cccc-123456789abc.json'
    whole = json.dumps({'quiz': {'current': None, 'attempts': [{'number': 1, 'score': 3, 'total': 4}]}})
    path.write_text(whole[:40], encoding='utf-8')
    app.start()
    [kept] = list(folder.glob(path.name + '.unreadable-*'))
    assert kept.read_text(encoding='utf-8') == whole[:40] and not path.exists()
    warning = next(line for line in app.log.splitlines() if str(path) in line)
    assert 'WARNING' in warning and kept.name in warning


def test_slowloris_sockets_are_closed_after_the_header_timeout(app: RunningApp) -> None:
    sockets = []
    for _ in range(200):
        held = socket.create_connection(('127.0.0.1', app.port), timeout=10)
        held.sendall(b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')  # and never the end of the headers
        sockets.append(held)
    started = time.monotonic()
    answers = [held.recv(100) for held in sockets]  # blocks until the server answers or closes
    waited = time.monotonic() - started
    for held in sockets:
        held.close()
    assert all(answer.startswith(b'HTTP/1.1 408') for answer in answers)
    assert waited < 5  # --header-timeout 1; without it they are held for as long as the client likes
    assert get(app.url + '/')[0] == 200  # and the app still serves
    assert 'did not send their request headers in time' in app.log


def test_under_tls_the_cookie_is_secure_and_hsts_is_sent(tmp_path: Path) -> None:
    certificate = trustme.CA().issue_cert('127.0.0.1', 'localhost')
    certificate.cert_chain_pems[0].write_to_path(tmp_path / 'cert.pem')
    certificate.private_key_pem.write_to_path(tmp_path / 'key.pem')
    running = RunningApp(
        data_dir=tmp_path,
        scheme='https',
        extra_args=['--certfile', str(tmp_path / 'cert.pem'), '--keyfile', str(tmp_path / 'key.pem')],
    )
    running.start()
    try:
        status, headers, cookies = get(running.url + '/')
    finally:
        running.stop()
    assert status == 200 and headers['strict-transport-security'].startswith('max-age=')
    assert f'wss://127.0.0.1:{running.echo_port}' in headers['content-security-policy']
    assert 'ws://' not in headers['content-security-policy'].replace('wss://', '')
    session = next(cookie for cookie in cookies if cookie.startswith('session='))
    assert '; secure' in session.lower()
