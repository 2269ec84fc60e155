"""deploy/run-local.sh as a teacher runs it: Redis, N instances and HAProxy on loopback; TERM stops them all."""

from __future__ import annotations

import http.cookiejar
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

from ..support.app_process import app_environment, free_port, lesson_command
from ..support.deployment import binary
from ..support.waiting import wait_until

SCRIPT = Path(__file__).parents[2] / 'deploy' / 'run-local.sh'


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _says_ready(script: subprocess.Popen[bytes], folder: Path) -> bool:
    assert script.poll() is None, _logs(folder)
    return b'instance(s) behind HAProxy' in (folder / 'run.log').read_bytes()


def _logs(folder: Path) -> str:
    """The script's output, then each log it keeps (the app's, the proxy's, Redis's) to tell why it did not start."""
    logs = [folder / 'run.log', *sorted((folder / 'state').glob('*.log'))]
    return '\n'.join(f'--- {log.name}\n{log.read_text(errors="replace")[-3000:]}' for log in logs if log.exists())


def test_run_local_serves_through_one_port_and_stops_everything(tmp_path: Path) -> None:
    binary('redis-server', '/usr/bin/redis-server')
    binary('haproxy', '/usr/sbin/haproxy')
    public = free_port()
    env = {
        **app_environment(),
        'STATE_DIR': str(tmp_path / 'state'),
        'PUBLIC_PORT': str(public),
        'REDIS_PORT': str(free_port()),
        'FIRST_PAGE_PORT': str(free_port()),
        'FIRST_ECHO_PORT': str(free_port()),
        'LESSON': lesson_command(),
    }
    # consecutive ports from FIRST_*: with N=1 only the first is used, so the free port above is enough
    log = (tmp_path / 'run.log').open('wb')
    script = subprocess.Popen([str(SCRIPT), '1'], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: _says_ready(script, tmp_path), 60, lambda: _logs(tmp_path))
        # no retry from here on: the ready line promises that the public port accepts (it once did not, yet)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(f'http://127.0.0.1:{public}/demo', timeout=10) as page:
            html = page.read().decode()
        assert page.status == 200 and '/echo-server' in html
        assert {cookie.name: cookie.value for cookie in jar}['SERVERID'] == 'app1'
        with opener.open(f'http://127.0.0.1:{public}/echo-server/clock', timeout=10) as clock:
            assert b'server_time' in clock.read()
        children = subprocess.run(
            ['pgrep', '-s', str(script.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert len(children) >= 4  # the script, redis-server, the app (and its echo process), haproxy
    finally:
        script.send_signal(signal.SIGTERM)
        script.wait(timeout=30)
    # the script waits for its children; the app's echo process (a grandchild) ends with the app, moments later
    others = [pid for pid in map(int, children) if pid != script.pid]
    wait_until(lambda: not any(map(_alive, others)), 5, lambda: f'outlived it: {[p for p in others if _alive(p)]}')
