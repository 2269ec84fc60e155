"""The console script as a learner meets it: help, a busy port, broken content (no browser needed)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from lesson.config import Config, config_from_args

from ..browser.conftest import app_environment, lesson_command


def run_lesson(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([lesson_command(), *args], capture_output=True, text=True, timeout=timeout,
                          env=app_environment())


def test_help_explains_every_flag() -> None:
    result = run_lesson('--help')
    assert result.returncode == 0
    for flag in ('--host', '--port', '--echo-port', '--open', '--no-open', '--storage-secret', '--data-dir',
                 '--content-dir', '--allowed-origin', '--certfile', '--keyfile'):
        assert flag in result.stdout


def test_python_dash_m_is_the_same_command() -> None:
    result = subprocess.run([sys.executable, '-m', 'lesson', '--help'], capture_output=True, text=True,
                            env=app_environment(), timeout=60)
    assert result.returncode == 0 and 'usage: websocket-lesson' in result.stdout


def test_busy_port_is_one_line_naming_port_and_flag(tmp_path: Path) -> None:
    with socket.create_server(('127.0.0.1', 0)) as busy:
        port = busy.getsockname()[1]
        result = run_lesson('--port', str(port), '--data-dir', str(tmp_path), '--no-open')
        assert result.returncode == 1
        assert result.stderr.count('\n') == 1
        assert f'127.0.0.1:{port}' in result.stderr and '--port' in result.stderr
        assert 'Traceback' not in result.stderr

        result = run_lesson('--port', '0', '--echo-port', str(port), '--data-dir', str(tmp_path), '--no-open')
        assert result.returncode == 1
        assert f'127.0.0.1:{port}' in result.stderr and '--echo-port' in result.stderr


def test_broken_content_stops_start_up_with_file_and_line(tmp_path: Path) -> None:
    content = tmp_path / 'content'
    content.mkdir()
    (content / 'lesson.md').write_text('+++\ntitle = "T"\n+++\n## A {#a}\n```plantuml\nx\n```\n', encoding='utf-8')
    result = run_lesson('--port', '0', '--echo-port', '0', '--data-dir', str(tmp_path), '--no-open',
                        '--content-dir', str(content))
    assert result.returncode == 2
    assert f"{content / 'lesson.md'}:5: unknown block type 'plantuml'" in result.stderr
    assert 'Traceback' not in result.stderr


def test_config_defaults_are_safe_and_the_secret_is_kept(tmp_path: Path) -> None:
    environ = {'XDG_DATA_HOME': str(tmp_path)}
    config = config_from_args([], environ)
    assert (config.host, config.port, config.echo_port, config.open_browser) == ('127.0.0.1', 8080, 8765, False)
    assert config.data_dir == tmp_path / 'websocket-lesson'
    assert config_from_args([], environ).storage_secret == config.storage_secret  # same secret after a restart
    assert oct((config.data_dir / 'storage_secret').stat().st_mode & 0o777) == '0o600'


def test_environment_variables_and_flags(tmp_path: Path) -> None:
    environ = {'WEBSOCKET_LESSON_PORT': '9001', 'WEBSOCKET_LESSON_ECHO_PORT': '0', 'WEBSOCKET_LESSON_OPEN': 'yes',
               'WEBSOCKET_LESSON_DATA_DIR': str(tmp_path), 'WEBSOCKET_LESSON_STORAGE_SECRET': 's'}
    config = config_from_args(['--host', '0.0.0.0', '--allowed-origin', 'http://teacher:1'], environ)
    assert config == Config(host='0.0.0.0', port=9001, echo_host='0.0.0.0', echo_port=0, open_browser=True,
                            storage_secret='s', data_dir=tmp_path, allowed_origins=('http://teacher:1',))
    assert config.is_exposed
    assert not os.path.exists(tmp_path / 'storage_secret')  # a given secret is not written anywhere
