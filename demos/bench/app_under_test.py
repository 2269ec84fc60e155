"""The app under a benchmark: an installed ``websocket-lesson`` console script, started as a learner starts it.

On free loopback ports with a temporary data directory, and with no ``PYTEST_*`` variable in its environment
(NiceGUI's ``ui.run`` behaves as under test when it sees one). Any installed copy can be measured
(``command``), e.g. an older release in a venv of its own, for a before/after comparison.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from demos.bench.proc_stats import tree_cpu_seconds, tree_rss_kib

HOST = '127.0.0.1'
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class AppCommandMissing(RuntimeError):
    """No ``websocket-lesson`` console script where it was looked for."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def default_app_command() -> str:
    """The console script installed next to this interpreter (the copy this code belongs to), else on PATH."""
    script = Path(sys.executable).with_name('websocket-lesson')
    found = str(script) if script.exists() else shutil.which('websocket-lesson')
    if not found:
        raise AppCommandMissing('no websocket-lesson console script next to this Python or on PATH')
    return found


def clean_environment() -> dict[str, str]:
    """This process's environment for an app started from it: NiceGUI's ``ui.run`` behaves as under test when it
    sees a ``PYTEST_*`` variable, so none is passed on, and no display (no browser tab to open)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith('PYTEST')}
    env.pop('DISPLAY', None)
    return env


def wait_until_serving(
    process: subprocess.Popen[bytes],
    url: str,
    timeout_s: float,
    read_log: Callable[[], str],
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Block until ``url`` answers 200; raise with the app's log when it exits first or takes over ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'the app exited with {process.returncode}:\n{read_log()}')
        try:
            with urllib.request.urlopen(url, timeout=5, context=ssl_context) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)  # the interval between attempts while the app boots, not a wait for a result
    raise RuntimeError(f'the app did not answer within {timeout_s:g} s:\n{read_log()}')


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM (the app closes its sockets with 1001), then SIGKILL if it takes longer than ``timeout_s``."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def app_environment() -> dict[str, str]:
    env = clean_environment()
    # Every simulated learner comes from 127.0.0.1: the per-address cap on new demo sessions (a guard against one
    # machine churning a class's sessions) would refuse a class of more than 60. A variable, not a flag, so an
    # older app that has no such cap starts all the same.
    env.setdefault('WEBSOCKET_LESSON_SESSIONS_PER_MINUTE', '0')
    return env


class AppUnderTest:
    """One app process and its children; a context manager that starts it and stops it (SIGTERM, then kill).

    Args:
        command: Path of the console script; the default is :func:`default_app_command`.
        extra_args: More flags for the app (e.g. limits).
    """

    def __init__(self, command: str | None = None, extra_args: list[str] | None = None) -> None:
        self.command = command or default_app_command()
        if not Path(self.command).exists() and not shutil.which(self.command):
            raise AppCommandMissing(f'no such command: {self.command}')
        self.extra_args = extra_args or []
        self.port = free_port()
        self.echo_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.started_in_s = 0.0
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f'http://{HOST}:{self.port}'

    @property
    def pid(self) -> int:
        assert self.process is not None, 'the app is not started'
        return self.process.pid

    @property
    def log(self) -> str:
        if self._scratch is None:
            return ''
        path = Path(self._scratch.name) / 'app.log'
        return path.read_text(errors='replace') if path.exists() else ''

    def __enter__(self) -> AppUnderTest:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix='websocket-lesson-bench-')
        scratch = Path(self._scratch.name)
        command = [
            self.command,
            '--host',
            HOST,
            '--port',
            str(self.port),
            '--echo-port',
            str(self.echo_port),
            '--no-open',
            '--data-dir',
            str(scratch / 'data'),
            f'--storage-secret={secrets.token_hex(32)}',
            *self.extra_args,
        ]
        started = time.perf_counter()
        with (scratch / 'app.log').open('wb') as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=app_environment(), cwd=scratch
            )
        self._wait_until_serving()
        self.started_in_s = time.perf_counter() - started

    def _wait_until_serving(self) -> None:
        assert self.process is not None
        try:
            wait_until_serving(self.process, self.url + '/', STARTUP_TIMEOUT_S, lambda: self.log)
        except RuntimeError:
            self.stop()
            raise

    def cpu_seconds(self) -> float:
        """CPU time of the app and its children so far (the echo server runs in a child in the new design)."""
        return tree_cpu_seconds(self.pid)

    def rss_kib(self) -> int:
        return tree_rss_kib(self.pid)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process)
        if self._scratch is not None:
            with contextlib.suppress(OSError):
                self._scratch.cleanup()
            self._scratch = None
