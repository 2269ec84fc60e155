"""Issue 18 (findings 3, 4, 9, 10), the echo server's side: one address cannot hold the class's connections or demo
sessions, log lines name the browser behind a trusted proxy, every refusal an outsider can repeat is one log line a
minute per address, and ``/control`` turns away peers that are not this machine before looking at a signature.

A second machine is a second loopback address (127.0.0.2); a peer that is really not loopback is this machine's own
network address, with the server listening on 0.0.0.0.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from demos.protocol import session_ids
from demos.server.control import CONTROL_HEADER, control_header
from demos.server.echo_server import EchoServer, EchoSettings
from lesson.web.addresses import machine_ipv4_addresses

from .clients import eventually, http_get, request_bytes
from .conftest import APP_ORIGIN, StartServer

KEY = session_ids.new_key()
ATTACKER = '127.0.0.2'
LEARNER = '127.0.0.3'


def warnings_about(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and words in r.getMessage()]


async def open_from(source: str, server: EchoServer, target: str) -> ClientConnection | int:
    """A WebSocket to ``target`` from ``source`` (no Origin, as a script sends), or the status it was refused with."""
    try:
        return await connect(f'ws://127.0.0.1:{server.port}{target}', local_addr=(source, 0), open_timeout=5)
    except InvalidStatus as refused:
        return refused.response.status_code


async def status_from(source: str, port: int, target: str, headers: list[tuple[str, str]] | None = None) -> int:
    reader, writer = await asyncio.open_connection('127.0.0.1', port, local_addr=(source, 0))
    writer.write(request_bytes(target, headers or [], host=f'127.0.0.1:{port}'))
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return int(answer.split(b' ', 2)[1])


@pytest.fixture
async def held() -> AsyncIterator[list[ClientConnection]]:
    sockets: list[ClientConnection] = []
    yield sockets
    await asyncio.gather(*(ws.close() for ws in sockets))


async def test_one_address_holding_echo_sockets_leaves_room_for_another(
    start_server: StartServer, held: list[ClientConnection], caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 3: 300 completed /echo sockets from one address at --max-connections 300 used to take every slot."""
    server = await start_server(max_connections=300)
    results: list[ClientConnection | int] = []
    for _ in range(30):  # ten at a time: more at once would meet the rule on sockets still owing their request
        results += await asyncio.gather(*(open_from(ATTACKER, server, '/echo') for _ in range(10)))
    held.extend(ws for ws in results if not isinstance(ws, int))
    assert len(held) == 240  # four fifths of the cap, whatever --connections-per-address (1600) says
    assert [r for r in results if isinstance(r, int)] == [503] * 60
    for target in ('/inspect?session=mine', '/echo?session=mine', '/push?session=mine'):
        learner = await open_from(LEARNER, server, target)
        assert not isinstance(learner, int), f'{target}: {learner}'
        held.append(learner)
    # 60 refusals, one log line naming the address and the count to come
    lines = warnings_about(caplog, 'connections, its most')
    assert len(lines) == 1 and ATTACKER in lines[0], lines
    # the attacker's slots come back as its sockets close
    await held[0].close()
    await eventually(lambda: server._tally.held_by(ATTACKER) == 239)
    again = await open_from(ATTACKER, server, '/echo')
    assert not isinstance(again, int)
    held.append(again)


async def test_a_class_behind_one_address_fits_the_default_caps() -> None:
    settings = EchoSettings()
    assert settings.connections_cap_per_address == 1600  # 200 learners' pages of 8 connections
    assert settings.sessions_cap_per_address == 400
    assert EchoSettings(connections_per_address=0, sessions_per_address=0).connections_cap_per_address is None
    assert EchoSettings(max_connections=4000, connections_per_address=3200).connections_cap_per_address == 3200


async def test_one_address_holding_demo_sessions_leaves_room_for_another(
    start_server: StartServer, held: list[ClientConnection]
) -> None:
    """Finding 3: 30 sessions each holding an open /inspect at --max-sessions 30 used to refuse a new learner 503."""
    server = await start_server(session_key=KEY, max_sessions=30)
    results = [await open_from(ATTACKER, server, f'/inspect?session={session_ids.issue(KEY)}') for _ in range(30)]
    held.extend(ws for ws in results if not isinstance(ws, int))
    assert len(held) == 24 and [r for r in results if isinstance(r, int)] == [503] * 6
    learner = await open_from(LEARNER, server, f'/inspect?session={session_ids.issue(KEY)}')
    assert not isinstance(learner, int), learner
    held.append(learner)
    # sessions the attacker no longer uses make room for its own next one, not for nobody
    await held[0].close()
    await eventually(lambda: sum(s.in_use for s in server.sessions()) == 24)
    assert await status_from(ATTACKER, server.port, f'/poll?session={session_ids.issue(KEY)}&after=0') == 200
    assert len(server._sessions.held_by(ATTACKER)) == 24


PROXY_HEADERS = [('X-Forwarded-Proto', 'https'), ('X-Forwarded-Host', 'lesson.example')]


async def test_behind_a_trusted_proxy_caps_and_log_lines_name_the_browser(
    start_server: StartServer, held: list[ClientConnection], caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 4: the log named the proxy; the per-address cap counts each forwarded browser."""
    server = await start_server(trusted_proxies=('127.0.0.1',), connections_per_address=2, allowed_origins=())

    async def through_proxy(browser: str) -> ClientConnection | int:
        headers = [*PROXY_HEADERS, ('X-Forwarded-For', browser)]
        try:
            return await connect(f'ws://127.0.0.1:{server.port}/echo', additional_headers=headers)
        except InvalidStatus as refused:
            return refused.response.status_code

    first = [await through_proxy('10.1.2.3') for _ in range(3)]
    assert [r for r in first if isinstance(r, int)] == [503]
    held.extend(ws for ws in first if not isinstance(ws, int))
    other = await through_proxy('10.1.2.4')
    assert not isinstance(other, int)
    held.append(other)
    [line] = warnings_about(caplog, 'its most')
    assert line.startswith('echo server: refused 10.1.2.3 (via 127.0.0.1:'), line


async def test_refusals_an_outsider_repeats_are_one_line_a_minute(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 9: 2,000 unknown paths were 2,000 lines; every kind of refusal is now one line a minute per address."""
    server = await start_server(session_key=KEY)
    statuses = await asyncio.gather(
        *(status_from(ATTACKER, server.port, f'/nothing{n}?token=secret') for n in range(200))
    )
    assert set(statuses) == {404}
    forged = [('Origin', 'https://evil.example')]
    assert {await status_from(ATTACKER, server.port, '/poll?session=default', forged) for _ in range(50)} == {403}
    # one line per kind, naming the address and not the query
    assert len(warnings_about(caplog, '404 Not Found')) == 1
    assert len(warnings_about(caplog, '403 Forbidden')) == 1
    assert not [r for r in caplog.records if 'secret' in r.getMessage()]
    # another address gets its own line; the counts left unsaid are logged when the minute ends
    assert await status_from(LEARNER, server.port, '/nothing') == 404
    assert len(warnings_about(caplog, '404 Not Found')) == 2
    server._refusals.flood_log.clock = lambda: 1e12  # a minute later
    server._refusals.log_unsaid()
    assert warnings_about(caplog, f'refused 199 more from {ATTACKER}') and warnings_about(caplog, 'refused 49 more')


async def test_forged_control_attempts_are_refused_and_logged_once(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 10: 12 forged /control attempts were 12 answers of 403 and no log line."""
    server = await start_server(session_key=KEY)
    forged = [(CONTROL_HEADER, control_header(b'guessed key' * 3)), ('Upgrade', 'websocket'), ('Connection', 'Upgrade')]
    assert [await status_from(ATTACKER, server.port, '/control', forged) for _ in range(12)] == [403] * 12
    [line] = warnings_about(caplog, '/control')
    assert ATTACKER in line and 'wrong signature' in line
    assert server.rejections['403 Forbidden'] == 12


def _this_machines_network_address() -> str:
    addresses = machine_ipv4_addresses()
    if not addresses:
        pytest.skip('this machine has no network address besides loopback')
    return addresses[0]


async def test_control_refuses_a_peer_that_is_not_this_machine_before_the_signature(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Finding 10: /control is on the network port; a peer from the network is refused even with a good signature."""
    address = _this_machines_network_address()
    server = EchoServer(EchoSettings(session_key=KEY, allowed_origins=(APP_ORIGIN,)))
    await server.start_on('0.0.0.0', 0)
    try:
        with pytest.raises(InvalidStatus) as refused:
            await connect(
                f'ws://{address}:{server.port}/control',
                additional_headers={CONTROL_HEADER: control_header(KEY)},
                open_timeout=5,
            )
        assert refused.value.response.status_code == 403
        assert b'for this machine only' in refused.value.response.body
        # the same signature scheme from loopback is the app, and gets in
        async with connect(
            f'ws://127.0.0.1:{server.port}/control', additional_headers={CONTROL_HEADER: control_header(KEY)}
        ):
            pass
        assert len(warnings_about(caplog, 'for this machine only')) == 1
        assert (await http_get(server.port, '/clock')).status == 200
    finally:
        await server.stop()


async def test_connections_dropped_for_what_their_client_sent_are_one_line_a_minute(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 9: a bad /inspect command closed its connection with one log line each; a script repeats it."""
    server = await start_server()
    for _ in range(30):
        inspector = await open_from(ATTACKER, server, '/inspect?session=s')
        assert not isinstance(inspector, int)
        await inspector.send('not a command')
        await inspector.wait_closed()
        assert inspector.close_code == 1008
    lines = warnings_about(caplog, 'on /inspect')
    assert len(lines) == 1 and ATTACKER in lines[0], lines
