"""Listening beyond loopback says so: one line on stderr naming the address, both ports and the schemes."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from lesson.cli import _warn_if_exposed
from lesson.config import Config

from ..support.app_process import app_environment, lesson_command


def test_listening_on_all_addresses_prints_a_one_line_warning(tmp_path: Path) -> None:
    command = [
        lesson_command(),
        '--host',
        '0.0.0.0',
        '--port',
        '0',
        '--echo-port',
        '0',
        '--no-open',
        '--data-dir',
        str(tmp_path),
        '--storage-secret',
        'exposed-test-secret-long-enough-for-a-class',
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=app_environment()
    )
    try:
        assert process.stderr is not None
        first_line = process.stderr.readline()  # printed before the server starts: no need to wait for it
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    assert first_line.startswith('websocket-lesson: warning: listening on 0.0.0.0: '), first_line
    assert 'the lesson (port ' in first_line and 'the echo server (port ' in first_line
    assert 'reachable from other machines' in first_line and 'unencrypted http:// and ws://' in first_line


def test_the_warning_is_for_other_addresses_only(capsys: pytest.CaptureFixture[str]) -> None:
    for host in ('127.0.0.1', 'localhost', '::1'):
        _warn_if_exposed(Config(host=host), 8080, 8765)
    assert capsys.readouterr().err == ''
    _warn_if_exposed(Config(host='192.168.1.5', certfile=Path('c.pem'), keyfile=Path('k.pem')), 8443, 8765)
    warning = capsys.readouterr().err
    assert warning.count('\n') == 1 and 'listening on 192.168.1.5' in warning and '(https:// and wss://)' in warning
