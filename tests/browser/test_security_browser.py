"""The echo server's guards as a browser meets them: a foreign page cannot use it, the app's own page can (also
at an address the app could not list), and over TLS everything is wss:// and https:// with no mixed content.

Chromium resolves two made-up names to this machine, so a page can come from "another address" without the
test listening beyond loopback: ``classroom.test`` plays the teacher's LAN address (the app on --host 0.0.0.0
reached as http://192.168.1.5:8080), ``evil.test`` a foreign site.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from playwright.sync_api import Browser, Page, Playwright, expect

from .conftest import CHROMIUM, CHROMIUM_ARGS, RunningApp, free_port

SLOW = 20_000  # ms: a shared 2-core machine can be slow
ALIASES = ('classroom.test', 'evil.test')

# What a foreign page would try: open the echo socket and read a poll. It reports what happened in window.__result.
ATTACK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not the lesson</title></head><body><script>
const params = new URLSearchParams(location.search);
const host = params.get('host'), port = params.get('port');
const socketResult = new Promise((resolve) => {
  const socket = new WebSocket(`ws://${host}:${port}/echo?session=victim`);
  let errored = false;
  socket.onerror = () => { errored = true; };
  socket.onopen = () => { socket.send('hijacked'); };
  socket.onmessage = (event) => resolve({ opened: true, echoed: event.data });
  socket.onclose = (event) => resolve({ opened: false, errored, code: event.code });
});
const pollResult = fetch(`http://${host}:${port}/poll?session=victim&after=0`)
  .then((response) => response.text().then((text) => ({ read: true, status: response.status, text })))
  .catch((error) => ({ read: false, error: error.name }));
Promise.all([socketResult, pollResult]).then(([socket, poll]) => { window.__result = { socket, poll }; });
</script></body></html>
"""

# The same two things from the app's own page, through page.evaluate.
OWN_PAGE_ECHO = """async ([host, port, secure]) => {
  const echoed = await new Promise((resolve, reject) => {
    const socket = new WebSocket(`${secure ? 'wss' : 'ws'}://${host}:${port}/echo`);
    socket.onopen = () => socket.send('from the lesson');
    socket.onmessage = (event) => { resolve(event.data); socket.close(); };
    socket.onclose = (event) => reject(new Error(`closed with ${event.code}`));
  });
  const response = await fetch(`${secure ? 'https' : 'http'}://${host}:${port}/poll?after=0`);
  return { echoed, pollStatus: response.status, updates: (await response.json()).updates.length };
}"""


@pytest.fixture(scope='module')
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Chromium that resolves the two made-up names to 127.0.0.1."""
    rules = ', '.join(f'MAP {name} 127.0.0.1' for name in ALIASES)
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, f'--host-resolver-rules={rules}']
    )
    yield browser
    browser.close()


@pytest.fixture(scope='module')
def attack_site() -> Iterator[int]:
    """A plain HTTP server on another loopback port that serves the foreign page; yields its port."""

    class AttackPage(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = ATTACK_PAGE.encode()
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows what matters
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', free_port()), AttackPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def attack(page: Page, page_origin: str, echo_host: str, echo_port: int) -> dict[str, Any]:
    page.goto(f'{page_origin}/evil.html?host={echo_host}&port={echo_port}')
    page.wait_for_function('window.__result !== undefined', timeout=SLOW)
    return page.evaluate('window.__result')


def assert_refused(result: dict[str, Any]) -> None:
    # The browser does not tell a page why a handshake failed: a 403 is an error and a close with 1006.
    assert result['socket'] == {'opened': False, 'errored': True, 'code': 1006}, result
    # The 403 carries no Access-Control-Allow-Origin, so fetch() rejects: the page learns nothing.
    assert result['poll'] == {'read': False, 'error': 'TypeError'}, result


def test_a_foreign_page_cannot_use_the_echo_server_and_the_apps_own_page_can(
    lesson_app: RunningApp, page: Page, attack_site: int
) -> None:
    foreign_origin = f'http://127.0.0.1:{attack_site}'
    assert_refused(attack(page, foreign_origin, '127.0.0.1', lesson_app.echo_port))
    assert f'pages from {foreign_origin} may not use this server (403 Forbidden)' in lesson_app.log

    page.goto(lesson_app.url + '/demo')
    result = page.evaluate(OWN_PAGE_ECHO, ['127.0.0.1', lesson_app.echo_port, False])
    assert result == {'echoed': 'from the lesson', 'pollStatus': 200, 'updates': result['updates']}


def test_the_apps_page_at_an_address_it_could_not_list_gets_in_and_a_neighbour_does_not(
    lesson_app: RunningApp, page: Page, attack_site: int
) -> None:
    """A class reaches the app by a name of the teacher's machine: page and echo server at the same address."""
    page.goto(f'http://classroom.test:{lesson_app.port}/demo')
    # the page's own scripts found the echo server at the address the page came from
    expect(page.locator('[data-url=push]')).to_contain_text(
        f'ws://classroom.test:{lesson_app.echo_port}/push', timeout=SLOW
    )
    result = page.evaluate(OWN_PAGE_ECHO, ['classroom.test', lesson_app.echo_port, False])
    assert result['echoed'] == 'from the lesson' and result['pollStatus'] == 200

    # Same host, another port: another origin. Another host on the app's port number: another origin too.
    assert_refused(attack(page, f'http://classroom.test:{attack_site}', 'classroom.test', lesson_app.echo_port))
    assert_refused(attack(page, f'http://evil.test:{attack_site}', 'classroom.test', lesson_app.echo_port))
    assert_refused(attack(page, f'http://evil.test:{attack_site}', 'evil.test', lesson_app.echo_port))


@pytest.fixture(scope='module')
def tls_app(start_app: Callable[..., RunningApp], tmp_path_factory: pytest.TempPathFactory) -> RunningApp:
    """The app with a certificate from a throwaway authority (the browser context ignores certificate errors)."""
    folder: Path = tmp_path_factory.mktemp('tls')
    certificate = trustme.CA().issue_cert('127.0.0.1', 'localhost')
    certificate.cert_chain_pems[0].write_to_path(folder / 'cert.pem')
    certificate.private_key_pem.write_to_path(folder / 'key.pem')
    return start_app('--certfile', str(folder / 'cert.pem'), '--keyfile', str(folder / 'key.pem'), scheme='https')


def test_over_tls_everything_is_wss_and_https(tls_app: RunningApp, page: Page) -> None:
    requests: list[str] = []
    sockets: list[str] = []
    page.on('request', lambda request: requests.append(request.url))
    page.on('websocket', lambda socket: sockets.append(socket.url))

    page.goto(tls_app.url + '/')
    expect(page.locator('h1').first).to_be_visible(timeout=SLOW)
    page.goto(tls_app.url + '/demo')
    expect(page.locator('[data-echo-scheme=wss]')).to_be_visible()
    expect(page.locator('[data-url=push]')).to_contain_text(f'wss://127.0.0.1:{tls_app.echo_port}/push', timeout=SLOW)
    # Run the comparison for a moment, so the page's own poller and push socket talk to the echo server.
    page.get_by_role('button', name='Start').click()
    page.wait_for_function(
        'Number(document.querySelector(\'[data-figure="push-updates"]\')?.dataset.value) >= 1', timeout=SLOW
    )
    page.get_by_role('button', name='Stop').click()

    result = page.evaluate(OWN_PAGE_ECHO, ['127.0.0.1', tls_app.echo_port, True])
    assert result['echoed'] == 'from the lesson' and result['pollStatus'] == 200

    echo_address = f'127.0.0.1:{tls_app.echo_port}'
    assert any(url.startswith(f'wss://{echo_address}/push') for url in sockets), sockets
    assert any(url.startswith(f'https://{echo_address}/poll') for url in requests), requests
    # No mixed content: not one plain request or socket, to the echo server or anywhere else.
    insecure = [url for url in requests + sockets if url.startswith(('http://', 'ws://'))]
    assert insecure == []
