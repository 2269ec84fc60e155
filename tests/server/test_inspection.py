"""The inspection stream (/inspect) in-process, with a real `websockets` client: the counts are the socket's, the
frames are the server's reading of them, commands act on the page's own session, and only issued ids get in."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from demos.protocol import session_ids
from demos.server.echo_server import EchoServer

from .clients import eventually, http_get
from .conftest import APP_ORIGIN, StartServer

KEY = b'k' * 32


async def next_of(socket: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next message of type ``kind`` (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await socket.recv())
            if message['type'] == kind:
                return message


async def inspect(server: EchoServer, session: str) -> ClientConnection:
    return await connect(f'ws://127.0.0.1:{server.port}/inspect?session={session}', origin=APP_ORIGIN)  # type: ignore[arg-type]


async def test_counts_are_what_the_sockets_carried_and_commands_drive_the_feed(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    session = session_ids.issue(KEY)
    async with await inspect(server, session) as inspector:
        first = await next_of(inspector, 'counts')
        assert first['running'] is False and first['lanes']['poll']['tcp_connections'] == 0

        await inspector.send(json.dumps({'id': 1, 'do': 'start', 'rate_per_s': 50}))
        assert (await next_of(inspector, 'reply'))['ok'] is True
        async with connect(f'ws://127.0.0.1:{server.port}/push?session={session}', origin=APP_ORIGIN) as push:
            await push.recv()
            answer = await http_get(server.port, f'/poll?session={session}&after=0', [('Origin', APP_ORIGIN)])
            counts = await next_of(inspector, 'counts')
            while counts['lanes']['poll']['tcp_connections'] < 1 or not counts['lanes']['push']['updates_out']:
                counts = await next_of(inspector, 'counts')
        # The poll's bytes as the server's socket counted them: the whole request and answer, nothing else.
        poll = counts['lanes']['poll']
        assert poll['bytes_in'] + poll['bytes_out'] == answer.bytes_sent + answer.bytes_received
        assert counts['running'] is True
        # The inspector's own socket is on no lane.
        assert sum(lane['tcp_connections'] for lane in counts['lanes'].values()) == 2

        await inspector.send(json.dumps({'id': 2, 'do': 'stop'}))
        reply = await next_of(inspector, 'reply')
        assert reply == {'type': 'reply', 'id': 2, 'do': 'stop', 'ok': True}
        assert not server.session(session).running


async def test_frames_and_the_handshake_come_as_the_server_read_them(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    session = session_ids.issue(KEY)
    async with await inspect(server, session) as inspector:
        await next_of(inspector, 'counts')
        async with connect(f'ws://127.0.0.1:{server.port}/echo?session={session}', origin=APP_ORIGIN) as echo:
            await echo.send('x' * 126)
            await echo.recv()
            handshake: dict[str, Any] = {}
            entries: list[dict[str, Any]] = []
            async with asyncio.timeout(5):
                while not handshake or len(entries) < 2:
                    message = json.loads(await inspector.recv())
                    if message['type'] == 'handshake':
                        handshake = message
                    elif message['type'] == 'frames':
                        entries += message['entries']
    assert handshake['status_line'] == 'HTTP/1.1 101 Switching Protocols'
    assert handshake['check']['matches'] is True
    assert handshake['check']['expected_accept'] == handshake['check']['server_accept']
    sent, echoed = entries[:2]
    assert (sent['direction'], sent['masked'], sent['length_form'], sent['payload_length']) == (
        'client→server',
        True,
        '16-bit',
        126,
    )
    assert (echoed['direction'], echoed['masked'], echoed['header_size']) == ('server→client', False, 4)


async def test_the_back_pressure_pause_is_announced_when_it_starts_and_ends(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    session = session_ids.issue(KEY)
    async with (
        await inspect(server, session) as inspector,
        connect(f'ws://127.0.0.1:{server.port}/echo?session={session}', origin=APP_ORIGIN),
    ):
        await eventually(lambda: len(server.session(session).echo.open_connections()) == 1)
        await inspector.send(json.dumps({'id': 7, 'do': 'pause_echo', 'seconds': 0.3}))
        paused = await next_of(inspector, 'reading')
        resumed = await next_of(inspector, 'reading')
        reply = await next_of(inspector, 'reply')
    assert (paused['paused'], resumed['paused']) == (True, False)
    assert 250 <= resumed['at'] - paused['at'] < 2000
    assert (reply['id'], reply['ok'], reply['connections']) == (7, True, 1)


@pytest.mark.parametrize(
    'command',
    [
        'not json',
        '[]',
        '{"do": "explode"}',
        '{"do": "close_echo", "code": 4000}',
        '{"do": "rate", "rate_per_s": "fast"}',
        '{"do": "start", "rate_per_s": 1e9}',
        '{"id": true, "do": "stop"}',
    ],
)
async def test_a_bad_command_closes_with_1008_and_others_go_on(start_server: StartServer, command: str) -> None:
    server = await start_server(session_key=KEY)
    session = session_ids.issue(KEY)
    async with await inspect(server, session) as bad, await inspect(server, session) as good:
        await bad.send(command)
        await bad.wait_closed()
        assert bad.close_code == 1008
        await good.send(json.dumps({'id': 1, 'do': 'reset'}))
        assert (await next_of(good, 'reply'))['ok'] is True


async def test_learners_may_not_restart_a_shared_server(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY, learners_may_restart=False)
    async with await inspect(server, session_ids.issue(KEY)) as inspector:
        await inspector.send(json.dumps({'id': 1, 'do': 'restart', 'seconds': 1}))
        reply = await next_of(inspector, 'reply')
    assert reply['ok'] is False and 'shared' in reply['error']
    assert server.is_serving


async def test_only_issued_session_ids_get_in_and_an_unknown_one_creates_nothing(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    before = len(server.sessions())
    for forged in ('ev1', session_ids.issue(b'another key' * 3), session_ids.issue(KEY)[:-2] + 'AA'):
        answer = await http_get(server.port, f'/poll?session={forged}&after=0')
        assert answer.status == 404
        with pytest.raises(InvalidStatus) as refused:
            await connect(f'ws://127.0.0.1:{server.port}/push?session={forged}', origin=APP_ORIGIN)
        assert refused.value.response.status_code == 404
    assert len(server.sessions()) == before
    genuine = session_ids.issue(KEY)
    assert (await http_get(server.port, f'/poll?session={genuine}&after=0')).status == 200
    assert (await http_get(server.port, '/poll?after=0')).status == 200  # clients that name none: `default`


async def test_a_session_with_open_connections_is_never_pushed_out(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY, max_sessions=3)
    kept = session_ids.issue(KEY)
    async with connect(f'ws://127.0.0.1:{server.port}/push?session={kept}', origin=APP_ORIGIN):
        for _ in range(2):
            assert (await http_get(server.port, f'/poll?session={session_ids.issue(KEY)}&after=0')).status == 200
        # Full: the two idle sessions make room in turn, the connected one stays.
        for _ in range(4):
            assert (await http_get(server.port, f'/poll?session={session_ids.issue(KEY)}&after=0')).status == 200
        assert kept in {session.id for session in server.sessions()}


async def test_a_page_may_take_its_own_servers_down_and_it_comes_back(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    async with await inspect(server, session_ids.issue(KEY)) as inspector:
        await inspector.send(json.dumps({'id': 1, 'do': 'restart', 'seconds': 0.5}))
        reply = await next_of(inspector, 'reply')
        await inspector.wait_closed()
    assert reply['ok'] is True and inspector.close_code == 1001
    await eventually(lambda: not server.is_serving, timeout=2)
    await eventually(lambda: server.is_serving, timeout=5)
    answer = await http_get(server.port, '/poll?after=0')
    assert answer.status == 200
