"""The teacher token (kept 0600, reused, compared in constant time) and the join addresses."""

import stat
from pathlib import Path

import pytest

from lesson.config import Config
from lesson.pages.teacher import join_screen, setup
from lesson.teaching.access import (
    COOKIE_MAX_AGE_S,
    cookie_valid,
    load_or_create_teacher_token,
    rotate_teacher_token,
    teacher_cookie,
    teacher_token,
    token_matches,
)


def test_the_token_is_made_once_kept_0600_and_reused(tmp_path: Path) -> None:
    token = load_or_create_teacher_token(tmp_path)
    assert len(token) >= 32
    assert stat.S_IMODE((tmp_path / 'teacher_token').stat().st_mode) == 0o600
    assert load_or_create_teacher_token(tmp_path) == token
    assert teacher_token('given-token-0123456789', tmp_path) == 'given-token-0123456789'


def test_a_damaged_token_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / 'teacher_token').write_text('short')
    assert load_or_create_teacher_token(tmp_path) != 'short'


@pytest.mark.parametrize('given', [None, '', 'x', 'the-token-0123456789x', 'the-token-012345678', 42, 'thé'])
def test_only_the_exact_token_matches(given: object) -> None:
    assert not token_matches('the-token-0123456789', given)
    assert token_matches('the-token-0123456789', 'the-token-0123456789')
    assert not token_matches('', '')


def test_join_addresses_are_every_machine_address_on_0_0_0_0(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(setup, 'machine_ipv4_addresses', lambda: ['10.0.0.7', '192.168.1.23'])
    assert setup.join_urls_for(Config(host='0.0.0.0'), 8080)() == [
        'http://10.0.0.7:8080/join',
        'http://192.168.1.23:8080/join',
    ]
    assert setup.join_urls_for(Config(host='192.168.1.5'), 9000)() == ['http://192.168.1.5:9000/join']


def test_the_qr_code_is_inline_svg_made_here() -> None:
    svg = join_screen.qr_svg('http://10.0.0.7:8080/join')
    assert svg.startswith('<svg') and 'http' not in svg  # no link to a web service, no address in clear


def test_a_teacher_cookie_is_good_for_its_token_and_a_teaching_day_only() -> None:
    token = 'a-teacher-token-of-some-length'
    cookie = teacher_cookie(token, now=1_000_000)
    assert token not in cookie
    assert cookie_valid(token, cookie, now=1_000_000 + COOKIE_MAX_AGE_S - 1)
    assert not cookie_valid(token, cookie, now=1_000_000 + COOKIE_MAX_AGE_S)
    assert not cookie_valid(token + 'x', cookie, now=1_000_001)  # a rotated token
    issued, nonce, mac = cookie.split('.')
    assert not cookie_valid(token, f'{int(issued) + 1}.{nonce}.{mac}', now=1_000_001)  # the time is signed too
    for forged in ('', 'a.b', '1.2.3.4', None, 5, f'{issued}.{nonce}.{"0" * len(mac)}'):
        assert not cookie_valid(token, forged, now=1_000_001)


def test_rotating_replaces_the_kept_token(tmp_path: Path) -> None:
    old = load_or_create_teacher_token(tmp_path)
    new = rotate_teacher_token(tmp_path)
    assert new != old and load_or_create_teacher_token(tmp_path) == new
