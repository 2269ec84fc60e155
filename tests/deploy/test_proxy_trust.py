"""Issue 18 through deploy/run-local.sh (findings 4, 5, 10): behind HAProxy an instance believes only what the proxy
writes, logs name the browser and never a query, /control is not reachable through the proxy, and the script's logs
and state are the teacher's alone.

The browser is a second loopback address (127.0.0.2) reaching the proxy on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import re
import stat
from pathlib import Path

from lesson.web.deployment import ECHO_PREFIX, Instance, haproxy_config

from ..support.run_local import RunLocal
from ..support.waiting import wait_until

BROWSER = '127.0.0.2'
SESSION_ID = re.compile(r'"session":\s*"([A-Za-z0-9_.-]+)"')


def get(port: int, target: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """GET through the proxy from the browser's address; the status and the body."""
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10, source_address=(BROWSER, 0))
    try:
        connection.request('GET', target, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.read().decode(errors='replace')
    finally:
        connection.close()


def test_the_proxy_deletes_what_a_client_says_about_forwarding() -> None:
    text = haproxy_config([Instance('app1', '127.0.0.1', 18081, 18766)])
    frontend = text[text.index('frontend lesson') :]
    deletes = [frontend.index(f'http-request del-header {name}') for name in ('Forwarded', 'X-Forwarded- -m beg')]
    assert max(deletes) < frontend.index('option forwardfor') < frontend.index('set-header X-Forwarded-Proto')
    # the path is logged, never the query (option httplog's %{+Q}r is the whole request line)
    assert '    option httplog\n' not in text and '%{+Q}HPO' in text and '%{+Q}r' not in text
    assert f'deny deny_status 403 if {{ path_beg {ECHO_PREFIX}/control }}' in text


def test_behind_run_local_a_clients_forwarding_headers_change_nothing(tmp_path: Path) -> None:
    # an earlier run's world-readable log (the script used to leave them 0644) must be narrowed too
    (tmp_path / 'state').mkdir(mode=0o755)
    (tmp_path / 'state' / 'old.log').write_text('from an earlier run\n')
    (tmp_path / 'state' / 'old.log').chmod(0o644)
    with RunLocal(tmp_path, env={'WEBSOCKET_LESSON_SESSIONS_PER_MINUTE': '3'}) as deployment:
        port = deployment.public_port
        ids = []
        for _ in range(4):
            status, page = get(port, '/demo')
            assert status == 200
            ids += SESSION_ID.findall(page)[:1]
        assert len(ids) == 4, 'no session id found in /demo'
        # Finding 4: each poll claims another browser; the instance counts the one the proxy saw
        statuses = [
            get(port, f'{ECHO_PREFIX}/poll?session={sid}&after=0', {'Forwarded': f'for=10.9.9.{n}'})[0]
            for n, sid in enumerate(ids)
        ]
        assert statuses == [200, 200, 200, 429], deployment.logs()
        spoofed = {'X-Forwarded-For': '10.9.8.7', 'X-Real-IP': '10.9.8.6', 'Forwarded': 'for=10.9.8.5'}
        assert get(port, f'{ECHO_PREFIX}/nothing?token=leaked-in-a-query', spoofed)[0] == 404
        wait_until(lambda: 'no such endpoint' in deployment.log('app1.log'), 10, deployment.logs)
        app_log = deployment.log('app1.log')
        assert f'refused {BROWSER} (via 127.0.0.1:' in app_log, app_log[-2000:]
        assert '10.9.' not in app_log
        # Finding 10: the proxy does not pass /control on, whatever the request carries
        handshake = {
            'Upgrade': 'websocket',
            'Connection': 'Upgrade',
            'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'Sec-WebSocket-Version': '13',
        }
        status, body = get(port, f'{ECHO_PREFIX}/control', handshake)
        assert (status, 'administrative rules' in body) == (403, True)  # HAProxy's own answer: it never got through
        # Finding 5: a mistyped teacher address's token reaches neither the proxy's log nor the app's
        assert get(port, '/teacher-board?token=leaked-token-404')[0] == 404
        wait_until(lambda: '/teacher-board' in deployment.log('haproxy.log'), 10, deployment.logs)
        wait_until(lambda: '/teacher-board' in deployment.log('app1.log'), 10, deployment.logs)
        for name in ('haproxy.log', 'app1.log'):
            assert 'leaked' not in deployment.log(name), name
        # Finding 5: logs and state are the teacher's alone
        state = deployment.state
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        open_to_others = [
            str(path.relative_to(state)) for path in state.rglob('*') if stat.S_IMODE(path.stat().st_mode) & 0o077
        ]
        assert not open_to_others, open_to_others
