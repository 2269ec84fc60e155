"""deploy/run-local.sh as one class: one teacher address through the proxy for every instance, and a Redis outage
that neither stops the proxy nor the instances (the script starts Redis again)."""

from __future__ import annotations

import http.cookiejar
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..support.app_process import app_environment, free_port, lesson_command
from ..support.deployment import binary
from ..support.waiting import wait_until
from .test_run_local import SCRIPT, _alive, _logs, _says_ready

#: Seconds the script waits before starting a Redis that ended: long enough for the outage to be seen.
REDIS_RESTART_S = 3


class Deployment:
    def __init__(self, folder: Path, script: subprocess.Popen[bytes], public: int, redis_port: int) -> None:
        self.folder = folder
        self.script = script
        self.public = public
        self.redis_port = redis_port

    @property
    def output(self) -> str:
        return (self.folder / 'run.log').read_text(errors='replace')

    def teacher_address(self) -> str:
        found = re.search(r'run-local: teacher: (\S+)', self.output)
        assert found, self.output
        return found.group(1)

    def status(self, path: str, instance: str | None = None) -> int:
        """The final status of ``path`` for a new visitor (pinned to ``instance``), redirects and cookies followed:
        a teacher address exchanged for a cookie at the first visit works as well as one checked each time."""
        jar = http.cookiejar.CookieJar()
        if instance is not None:
            jar.set_cookie(_cookie('SERVERID', instance))
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        try:
            with opener.open(f'http://127.0.0.1:{self.public}{path}', timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return error.code

    def redis_answers(self) -> bool:
        ping = subprocess.run(['redis-cli', '-p', str(self.redis_port), 'ping'], capture_output=True, check=False)
        return ping.stdout.strip() == b'PONG'

    def redis_pid(self) -> int:
        info = subprocess.run(
            ['redis-cli', '-p', str(self.redis_port), 'info', 'server'], capture_output=True, text=True, check=True
        ).stdout
        found = re.search(r'process_id:(\d+)', info)
        assert found, info
        return int(found.group(1))


def _cookie(name: str, value: str) -> http.cookiejar.Cookie:
    return http.cookiejar.Cookie(
        0, name, value, None, False, '127.0.0.1', False, False, '/', True, False, None, False, None, None, {}
    )


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    binary('redis-server', '/usr/bin/redis-server')
    binary('haproxy', '/usr/sbin/haproxy')
    public, redis_port = free_port(), free_port()
    first_page, first_echo = free_port(), free_port()
    env = {
        **app_environment(),
        'STATE_DIR': str(tmp_path / 'state'),
        'PUBLIC_PORT': str(public),
        'REDIS_PORT': str(redis_port),
        # two instances take two consecutive ports from each FIRST_*: a busy second port fails the start, loudly
        'FIRST_PAGE_PORT': str(first_page),
        'FIRST_ECHO_PORT': str(first_echo),
        'LESSON': lesson_command(),
        'REDIS_RESTART_S': str(REDIS_RESTART_S),
    }
    log = (tmp_path / 'run.log').open('wb')
    script = subprocess.Popen([str(SCRIPT), '2'], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: _says_ready(script, tmp_path), 90, lambda: _logs(tmp_path))
        yield Deployment(tmp_path, script, public, redis_port)
    finally:
        script.send_signal(signal.SIGTERM)
        script.wait(timeout=30)


def test_one_teacher_address_works_on_every_instance_through_the_proxy(deployment: Deployment) -> None:
    address = deployment.teacher_address()
    assert address.startswith(f'http://127.0.0.1:{deployment.public}/teacher?token=')
    path = address.removeprefix(f'http://127.0.0.1:{deployment.public}')
    # the issue saw 200/403/200/403 through the proxy: each instance had made its own token
    assert [deployment.status(path) for _ in range(4)] == [200] * 4
    assert [deployment.status(path, instance) for instance in ('app1', 'app2', 'app1', 'app2')] == [200] * 4
    assert deployment.status('/teacher?token=not-the-token-at-all', 'app2') == 403


def test_the_proxy_keeps_answering_while_redis_is_stopped_and_started_again(deployment: Deployment) -> None:
    children = subprocess.run(
        ['pgrep', '-s', str(deployment.script.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    redis_pid = deployment.redis_pid()
    others = [int(pid) for pid in children if int(pid) not in (redis_pid, deployment.script.pid)]
    deployment.status('/demo')  # warm
    subprocess.run(['kill', '-TERM', str(redis_pid)], check=True)  # stopped by its PID, as in the issue
    wait_until(lambda: not deployment.redis_answers(), 5, lambda: 'Redis still answers')
    down_until = time.monotonic() + REDIS_RESTART_S - 1
    answered = 0
    while time.monotonic() < down_until:  # Redis down: every page still served, by both instances
        for instance in ('app1', 'app2'):
            assert deployment.status('/demo', instance) == 200, _logs(deployment.folder)
            answered += 1
        assert not deployment.redis_answers()
    assert answered >= 4
    wait_until(deployment.redis_answers, REDIS_RESTART_S + 15, lambda: _logs(deployment.folder))
    assert deployment.script.poll() is None, _logs(deployment.folder)
    assert all(map(_alive, others)), f'ended with Redis: {[p for p in others if not _alive(p)]}'
    assert deployment.status('/demo', 'app2') == 200
    assert 'redis-server ended; the instances serve and grade from memory' in deployment.output
    assert 'stopping the rest' not in deployment.output
