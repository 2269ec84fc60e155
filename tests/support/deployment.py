"""Several app instances behind HAProxy with Redis, on loopback ports in a temporary folder (tests, benchmarks).

The same shape as ``deploy/run-local.sh``: one redis-server, N app processes (:class:`RunningApp`, the installed
console script) each with ``--redis-url`` and ``--public-echo-url /echo-server``, and one haproxy whose
configuration comes from :mod:`lesson.web.deployment`. Nothing here imports Playwright or pytest.

A missing binary is an error that names the Debian package to install, never a skip.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from lesson.web.deployment import ECHO_PREFIX, Instance, ProxySettings, haproxy_config

from .app_process import RunningApp, free_port
from .waiting import wait_until

STARTUP_TIMEOUT_S = 15.0
APT_LINE = 'sudo apt-get install -y --no-install-recommends redis-server haproxy'


class MissingBinary(RuntimeError):
    """A program the deployment needs is not installed."""


def binary(name: str, debian_path: str) -> str:
    found = shutil.which(name) or (debian_path if Path(debian_path).exists() else None)
    if not found:
        raise MissingBinary(f'{name} is not installed; run: {APT_LINE} (.ci/run does)')
    return found


def _accepts(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f'{what} exited with {process.returncode}:\n{log.read_text(errors="replace")}')
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=1):
            return True
    except OSError:
        return False


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    wait_until(lambda: _accepts(port, process, what, log), STARTUP_TIMEOUT_S, f'{what} did not listen on {port}')


def _stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@dataclass
class RedisServer:
    """redis-server on a free loopback port, appending every write to its own file (so a restart keeps data)."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f'redis://127.0.0.1:{self.port}/0'

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / 'redis.log'
        command = [
            binary('redis-server', '/usr/bin/redis-server'),
            '--bind',
            '127.0.0.1',
            '--port',
            str(self.port),
            '--dir',
            str(self.folder),
            '--save',
            '',
            '--appendonly',
            'yes',
            '--appendfsync',
            'everysec',
            '--logfile',
            str(log),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_for_port(self.port, self.process, 'redis-server', log)

    def stop(self) -> None:
        """SIGTERM: Redis writes what it holds and exits (what a restart by systemd or compose does)."""
        _stop(self.process)

    def command(self, *args: str) -> str:
        cli = binary('redis-cli', '/usr/bin/redis-cli')
        done = subprocess.run(
            [cli, '-p', str(self.port), *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout


@dataclass
class HAProxy:
    """haproxy in the foreground (``-db``) with a configuration for ``instances``."""

    folder: Path
    instances: list[Instance]
    port: int = field(default_factory=free_port)
    stats_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / 'haproxy.cfg'
        config.write_text(
            haproxy_config(
                self.instances,
                ProxySettings(bind=f'127.0.0.1:{self.port}', stats_bind=f'127.0.0.1:{self.stats_port}'),
            )
        )
        log = self.folder / 'haproxy.log'
        with log.open('wb') as out:
            self.process = subprocess.Popen(
                [binary('haproxy', '/usr/sbin/haproxy'), '-db', '-f', str(config)], stdout=out, stderr=subprocess.STDOUT
            )
        _wait_for_port(self.port, self.process, 'haproxy', log)

    def stop(self) -> None:
        _stop(self.process, signal.SIGUSR1)  # soft stop: finish what is in flight

    @property
    def log(self) -> str:
        path = self.folder / 'haproxy.log'
        return path.read_text(errors='replace') if path.exists() else ''

    def servers_up(self) -> dict[str, bool]:
        """Each page server's health as HAProxy sees it (from its statistics CSV)."""
        with urllib.request.urlopen(f'http://127.0.0.1:{self.stats_port}/;csv', timeout=5) as answer:
            rows = answer.read().decode().splitlines()
        header = rows[0].lstrip('# ').split(',')
        states = {}
        for row in rows[1:]:
            values = dict(zip(header, row.split(','), strict=False))
            if values.get('pxname') == 'pages' and values.get('svname') not in ('FRONTEND', 'BACKEND'):
                states[values['svname']] = values.get('status', '').startswith('UP')
        return states

    def wait_for(self, up: dict[str, bool], timeout_s: float = 15.0) -> None:
        wait_until(
            lambda: self.servers_up() == up,
            timeout_s,
            lambda: f'HAProxy sees {self.servers_up()}, expected {up}',
            interval_s=0.1,  # HAProxy checks every second: asking its statistics more often learns nothing
        )


@dataclass
class Deployment:
    """Redis, ``count`` app instances and HAProxy in front, as deploy/run-local.sh starts them."""

    folder: Path
    count: int = 2
    extra_args: list[str] = field(default_factory=list)
    redis: RedisServer = field(init=False)
    apps: list[RunningApp] = field(init=False)
    proxy: HAProxy = field(init=False)

    def __post_init__(self) -> None:
        self.redis = RedisServer(self.folder / 'redis')
        proxy_port = free_port()
        self.apps = [
            RunningApp(
                self.folder / f'app{k}',
                extra_args=[
                    '--redis-url',
                    self.redis.url,
                    '--public-echo-url',
                    ECHO_PREFIX,
                    # the proxy's forwarded Host and scheme are believed from it alone: no origin is listed by name
                    '--trusted-proxy',
                    '127.0.0.1',
                    *self.extra_args,
                ],
            )
            for k in range(1, self.count + 1)
        ]
        instances = [Instance(self.name(k), '127.0.0.1', app.port, app.echo_port) for k, app in enumerate(self.apps)]
        self.proxy = HAProxy(self.folder / 'haproxy', instances, port=proxy_port)

    @staticmethod
    def name(index: int) -> str:
        return f'app{index + 1}'

    @property
    def url(self) -> str:
        return self.proxy.url

    def start(self) -> None:
        self.redis.start()
        for app in self.apps:
            app.data_dir.mkdir(parents=True, exist_ok=True)
            app.start()
        self.proxy.start()
        self.proxy.wait_for({self.name(k): True for k in range(self.count)})

    def stop(self) -> None:
        self.proxy.stop()
        for app in self.apps:
            app.stop()
        self.redis.stop()

    def kill(self, index: int) -> None:
        """The instance dies without a goodbye (SIGKILL: no shutdown, no closing handshakes)."""
        process = self.apps[index].process
        assert process is not None
        process.kill()
        process.wait(timeout=10)

    def __enter__(self) -> Deployment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
