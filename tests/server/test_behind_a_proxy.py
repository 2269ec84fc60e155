"""Behind a trusted proxy: the origin rule checks the page against the public origin the proxy forwarded, and
per-address limits count the browser's forwarded address; from anyone else, forwarding headers mean nothing."""

from __future__ import annotations

from demos.protocol import session_ids

from .clients import http_get
from .conftest import StartServer

KEY = b'p' * 32
PUBLIC = 'https://lesson.school.example'


def proxied(origin: str, client: str = '10.1.2.3') -> list[tuple[str, str]]:
    return [
        ('Origin', origin),
        ('X-Forwarded-Proto', 'https'),
        ('X-Forwarded-Host', 'lesson.school.example'),
        ('X-Forwarded-For', f'192.0.2.99, {client}'),
    ]


async def test_a_page_of_the_public_origin_gets_in_through_a_trusted_proxy(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY, allowed_origins=(), trusted_proxies=('127.0.0.1/32',))
    session = session_ids.issue(KEY)
    assert (await http_get(server.port, f'/poll?session={session}&after=0', proxied(PUBLIC))).status == 200
    # Another page, even through the same proxy, does not.
    refused = await http_get(server.port, f'/poll?session={session}&after=0', proxied('https://evil.example'))
    assert refused.status == 403


async def test_forwarding_headers_from_an_untrusted_peer_are_ignored(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY, allowed_origins=(), trusted_proxies=('10.0.0.0/8',))
    answer = await http_get(server.port, f'/poll?session={session_ids.issue(KEY)}&after=0', proxied(PUBLIC))
    assert answer.status == 403  # the forged X-Forwarded-* counted for nothing: a public page is not this server's


async def test_new_sessions_are_counted_per_forwarded_browser_not_per_proxy(start_server: StartServer) -> None:
    server = await start_server(
        session_key=KEY, allowed_origins=(), trusted_proxies=('127.0.0.1/32',), sessions_per_minute_per_address=3
    )
    statuses = [
        (await http_get(server.port, f'/poll?session={session_ids.issue(KEY)}&after=0', proxied(PUBLIC))).status
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    # A second learner behind the same proxy is not held to the first one's count.
    other = proxied(PUBLIC, client='10.1.2.4')
    assert (await http_get(server.port, f'/poll?session={session_ids.issue(KEY)}&after=0', other)).status == 200
