"""Start on the app's socket, stop with 1001, restart on the same port, and keep sessions bounded."""

from __future__ import annotations

import asyncio
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK

from demos.server.echo_server import EchoServer, EchoSettings

from .clients import eventually
from .conftest import StartServer


async def test_serves_on_a_socket_the_app_bound() -> None:
    sock = socket.create_server(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    server = EchoServer()
    await server.start(sock)
    try:
        assert server.port == port and server.is_serving
        async with connect(f'ws://127.0.0.1:{port}/echo') as ws:
            await ws.send('hi')
            assert await ws.recv() == 'hi'
    finally:
        await server.stop()
    assert not server.is_serving


async def test_stop_closes_every_websocket_with_1001_and_stops_the_feeds() -> None:
    server = EchoServer()
    port = await server.start_on()
    session = server.session('life')
    session.start(20)
    ws = await connect(f'ws://127.0.0.1:{port}/push?session=life')
    await eventually(lambda: len(session.subscribers) == 1)
    await asyncio.wait_for(server.stop(), 5)
    with pytest.raises(ConnectionClosedOK):
        while True:
            await ws.recv()
    assert ws.close_code == 1001
    assert not session.running


async def test_restart_comes_back_on_the_same_port(server: EchoServer) -> None:
    port = server.port
    session = server.session('back')
    session.start(50)
    ws = await connect(f'ws://127.0.0.1:{port}/push?session=back')
    restart = asyncio.create_task(server.restart(0.5))
    with pytest.raises(ConnectionClosedOK):
        while True:
            await ws.recv()
    assert ws.close_code == 1001
    await eventually(lambda: not server.is_serving)
    with pytest.raises(OSError):
        await connect(f'ws://127.0.0.1:{port}/echo')
    await asyncio.wait_for(restart, 5)
    assert server.port == port and server.is_serving
    async with connect(f'ws://127.0.0.1:{port}/push?session=back') as again:
        update = await asyncio.wait_for(again.recv(), 5)
    assert '"type":"update"' in update
    session.stop()


async def test_sessions_are_bounded_and_the_oldest_goes(start_server: StartServer) -> None:
    server = await start_server(max_sessions=3)
    first = server.session('a')
    first.start(1)
    for name in ('b', 'c', 'd'):
        server.session(name)
    assert [s.id for s in server.sessions()] == ['b', 'c', 'd']
    assert not first.running


def test_a_session_id_is_short_and_plain() -> None:
    server = EchoServer(EchoSettings())
    with pytest.raises(ValueError):
        server.session('<script>')
    with pytest.raises(ValueError):
        server.session('')
