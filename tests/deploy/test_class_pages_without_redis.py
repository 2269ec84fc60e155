"""With Redis down, the class pages answer within a second and say what is wrong (issue 18, finding 8): they
answered HTTP 500 after 3 s (the store's 3 s of retries ran into NiceGUI's 3 s page timeout)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from ..support.app_process import RunningApp
from ..support.deployment import RedisServer

TOKEN = 'teacher-token-for-the-outage-test'
FOR_LEARNERS = 'The class cannot be reached right now'
FOR_THE_TEACHER = 'The class store (Redis) does not answer'


def timed_get(http: httpx.Client, path: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    answer = http.get(path)
    return time.perf_counter() - started, answer


def test_join_and_the_teacher_pages_say_the_class_store_is_unreachable(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    (tmp_path / 'app').mkdir()
    app = RunningApp(tmp_path / 'app', extra_args=['--redis-url', redis_server.url, '--teacher-token', TOKEN])
    app.start()
    try:
        with httpx.Client(base_url=app.url, timeout=10, follow_redirects=True) as http:
            assert http.get(f'/teacher?token={TOKEN}').status_code == 200  # the cookie, while Redis is up
            redis_server.stop()
            for path, notice in (
                ('/join', FOR_LEARNERS),
                ('/teacher', FOR_THE_TEACHER),
                ('/teacher/join', FOR_THE_TEACHER),
            ):
                took_s, answer = timed_get(http, path)
                assert answer.status_code == 200 and notice in answer.text, (path, answer.status_code)
                assert took_s < 1.0, (path, took_s)
            assert http.get('/quiz').status_code == 200 and http.get('/demo').status_code == 200  # what still works
    finally:
        app.stop()
