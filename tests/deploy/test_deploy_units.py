"""The pure parts of the several-instances path: flags, origin rule behind a proxy, CSP, proxy config, merging."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from demos.protocol.origins import Origin, forwarded_origin, origin_allowed, peer_is_trusted
from lesson.config import config_from_args, deployment_problems
from lesson.panels.setup import DemoSetup
from lesson.rules.progress import InProgress, QuizState, SubmittedAttempt
from lesson.storage.redis_storage import merge_learner_data, merge_quiz, redacted, retry_delays
from lesson.web.deployment import ECHO_PREFIX, Instance, ProxySettings, haproxy_config
from lesson.web.security_headers import content_security_policy

SECRET = 'x' * 40


def test_flags_default_to_one_machine() -> None:
    config = config_from_args(['--storage-secret', SECRET], {})
    assert (config.redis_url, config.public_echo_url, config.trusted_proxies) == (None, None, ())


def test_flags_and_environment() -> None:
    config = config_from_args(
        ['--storage-secret', SECRET, '--public-echo-url', '/echo-server/', '--trusted-proxy', '10.0.0.0/8'],
        {'WEBSOCKET_LESSON_REDIS_URL': 'redis://127.0.0.1:6379/0', 'WEBSOCKET_LESSON_TRUSTED_PROXIES': '127.0.0.1'},
    )
    assert config.redis_url == 'redis://127.0.0.1:6379/0'
    assert config.public_echo_url == '/echo-server'
    assert config.trusted_proxies == ('127.0.0.1', '10.0.0.0/8')


@pytest.mark.parametrize(
    ('redis_url', 'echo_url', 'proxies'),
    [
        ('http://x', None, []),
        (None, 'echo-server', []),
        (None, '//evil.example/echo', []),
        (None, 'https://x/echo', []),
        (None, '/echo-server?x=1', []),
        (None, "/echo'server", []),
        (None, None, ['proxy.example']),
    ],
)
def test_bad_deployment_flags_are_named(redis_url: str | None, echo_url: str | None, proxies: list[str]) -> None:
    assert len(deployment_problems(redis_url, echo_url, proxies)) == 1


def test_good_deployment_flags() -> None:
    assert deployment_problems('rediss://u:p@r:6380/1', 'wss://lesson.example/echo-server', ['::1', '10.0.0.0/8']) == []


HEADERS = {'x-forwarded-proto': 'https', 'x-forwarded-host': 'lesson.example'}


def test_forwarded_headers_count_only_from_a_trusted_proxy() -> None:
    assert forwarded_origin(HEADERS, '127.0.0.1', ['127.0.0.1']) == Origin('https', 'lesson.example', 443)
    assert forwarded_origin(HEADERS, '10.1.2.3', ['10.0.0.0/8']) == Origin('https', 'lesson.example', 443)
    assert forwarded_origin(HEADERS, '192.168.1.9', ['127.0.0.1']) is None
    assert forwarded_origin(HEADERS, '127.0.0.1', []) is None
    assert forwarded_origin(HEADERS, None, ['127.0.0.1']) is None
    assert not peer_is_trusted('not an address', ['127.0.0.1'])


def test_rfc_7239_forwarded_wins_and_takes_the_first_element() -> None:
    headers = {**HEADERS, 'forwarded': 'for=1.2.3.4;proto=http;host="a.example:8080", for=5.6.7.8;host=b.example'}
    assert forwarded_origin(headers, '127.0.0.1', ['127.0.0.1']) == Origin('http', 'a.example', 8080)


def test_forwarded_websocket_scheme_is_the_page_scheme_and_junk_is_ignored() -> None:
    assert forwarded_origin({'x-forwarded-proto': 'wss', 'x-forwarded-host': 'h:8443'}, '::1', ['::1']) == Origin(
        'https', 'h', 8443
    )
    assert forwarded_origin({'x-forwarded-proto': 'gopher', 'x-forwarded-host': 'h'}, '::1', ['::1']) is None
    assert forwarded_origin({'x-forwarded-proto': 'http'}, '::1', ['::1']) is None


def test_origin_rule_behind_the_proxy() -> None:
    public = Origin('http', '127.0.0.1', 18080)

    def allowed(origin: str, forwarded: Origin | None = None) -> bool:
        return origin_allowed(
            origin, (), True, app_scheme='http', app_port=18081, request_host='127.0.0.1:18080', forwarded=forwarded
        )

    # without the forwarded origin the proxy's port is not the app's: refused
    assert not allowed('http://127.0.0.1:18080')
    assert allowed('http://127.0.0.1:18080', forwarded=public)
    assert not allowed('http://evil.example:18080', forwarded=public)
    # the instance's own port is not the public one: through the proxy only the public origin counts
    assert not allowed('http://127.0.0.1:18081', forwarded=public)


def test_csp_with_a_public_echo_address() -> None:
    assert "connect-src 'self';" in content_security_policy('h', 8765, False, '/echo-server')
    absolute = content_security_policy('h', 8765, False, 'wss://echo.example:8443/echo-server')
    assert "connect-src 'self' wss://echo.example:8443 https://echo.example:8443;" in absolute
    assert 'ws://h:8765' in content_security_policy('h', 8765, False)


def test_demo_setup_hands_the_public_address_to_the_browser() -> None:
    assert DemoSetup(8765, 's').as_props()['echoPort'] == 8765
    assert DemoSetup(8765, 's', echo_base='/echo-server').as_props()['echoPort'] == '/echo-server'


INSTANCES = [Instance('app1', '127.0.0.1', 18081, 18766), Instance('app2', '127.0.0.1', 18082, 18767)]


def test_haproxy_config_routes_pages_and_echo_by_one_cookie() -> None:
    text = haproxy_config(INSTANCES)
    assert 'cookie SERVERID insert indirect nocache' in text
    assert 'option redispatch' in text
    assert f'acl to_echo path_beg {ECHO_PREFIX}/' in text
    for instance in INSTANCES:
        assert f'server {instance.name} 127.0.0.1:{instance.page_port} cookie {instance.name}' in text
        assert f'server {instance.name} 127.0.0.1:{instance.echo_port} cookie {instance.name}' in text
    assert 'balance source' not in text  # one school NAT would put the whole class on one instance


def test_haproxy_accepts_the_config(tmp_path) -> None:
    haproxy = shutil.which('haproxy') or '/usr/sbin/haproxy'
    if not shutil.which(haproxy):
        pytest.fail('haproxy is not installed: run `sudo apt-get install -y haproxy` (or .ci/run)')
    for settings in (ProxySettings(), ProxySettings(stats_bind='127.0.0.1:1')):
        path = tmp_path / 'haproxy.cfg'
        path.write_text(haproxy_config(INSTANCES, settings))
        checked = subprocess.run([haproxy, '-c', '-f', str(path)], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_bad_instances_are_refused() -> None:
    with pytest.raises(ValueError):
        Instance.parse('app1=127.0.0.1:80')
    with pytest.raises(ValueError):
        haproxy_config([INSTANCES[0], INSTANCES[0]])
    with pytest.raises(ValueError):
        Instance('bad name', 'h', 1, 2)
    assert Instance.parse('a=10.0.0.2:8081:8766') == Instance('a', '10.0.0.2', 8081, 8766)


def _attempt(number: int, minute: int, score: int) -> SubmittedAttempt:
    return SubmittedAttempt(number, 0, datetime(2026, 1, 1, 12, minute, tzinfo=UTC), score, 4, {'q1': f'o{minute}'})


def test_attempts_made_while_redis_was_away_go_after_the_stored_ones() -> None:
    stored = QuizState(None, (_attempt(1, 0, 2), _attempt(2, 1, 3)))
    local = QuizState(None, (_attempt(1, 5, 4),))
    merged = merge_quiz(stored, local)
    assert [(a.number, a.score) for a in merged.attempts] == [(1, 2), (2, 3), (3, 4)]
    assert merged.current is None
    # the same attempt twice (a retry wrote it already) is kept once
    assert merge_quiz(merged, local).attempts == merged.attempts


def test_answers_in_progress_are_renumbered_after_the_history() -> None:
    stored = QuizState(None, (_attempt(1, 0, 2),))
    local = QuizState(InProgress(1, 0, {'q1': 'a'}), ())
    assert merge_quiz(stored, local).current == InProgress(2, 0, {'q1': 'a'})
    assert merge_quiz(QuizState(InProgress(2, 3, {}), (_attempt(1, 0, 2),)), QuizState()).current == InProgress(2, 3)


def test_merge_keeps_other_keys_newest() -> None:
    merged = merge_learner_data({'dark': True, 'demo_run': {'a': 1}}, {'dark': False})
    assert merged == {'dark': False, 'demo_run': {'a': 1}}


def test_redacted_url_and_backoff() -> None:
    assert redacted('redis://user:secret@r:6379/0') == 'redis://user:***@r:6379/0'
    assert redacted('redis://r:6379') == 'redis://r:6379'
    delays = retry_delays(0.25, 1.0)
    assert [delays() for _ in range(5)] == [0.25, 0.5, 1.0, 1.0, 1.0]


def test_compose_proxy_config_is_what_its_first_line_makes() -> None:
    import shlex
    from pathlib import Path

    from lesson.web.deployment import main

    text = (Path(__file__).parents[2] / 'deploy' / 'haproxy.cfg').read_text()
    first, _, rest = text.partition('\n')
    command = shlex.split(first.split(': ', 1)[1])
    assert command[:3] == ['python', '-m', 'lesson.web.deployment']
    import contextlib
    import io

    made = io.StringIO()
    with contextlib.redirect_stdout(made):
        main(command[3:])
    assert made.getvalue().partition('\n')[2] == rest, (
        'regenerate deploy/haproxy.cfg with the command on its first line'
    )
