"""The page server's defences as pure logic: headers, progress files, the browser log line, the header timeout."""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lesson.config import Config
from lesson.storage.atomic_files import write_atomically
from lesson.storage.learner_files import (
    ProgressNotices,
    check_all_progress,
    check_progress_file,
    expired,
    forget_abandoned,
    keep_aside,
)
from lesson.storage.learner_store import worth_keeping
from lesson.web import slow_clients
from lesson.web.browser_log import LogBudget, clean_log_line
from lesson.web.security_headers import (
    SecurityHeadersMiddleware,
    content_security_policy,
    host_of,
    security_headers,
    session_cookie_options,
)

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
GOOD = {'dark_mode': True, 'quiz': {'current': None, 'attempts': [{'number': 1, 'score': 3}]}}


# -- headers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('header', 'host'),
    [
        ('127.0.0.1:8080', '127.0.0.1'),
        ('classroom.test', 'classroom.test'),
        ('[::1]:8080', '[::1]'),
        ('[fe80::1]', '[fe80::1]'),
        (None, None),
        ('', None),
        ('evil; script-src *', None),
        ("a'b:80", None),
        ('[::1;x]:1', None),
    ],
)
def test_only_a_plain_host_reaches_the_policy(header: str | None, host: str | None) -> None:
    assert host_of(header) == host


def test_the_policy_allows_the_echo_port_at_the_pages_host_only() -> None:
    policy = content_security_policy('192.168.1.5', 8765, tls=False)
    directives = dict(part.split(' ', 1) for part in policy.split('; '))
    assert directives['connect-src'] == "'self' ws://192.168.1.5:8765 http://192.168.1.5:8765"
    assert directives['frame-ancestors'] == "'none'" and directives['object-src'] == "'none'"
    assert directives['default-src'] == "'self'" and '*' not in policy
    tls = content_security_policy('192.168.1.5', 8765, tls=True)
    assert "connect-src 'self' wss://192.168.1.5:8765 https://192.168.1.5:8765;" in tls and 'ws://' not in tls
    assert "connect-src 'self';" in content_security_policy(None, 8765, tls=False)


def test_every_answer_gets_the_headers_and_hsts_only_under_tls() -> None:
    plain = dict(security_headers('127.0.0.1:8080', 8765, tls=False))
    assert plain[b'x-content-type-options'] == b'nosniff' and plain[b'referrer-policy'] == b'no-referrer'
    assert plain[b'x-frame-options'] == b'DENY' and b"frame-ancestors 'none'" in plain[b'content-security-policy']
    assert b'strict-transport-security' not in plain
    assert dict(security_headers('h', 1, tls=True))[b'strict-transport-security'].startswith(b'max-age=')
    assert session_cookie_options(Config(certfile=Path('c'), keyfile=Path('k')))['https_only'] is True
    assert 'https_only' not in session_cookie_options(Config())


async def test_the_middleware_replaces_rather_than_duplicates_headers() -> None:
    sent: list[dict] = []

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        await send(
            {
                'type': 'http.response.start',
                'status': 200,
                'headers': [(b'x-frame-options', b'SAMEORIGIN'), (b'content-type', b'text/html')],
            }
        )
        await send({'type': 'http.response.body', 'body': b'hi'})

    async def send(message: dict) -> None:
        sent.append(message)

    middleware = SecurityHeadersMiddleware(app, echo_port=8765, tls=False)
    await middleware({'type': 'http', 'headers': [(b'host', b'127.0.0.1:8080')]}, None, send)  # type: ignore[arg-type]
    headers = sent[0]['headers']
    assert [value for name, value in headers if name == b'x-frame-options'] == [b'DENY']
    assert (b'content-type', b'text/html') in headers and sent[1]['body'] == b'hi'


# -- progress files --------------------------------------------------------------------------------------------


def test_only_a_learner_who_did_something_is_worth_a_file() -> None:
    defaults = {'dark_mode': False}
    assert not worth_keeping({}, defaults) and not worth_keeping({'dark_mode': False}, defaults)
    assert worth_keeping({'dark_mode': True}, defaults) and worth_keeping({'quiz': {}}, defaults)


def _truncated(path: Path) -> bytes:
    text = json.dumps(GOOD).encode()
    path.write_bytes(text[:40])  # the attack run's 40 bytes
    return text[:40]


def test_a_truncated_file_is_kept_aside_logged_and_queued(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / 'storage-user-abc.json'
    damaged = _truncated(path)
    notices = ProgressNotices()
    with caplog.at_level(logging.WARNING, logger='lesson.storage.learner_files'):
        assert check_progress_file(path, notices, NOW) == {}
    assert not path.exists()
    kept = tmp_path / 'storage-user-abc.json.unreadable-20260131T120000Z'
    assert kept.read_bytes() == damaged  # the learner's bytes, untouched
    assert str(path) in caplog.text and kept.name in caplog.text
    assert notices.pending == {'abc': kept}


def test_keeping_aside_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / 'storage-user-abc.json'
    path.write_text('first {', encoding='utf-8')
    first = keep_aside(path, NOW)
    path.write_text('second {', encoding='utf-8')
    second = keep_aside(path, NOW)  # same second: another name
    assert first != second
    assert (first.read_text(), second.read_text()) == ('first {', 'second {')


@pytest.mark.parametrize('content', [b'[1, 2]', b'"text"', b'\xff\xfe{}', b''])
def test_anything_but_a_json_object_is_unreadable(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / 'storage-user-x.json'
    path.write_bytes(content)
    assert check_progress_file(path, ProgressNotices(), NOW) == {}
    assert not path.exists() and len(list(tmp_path.glob('*.unreadable-*'))) == 1


def test_a_good_file_is_read_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / 'storage-user-x.json'
    path.write_text(json.dumps(GOOD), encoding='utf-8')
    assert check_progress_file(path, ProgressNotices(), NOW) == GOOD
    assert path.exists() and not list(tmp_path.glob('*.unreadable-*'))


def test_start_up_finds_every_unreadable_file_and_the_untold_ones_from_before(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / 'storage-user-good.json').write_text(json.dumps(GOOD), encoding='utf-8')
    _truncated(tmp_path / 'storage-user-bad.json')
    (tmp_path / 'storage-user-old.json.unreadable-20250101T000000Z').write_text('{', encoding='utf-8')
    (tmp_path / 'storage-user-told.json.unreadable-20250101T000000Z.told').write_text('{', encoding='utf-8')
    notices = ProgressNotices()
    with caplog.at_level(logging.WARNING, logger='lesson.storage.learner_files'):
        assert check_all_progress(tmp_path, notices) == 1
    assert str(tmp_path / 'storage-user-bad.json') in caplog.text
    assert sorted(notices.pending) == ['bad', 'old']
    kept = notices.take('bad')
    assert kept is not None and not kept.exists() and kept.with_name(kept.name + '.told').exists()
    assert notices.take('bad') is None  # told once


def test_writes_are_whole_files_flushed_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / 'storage-user-x.json'
    path.write_text('{"old": 1}', encoding='utf-8')
    synced: list[int] = []
    real_fsync = os.fsync

    def counted_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', counted_fsync)
    write_atomically(path, '{"new": 2}')
    assert path.read_text(encoding='utf-8') == '{"new": 2}' and len(synced) == 2  # the file, then its folder
    assert oct(path.stat().st_mode & 0o777) == '0o600' and not list(tmp_path.glob('*.tmp'))

    def failing_replace(*_: object) -> None:
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'replace', failing_replace)
    with pytest.raises(OSError):
        write_atomically(path, '{"half": ')
    assert path.read_text(encoding='utf-8') == '{"new": 2}'  # the previous version, whole
    assert not list(tmp_path.glob('*.tmp'))


def test_abandoned_progress_is_forgotten_and_recent_or_loaded_progress_kept(tmp_path: Path) -> None:
    day = 86400.0
    now = time.time()
    ages = {
        'storage-user-old.json': 100,
        'storage-user-recent.json': 10,
        'storage-user-loaded.json': 100,
        'storage-user-gone.json.unreadable-20250101T000000Z': 100,
        'storage-general.json': 100,
    }
    for name, age_days in ages.items():
        (tmp_path / name).write_text('{}', encoding='utf-8')
        os.utime(tmp_path / name, (now - age_days * day, now - age_days * day))
    assert expired(tmp_path.iterdir(), now, 0) == []  # 0 keeps everything
    gone = forget_abandoned(tmp_path, 90 * day, in_use=['loaded'])
    assert sorted(path.name for path in gone) == [
        'storage-user-gone.json.unreadable-20250101T000000Z',
        'storage-user-old.json',
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        'storage-general.json',
        'storage-user-loaded.json',
        'storage-user-recent.json',
    ]


# -- the browser's log channel ---------------------------------------------------------------------------------


def test_a_browser_log_line_cannot_forge_lines_or_flood() -> None:
    assert clean_log_line('ok') == 'ok'
    assert clean_log_line('a\nERROR forged\r\x1b[31m') == 'a\\x0aERROR forged\\x0d\\x1b[31m'
    assert clean_log_line({'not': 'text'}) == "{'not': 'text'}"
    long = clean_log_line('x' * 10_000)
    assert len(long) < 600 and long.endswith('(9500 more)')


def test_the_log_budget_is_per_page_and_per_minute() -> None:
    now = [0.0]
    budget = LogBudget(per_minute=3, clock=lambda: now[0])
    assert [budget.allow('a') for _ in range(5)] == [True, True, True, None, False]
    assert budget.allow('b') is True
    now[0] = 61.0
    assert budget.allow('a') is True


# -- the header timeout ----------------------------------------------------------------------------------------


def test_the_slow_client_warning_is_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    slow = slow_clients.SlowClientLog(clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger='lesson.storage.learner_files'):
        for _ in range(500):
            slow.record()
        now[0] = 61.0
        slow.record()
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2 and 'closed 1 connection' in lines[0] and 'closed 500 connection' in lines[1]
