"""Every place a Redis URL is shown goes through one redaction (issue 18, finding 7)."""

from __future__ import annotations

import pytest

from lesson.config import deployment_problems
from lesson.storage.redis_storage import redacted
from lesson.storage.redis_urls import redacted as the_one_redaction

SECRET = 'hunter2-s3cret'


@pytest.mark.parametrize(
    ('url', 'shown'),
    [
        (f'redis://user:{SECRET}@r:6379/0', 'redis://user:***@r:6379/0'),
        (f'redis://:{SECRET}@r/0', 'redis://:***@r/0'),
        (f'redis://r:6379/0?password={SECRET}', 'redis://r:6379/0?password=***'),
        (f'unix:///run/redis.sock?db=0&password={SECRET}', 'unix:///run/redis.sock?db=0&password=***'),
        (f'rediss://u:{SECRET}@[::1]:6380/1?PASSWORD={SECRET}&ssl_cert_reqs=none', None),
        ('redis://r:6379', 'redis://r:6379'),
        ('unix:///run/redis.sock?db=2', 'unix:///run/redis.sock?db=2'),
    ],
)
def test_passwords_in_user_info_and_query_are_never_shown(url: str, shown: str | None) -> None:
    assert redacted is the_one_redaction
    assert SECRET not in redacted(url)
    if shown is not None:
        assert redacted(url) == shown


@pytest.mark.parametrize(
    'url', [f'redis://u:{SECRET}@r:notaport/0', f'redis://u:{SECRET}@[::1/0', f'redis://r/0?password={SECRET}&&x']
)
def test_an_unparsable_url_is_named_by_its_scheme_only(url: str) -> None:
    assert redacted(url) == 'a redis:// URL'


@pytest.mark.parametrize('url', [f'redsi://u:{SECRET}@r:6379/0', f'http://r/0?password={SECRET}', f'u:{SECRET}@r'])
def test_a_mistyped_scheme_is_refused_without_echoing_the_url(url: str) -> None:
    problems = deployment_problems(url, None, ())
    assert problems and all(SECRET not in problem for problem in problems), problems


def test_a_malformed_url_with_a_good_scheme_is_refused_at_start() -> None:
    problems = deployment_problems(f'redis://u:{SECRET}@r:notaport/0', None, ())
    assert problems == ['--redis-url does not parse (port, brackets or query): check a redis:// URL']
