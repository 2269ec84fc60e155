"""The console script as a learner meets it: help, a busy port, broken content (no browser needed)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from demos.server.echo_server import EchoSettings
from lesson.config import LIMITS, Config, config_from_args

from ..support.app_process import app_environment, lesson_command

SECRET = 'a-test-secret-that-is-long-enough-to-sign'


def run_lesson(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [lesson_command(), *args], capture_output=True, text=True, timeout=timeout, env=app_environment()
    )


def test_help_explains_every_flag() -> None:
    result = run_lesson('--help')
    assert result.returncode == 0
    for flag in (
        '--host',
        '--port',
        '--echo-port',
        '--open',
        '--no-open',
        '--storage-secret',
        '--data-dir',
        '--content-dir',
        '--allowed-origin',
        '--certfile',
        '--keyfile',
        *(limit.flag for limit in LIMITS),
    ):
        assert flag in result.stdout
    assert len(LIMITS) >= 16  # the two older limits, the echo server's other twelve, the page server's two


def test_help_lists_bench_and_bench_help_is_the_benchmarks() -> None:
    result = run_lesson('--help')
    assert 'subcommands:' in result.stdout and 'bench' in result.stdout.split('subcommands:')[1]
    bench = run_lesson('bench', '--help')
    assert bench.returncode == 0
    assert '--clients' in bench.stdout and '--max-message-bytes' not in bench.stdout  # demos.bench.command's own flags
    misplaced = run_lesson('--port', '0', 'bench')
    assert misplaced.returncode == 2 and 'put it first' in misplaced.stderr


def test_python_dash_m_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, '-m', 'lesson', '--help'], capture_output=True, text=True, env=app_environment(), timeout=60
    )
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
    result = run_lesson(
        '--port', '0', '--echo-port', '0', '--data-dir', str(tmp_path), '--no-open', '--content-dir', str(content)
    )
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
    environ = {
        'WEBSOCKET_LESSON_PORT': '9001',
        'WEBSOCKET_LESSON_ECHO_PORT': '0',
        'WEBSOCKET_LESSON_OPEN': 'yes',
        'WEBSOCKET_LESSON_DATA_DIR': str(tmp_path),
        'WEBSOCKET_LESSON_STORAGE_SECRET': SECRET,
        'WEBSOCKET_LESSON_MAX_CONNECTIONS': '300',
    }
    config = config_from_args(
        ['--host', '0.0.0.0', '--allowed-origin', 'http://teacher:1', '--max-message-bytes', '1024'], environ
    )
    assert config == Config(
        host='0.0.0.0',
        port=9001,
        echo_host='0.0.0.0',
        echo_port=0,
        open_browser=True,
        open_without_display=True,  # the environment names no display: start-up says no browser can open
        storage_secret=SECRET,
        data_dir=tmp_path,
        allowed_origins=('http://teacher:1',),
        max_message_bytes=1024,
        max_connections=300,
    )
    assert config.is_exposed
    assert not os.path.exists(tmp_path / 'storage_secret')  # a given secret is not written anywhere
    assert config_from_args(['--max-connections', '5'], environ).max_connections == 5  # the flag wins


def test_the_limit_defaults_are_the_echo_servers() -> None:
    """config.py repeats EchoSettings' defaults (so --help imports no server code): every one must agree."""
    from lesson.web.echo_config import echo_settings

    defaults, config = EchoSettings(), Config()
    echo_limits = [limit for limit in LIMITS if limit.field in EchoSettings.__dataclass_fields__]
    assert len(echo_limits) == len(LIMITS) - 2  # all but --header-timeout and --forget-after-days
    for limit in echo_limits:
        assert getattr(config, limit.field) == limit.default == getattr(defaults, limit.field), limit.flag
    # and the defaults pass through echo_settings unchanged
    passed = echo_settings(config, 8080)
    for limit in echo_limits:
        assert getattr(passed, limit.field) == getattr(defaults, limit.field), limit.flag


@pytest.mark.parametrize(
    'args',
    [
        ['--max-connections', '0'],
        ['--max-message-bytes', '-1'],
        ['--max-message-bytes', 'lots'],
        ['--message-rate', '-0.5'],
        ['--message-rate', 'nan'],
        ['--message-burst', '0'],
        ['--listen-backlog', '0'],
        ['--write-limit-bytes', '-1'],
        ['--push-backlog-bytes', '0'],
        ['--ping-interval', '-1'],
        ['--ping-timeout', 'inf'],
        ['--open-timeout', '0'],
        ['--close-timeout', '0'],
        ['--max-sessions', '0'],
        ['--session-idle-timeout', '0'],
        ['--poll-batch-limit', '1.5'],
        ['--header-timeout', '0'],
        ['--forget-after-days', '-1'],
    ],
)
def test_a_bad_limit_is_a_usage_error(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        config_from_args([*args, '--data-dir', str(tmp_path), '--storage-secret', SECRET], {})
    error = capsys.readouterr().err
    assert exited.value.code == 2 and f'argument {args[0]}: must be ' in error and repr(args[1]) in error


def test_a_bad_limit_in_the_environment_names_flag_and_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        config_from_args(['--data-dir', str(tmp_path)], {'WEBSOCKET_LESSON_OPEN_TIMEOUT': '-3'})
    error = capsys.readouterr().err
    assert '--open-timeout' in error and 'WEBSOCKET_LESSON_OPEN_TIMEOUT' in error and "'-3'" in error


def test_every_limit_has_a_flag_and_a_variable(tmp_path: Path) -> None:
    """Each limit set by flag and by variable reaches Config, then the echo server's settings."""
    from lesson.web.echo_config import echo_settings

    chosen = {limit.field: limit.kind(limit.default * 2 + 1) for limit in LIMITS}  # differs from the default
    by_flag = config_from_args(
        [arg for limit in LIMITS for arg in (limit.flag, str(chosen[limit.field]))]
        + ['--data-dir', str(tmp_path), '--storage-secret', SECRET],
        {},
    )
    by_env = config_from_args(
        ['--data-dir', str(tmp_path), '--storage-secret', SECRET],
        {limit.env: str(chosen[limit.field]) for limit in LIMITS},
    )
    settings = echo_settings(by_flag, 8080)
    for limit in LIMITS:
        assert getattr(by_flag, limit.field) == getattr(by_env, limit.field) == chosen[limit.field], limit.flag
        if limit.field in EchoSettings.__dataclass_fields__:
            assert getattr(settings, limit.field) == chosen[limit.field], limit.flag


def test_zero_means_no_limit_for_the_rate_and_off_for_keepalive(tmp_path: Path) -> None:
    from demos.protocol.limits import MessageRateLimiter
    from lesson.web.echo_config import echo_settings

    config = config_from_args(
        [
            '--message-rate',
            '0',
            '--message-burst',
            '1',
            '--ping-interval',
            '0',
            '--ping-timeout',
            '0',
            '--data-dir',
            str(tmp_path),
            '--storage-secret',
            SECRET,
        ],
        {},
    )
    settings = echo_settings(config, 8080)
    assert (settings.ping_interval_s, settings.ping_timeout_s) == (None, None)
    # the limiter the echo server builds from these settings lets a flood through, even at one instant
    limiter = MessageRateLimiter(settings.messages_per_s, settings.message_burst, clock=lambda: 5.0)
    assert all(limiter.allow() for _ in range(100_000))
    # while the default refuses the 101st message of an instant
    default = echo_settings(Config(), 8080)
    limited = MessageRateLimiter(default.messages_per_s, default.message_burst, clock=lambda: 5.0)
    assert sum(limited.allow() for _ in range(1000)) == default.message_burst


def test_the_echo_server_gets_the_apps_limits_and_origin_rule(tmp_path: Path) -> None:
    from lesson.web.echo_config import echo_settings

    config = Config(
        host='0.0.0.0',
        allowed_origins=('http://teacher:1',),
        max_message_bytes=1024,
        max_connections=300,
        data_dir=tmp_path,
    )
    settings = echo_settings(config, 8080)
    assert (settings.max_message_bytes, settings.max_connections) == (1024, 300)
    assert (settings.app_scheme, settings.app_port) == ('http', 8080)
    assert settings.allowed_origins == (
        'http://0.0.0.0:8080',
        'http://127.0.0.1:8080',
        'http://localhost:8080',
        'http://teacher:1',
    )
    tls = Config(certfile=tmp_path / 'c.pem', keyfile=tmp_path / 'k.pem', data_dir=tmp_path)
    assert echo_settings(tls, 8443).app_scheme == 'https'
    assert echo_settings(tls, 8443).allowed_origins == ('https://127.0.0.1:8443', 'https://localhost:8443')


def test_an_unusable_certificate_stops_start_up_in_one_line(tmp_path: Path) -> None:
    (tmp_path / 'key.pem').write_text('not a key\n', encoding='utf-8')
    result = run_lesson(
        '--port',
        '0',
        '--echo-port',
        '0',
        '--data-dir',
        str(tmp_path),
        '--no-open',
        '--certfile',
        str(tmp_path / 'missing.pem'),
        '--keyfile',
        str(tmp_path / 'key.pem'),
    )
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1 and 'missing.pem' in result.stderr
    assert 'Traceback' not in result.stderr


def test_per_address_caps_are_flags_and_stay_under_the_global_caps(tmp_path: Path) -> None:
    """Issue 18, finding 3: one address (a script, or a class behind one router) holds at most its share."""
    from lesson.web.echo_config import echo_settings

    environ = {'WEBSOCKET_LESSON_SESSIONS_PER_ADDRESS': '0', 'XDG_DATA_HOME': str(tmp_path)}
    config = config_from_args(['--max-connections', '300', '--connections-per-address', '100'], environ)
    settings = echo_settings(config, 8080)
    assert (settings.connections_cap_per_address, settings.sessions_cap_per_address) == (100, None)
    # the issue's --max-connections 300 alone: other addresses keep a fifth, whatever the per-address default
    alone = config_from_args(['--max-connections', '300'], {'XDG_DATA_HOME': str(tmp_path)})
    assert echo_settings(alone, 8080).connections_cap_per_address == 240
