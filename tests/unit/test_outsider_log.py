"""Issue 18 (findings 5 and 9), the page server's log: what a client can make it say is one line a minute per address
and kind with a count, and NiceGUI's "not found" line shows the path, never the query."""

from __future__ import annotations

import contextvars
import logging

import pytest

from demos.protocol.limits import OncePerMinute
from lesson.web import outsider_log
from lesson.web.outsider_log import NotFoundLines, OutsiderLog, path_only


@pytest.fixture
def clock() -> list[float]:
    return [0.0]


@pytest.fixture
def outsiders(clock: list[float]) -> OutsiderLog:
    return OutsiderLog(OncePerMinute(60.0, clock=lambda: clock[0]))


def _as(address: str) -> contextvars.Token[str | None]:
    return outsider_log._client_address.set(address)


def test_a_flood_of_crafted_warnings_is_one_line_a_minute_per_address(
    outsiders: OutsiderLog, clock: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger('lesson.pages.quiz')
    token = _as('192.0.2.7')
    try:
        for n in range(5000):
            outsiders.warning(log, 'quiz answer refused', 'quiz answer refused: option %d', n)
        lines = [r.getMessage() for r in caplog.records]
        assert lines == ['quiz answer refused: option 0 [from 192.0.2.7]']
        clock[0] = 61.0
        outsiders.warning(log, 'quiz answer refused', 'quiz answer refused: option %d', 1)
    finally:
        outsider_log._client_address.reset(token)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[1] == "4999 more 'quiz answer refused' from 192.0.2.7 in the last minute"
    assert lines[2] == 'quiz answer refused: option 1 [from 192.0.2.7]'


def test_not_found_lines_show_the_path_and_are_throttled(outsiders: OutsiderLog) -> None:
    lines = NotFoundLines(outsiders)

    def record(url: str) -> logging.LogRecord:
        return logging.LogRecord('nicegui', logging.WARNING, __file__, 1, f'{url} not found', None, None)

    token = _as('192.0.2.8')
    try:
        first = record('http://10.0.0.5:8080/teacher/x?token=s3cret-teacher-token')
        assert lines.filter(first) and first.getMessage() == '/teacher/x?… not found [from 192.0.2.8]'
        assert not any(lines.filter(record(f'http://10.0.0.5:8080/n{n}?token=t')) for n in range(1999))
    finally:
        outsider_log._client_address.reset(token)
    other = logging.LogRecord('nicegui', logging.WARNING, __file__, 1, 'something else %s', ('x',), None)
    assert lines.filter(other) and other.getMessage() == 'something else x'  # other lines are left alone


def test_path_only() -> None:
    assert path_only('http://h/a/b?token=x#f') == '/a/b?…'
    assert path_only('http://h') == '/'
    assert path_only('http://h/quiz') == '/quiz'


def test_browser_log_lines_are_bounded_per_address(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A script opening 100 pages from one machine, each logging its budget of 20 lines: 200 lines, not 2,000."""
    from types import SimpleNamespace

    from nicegui import Client

    from demos.protocol.limits import AddressRateLimiter
    from lesson.web.browser_log import LogBudget, browser_log_handler

    monkeypatch.setattr(Client, 'instances', {f'page{n}': SimpleNamespace(ip='192.0.2.9') for n in range(100)})
    on_log = browser_log_handler(LogBudget(), AddressRateLimiter(200))
    with caplog.at_level(logging.INFO):
        for n in range(100):
            for _ in range(20):
                on_log('sid', {'client_id': f'page{n}', 'level': 'info', 'message': 'flood'})
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if m.endswith(': flood')]) == 200
    assert len([m for m in messages if 'too many log lines' in m and '192.0.2.9' in m]) == 1
