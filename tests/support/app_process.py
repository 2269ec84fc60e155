"""The app as a learner starts it: the installed console script in a subprocess, on free loopback ports.

Nothing here imports Playwright (or pytest), so the CLI tests and `benchmarks/` can use it on a machine without a
browser stack.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from demos.bench.app_under_test import (
    AppCommandMissing,
    clean_environment,
    default_app_command,
    free_port,
    stop_process,
    wait_until_serving,
)

CHROMIUM = '/usr/bin/chromium'
# Without these, Chromium tries to phone home on a machine with no internet and logs noise or stalls.
CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
]
STARTUP_TIMEOUT_S = 30.0
# How a shell without job control (a script's `websocket-lesson &`, many CI runners) starts a program: SIGINT
# ignored, which exec keeps. A test run started that way passes it on to every app the tests start.
AS_A_BACKGROUND_JOB = [
    sys.executable,
    '-c',
    'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); os.execvp(sys.argv[1], sys.argv[1:])',
]


class ConsoleScriptMissing(RuntimeError):
    """The package is not installed in this interpreter's environment, so there is no app to start."""


def lesson_command() -> str:
    """The installed console script, next to this interpreter (the way a learner starts the app)."""
    try:
        return default_app_command()
    except AppCommandMissing as missing:
        raise ConsoleScriptMissing(
            'the websocket-lesson console script is not installed: pip install -e ".[test]"'
        ) from missing


def app_environment() -> dict[str, str]:
    """The test's environment without its PYTEST_* variables (the app's real defaults, unlike a benchmark's)."""
    return clean_environment()


def insecure_context() -> ssl.SSLContext:
    """For polling our own self-signed TLS app: the test checks that it serves, not who signed its certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass
class RunningApp:
    """One app process; `restart()` stops it and starts it again with the same flags and data."""

    data_dir: Path
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    echo_port: int = field(default_factory=free_port)
    scheme: str = 'http'
    program: str | None = None  # another installed copy of the console script, e.g. in a fresh venv
    cwd: Path | None = None
    launcher: list[str] = field(default_factory=list)  # a command that execs the app, e.g. AS_A_BACKGROUND_JOB
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    started_in_s: float = 0.0

    @property
    def url(self) -> str:
        return f'{self.scheme}://127.0.0.1:{self.port}'

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors='replace') if self.log_path and self.log_path.exists() else ''

    def start(self) -> None:
        self.log_path = self.data_dir / f'app-{int(time.time() * 1000)}.log'
        command = [
            *self.launcher,
            self.program or lesson_command(),
            '--port',
            str(self.port),
            '--echo-port',
            str(self.echo_port),
            '--no-open',
            '--data-dir',
            str(self.data_dir),
            '--storage-secret',
            'browser-test-secret',
            *self.extra_args,
        ]
        started = time.perf_counter()
        with self.log_path.open('wb') as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=app_environment(), cwd=self.cwd
            )
        self._wait_until_serving()
        self.started_in_s = time.perf_counter() - started

    def _wait_until_serving(self) -> None:
        assert self.process is not None
        wait_until_serving(self.process, self.url + '/', STARTUP_TIMEOUT_S, lambda: self.log, insecure_context())

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def restart(self) -> None:
        self.stop()
        self.start()
