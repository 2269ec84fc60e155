"""Attempt times in the learner's time zone, as their browser names it; UTC when it names nothing usable."""

from datetime import UTC, datetime

import pytest

from lesson.rules.local_time import local_time_text, zone_from_browser

NOON_UTC = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
SUMMER_NOON_UTC = datetime(2025, 7, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ('name', 'moment', 'text'),
    [
        ('Europe/Berlin', NOON_UTC, '2025-01-31 13:00 CET'),
        ('Europe/Berlin', SUMMER_NOON_UTC, '2025-07-31 14:00 CEST'),
        ('Asia/Kolkata', NOON_UTC, '2025-01-31 17:30 IST'),
        ('America/Sao_Paulo', NOON_UTC, '2025-01-31 09:00 UTC-03'),  # the zone data has no abbreviation here
        ('Pacific/Kiritimati', NOON_UTC, '2025-02-01 02:00 UTC+14'),  # the date changes too
        ('UTC', NOON_UTC, '2025-01-31 12:00 UTC'),
    ],
)
def test_times_in_the_browsers_zone(name: str, moment: datetime, text: str) -> None:
    assert local_time_text(moment, zone_from_browser(name)) == text


@pytest.mark.parametrize(
    'name',
    [
        None,
        5,
        '',
        'Mars/Olympus',
        '../../etc/passwd',
        '/etc/localtime',
        'a' * 65,
        'Europe\\Berlin',
        'Europe/Berlin\0',
        {},
    ],
)
def test_anything_else_falls_back_to_utc_and_says_so(name: object) -> None:
    assert zone_from_browser(name) is None
    assert local_time_text(NOON_UTC, zone_from_browser(name)) == '2025-01-31 12:00 UTC'
