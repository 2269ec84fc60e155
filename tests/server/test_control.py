"""The app's control channel (`/control`): only the signed header gets in; restart works (class feed: own file)."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from demos.server.control import CONTROL_HEADER, ControlGate, control_header
from demos.server.echo_server import EchoServer

from .clients import eventually
from .conftest import APP_ORIGIN, StartServer

KEY = b'k' * 32


def url(server: EchoServer, path: str = '/control') -> str:
    return f'ws://127.0.0.1:{server.port}{path}'


async def command(server: EchoServer, **fields: object) -> dict[str, object]:
    async with connect(url(server), additional_headers={CONTROL_HEADER: control_header(KEY)}) as socket:
        await socket.send(json.dumps({'id': 7, **fields}))
        return json.loads(await socket.recv())


def test_the_gate_takes_only_a_fresh_unused_signature_and_no_page() -> None:
    now = 1_800_000_000.0
    gate = ControlGate(KEY, clock=lambda: now)
    good = control_header(KEY, int(now * 1000))
    assert gate.problem('http://127.0.0.1:8080', good) == 'the control channel is not for pages'
    assert gate.problem(None, None) is not None
    assert gate.problem(None, control_header(b'x' * 32, int(now * 1000))) is not None  # another key
    assert gate.problem(None, control_header(KEY, int(now * 1000) - 60_000)) is not None  # stale
    assert gate.problem(None, good) is None
    assert gate.problem(None, good) is not None  # a replay
    assert ControlGate(None).problem(None, good) is not None  # a server without a key takes no commands


def test_two_commands_in_one_millisecond_are_not_a_replay_of_each_other() -> None:
    now = 1_800_000_000.0
    gate = ControlGate(KEY, clock=lambda: now)
    first, second = (control_header(KEY, int(now * 1000)) for _ in range(2))
    assert first != second
    assert gate.problem(None, first) is None
    assert gate.problem(None, second) is None
    assert gate.problem(None, second) == 'X-Lesson-Control was used already'


@pytest.mark.parametrize(
    'value',
    [
        '1800000000000.0123456789abcdef',  # no nonce (the old form)
        '²800000000000.0123456789abcdef.00',  # a digit that is not ASCII
        '1800000000000.0123456789ABCDEG.00',  # a nonce that is not lowercase hex
        '1800000000000.0123.00',  # a short nonce
        '1800000000000.0123456789abcdef.',  # no signature
    ],
)
def test_a_malformed_header_is_named_so(value: str) -> None:
    gate = ControlGate(KEY, clock=lambda: 1_800_000_000.0)
    assert gate.problem(None, value) == 'missing or malformed X-Lesson-Control header'


@pytest.mark.parametrize(
    'headers',
    [{}, {CONTROL_HEADER: 'nonsense'}, {CONTROL_HEADER: control_header(b'wrong key' * 4)}, {'Origin': APP_ORIGIN}],
)
async def test_anything_but_the_apps_header_is_refused_403(start_server: StartServer, headers: dict[str, str]) -> None:
    server = await start_server(session_key=KEY)
    if 'Origin' in headers:
        headers = {**headers, CONTROL_HEADER: control_header(KEY)}
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url(server), additional_headers=headers):
            pass
    assert refused.value.response.status_code == 403


async def test_restart_takes_the_server_down_for_everyone_and_it_comes_back(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    async with connect(url(server, '/echo'), origin=APP_ORIGIN) as learner:  # type: ignore[arg-type]
        reply = await command(server, do='restart', seconds=0.5)
        assert reply == {'ok': True, 'down_for_s': 0.5, 'id': 7}
        await asyncio.wait_for(learner.wait_closed(), 5)
        assert learner.close_code == 1001
    await eventually(lambda: server.is_serving)  # the echo server came back


async def test_bad_commands_get_a_reason_and_change_nothing(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    assert (await command(server, do='restart', seconds=999))['ok'] is False
    assert (await command(server, do='explode'))['ok'] is False
    assert (await command(server, do='class_feed', action='start', rate_per_s=5000))['ok'] is False
    assert server.is_serving
