"""The storage secret: never an empty or short one (cookies signed with it could be forged)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lesson.config import config_from_args
from lesson.storage.storage_secret import MIN_SECRET_BYTES, load_or_create_secret


def _kept_aside(folder: Path) -> list[Path]:
    return sorted(folder.glob('storage_secret.rejected-*'))


def test_a_missing_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    secret = load_or_create_secret(tmp_path)
    assert len(secret.encode()) >= MIN_SECRET_BYTES
    assert load_or_create_secret(tmp_path) == secret
    assert oct((tmp_path / 'storage_secret').stat().st_mode & 0o777) == '0o600'
    assert not list(tmp_path.glob('*.tmp'))


@pytest.mark.parametrize(
    ('content', 'problem'),
    [('', 'is empty'), ('\n  \n', 'is empty'), ('x' * (MIN_SECRET_BYTES - 1), 'is only 31 bytes long')],
)
def test_an_empty_or_short_secret_is_never_used(
    tmp_path: Path, content: str, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / 'storage_secret').write_text(content, encoding='utf-8')
    with caplog.at_level(logging.WARNING, logger='lesson.storage.storage_secret'):
        secret = load_or_create_secret(tmp_path)
    assert secret.strip() and secret != content.strip() and len(secret.encode()) >= MIN_SECRET_BYTES
    assert (tmp_path / 'storage_secret').read_text(encoding='utf-8') == secret
    [warning] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert problem in warning.getMessage() and str(tmp_path / 'storage_secret') in warning.getMessage()
    [kept] = _kept_aside(tmp_path)
    assert kept.read_text(encoding='utf-8') == content  # kept for a look, not deleted
    assert load_or_create_secret(tmp_path) == secret  # and the new one is kept from now on


def test_a_secret_of_exactly_the_minimum_is_used(tmp_path: Path) -> None:
    (tmp_path / 'storage_secret').write_text('k' * MIN_SECRET_BYTES + '\n', encoding='utf-8')
    assert load_or_create_secret(tmp_path) == 'k' * MIN_SECRET_BYTES
    assert not _kept_aside(tmp_path)


def test_an_unreadable_secret_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / 'storage_secret').write_bytes(b'\xff\xfe' * 40)  # not UTF-8
    secret = load_or_create_secret(tmp_path)
    assert len(secret) >= MIN_SECRET_BYTES and len(_kept_aside(tmp_path)) == 1


def test_a_short_explicit_secret_stops_a_class_and_is_a_warning_on_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    for host in ('0.0.0.0', '192.168.1.5'):
        with pytest.raises(SystemExit) as exited:
            config_from_args(['--host', host, '--storage-secret', 'short', '--data-dir', str(tmp_path)], {})
        assert exited.value.code == 2
        assert '--storage-secret is only 5 bytes long (at least 32 are needed)' in capsys.readouterr().err
    with pytest.raises(SystemExit):  # an empty one from the environment, on a class
        config_from_args(['--host', '0.0.0.0', '--data-dir', str(tmp_path)], {'WEBSOCKET_LESSON_STORAGE_SECRET': 'ab'})
    with caplog.at_level(logging.WARNING, logger='lesson.config'):
        config = config_from_args(['--storage-secret', 'short', '--data-dir', str(tmp_path)], {})
    assert config.storage_secret == 'short'
    assert any('--storage-secret is only 5 bytes' in record.getMessage() for record in caplog.records)
    long_enough = 'L' * MIN_SECRET_BYTES
    assert (
        config_from_args(
            ['--host', '0.0.0.0', '--storage-secret', long_enough, '--data-dir', str(tmp_path)], {}
        ).storage_secret
        == long_enough
    )


# The echo server's second-round limits (issue 11): a flag and a variable each, refused when out of range.

_SECRET = 'x' * MIN_SECRET_BYTES


@pytest.mark.parametrize(
    'args',
    [
        ['--sessions-per-minute', '-1'],
        ['--sessions-per-minute', '2.5'],
        ['--pending-per-address', '0'],
        ['--request-timeout', '0'],
        ['--request-timeout', 'nan'],
        ['--max-queue', '0'],
        ['--socket-buffer-bytes', '-1'],
    ],
)
def test_a_bad_new_echo_limit_is_a_usage_error(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        config_from_args([*args, '--data-dir', str(tmp_path), '--storage-secret', _SECRET], {})
    assert exited.value.code == 2 and f'argument {args[0]}: must be ' in capsys.readouterr().err


def test_the_new_echo_limits_reach_the_echo_server(tmp_path: Path) -> None:
    from demos.server.echo_server import EchoServer
    from lesson.web.echo_config import echo_settings

    config = config_from_args(
        ['--sessions-per-minute', '0', '--pending-per-address', '4', '--data-dir', str(tmp_path)],
        {
            'WEBSOCKET_LESSON_STORAGE_SECRET': _SECRET,
            'WEBSOCKET_LESSON_REQUEST_TIMEOUT': '1.5',
            'WEBSOCKET_LESSON_MAX_QUEUE': '3',
            'WEBSOCKET_LESSON_SOCKET_BUFFER_BYTES': '0',
        },
    )
    settings = echo_settings(config, 8080)
    assert settings.sessions_per_minute_per_address == 0 and settings.pending_per_address == 4
    assert settings.request_timeout_s == 1.5 and settings.max_queue_messages == 3
    assert settings.socket_buffer_bytes == 0
    # 0 sessions a minute: no limit (a class benchmark from one machine)
    server = EchoServer(settings)
    assert all(server._new_sessions.allow('127.0.0.1') for _ in range(1000))
