"""Bad input gets the right answer, and every other client is still served."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.typing import Origin

from demos.server.echo_server import EchoServer, EchoSettings

from .clients import eventually, http_get, raw_websocket
from .clients import still_serves as still_serves_on
from .conftest import APP_ORIGIN, StartServer


def url(server: EchoServer, path: str) -> str:
    return f'ws://127.0.0.1:{server.port}{path}'


async def still_serves(server: EchoServer, origin: str | None = None) -> None:
    await still_serves_on(server.port, origin=origin)


async def test_an_oversized_message_closes_with_1009(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(max_message_bytes=1024)
    async with connect(url(server, '/echo')) as ws:
        await ws.send('x' * 1024)
        assert len(await ws.recv()) == 1024
        await ws.send('x' * 1025)
        with pytest.raises(ConnectionClosedError) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    await still_serves(server)
    await eventually(lambda: any('(1009)' in r.getMessage() for r in caplog.records))


async def test_invalid_utf8_closes_with_1007(server: EchoServer) -> None:
    async with connect(url(server, '/echo')) as ws:
        await ws.send(b'\xff\xfe not utf-8', text=True)
        with pytest.raises(ConnectionClosedError) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    await still_serves(server)


async def test_a_foreign_origin_gets_403_and_the_apps_own_gets_in(server: EchoServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(url(server, '/echo'), origin=Origin('http://evil.example'))
    assert refused.value.response.status_code == 403
    async with connect(url(server, '/echo'), origin=APP_ORIGIN) as ws:
        await ws.send('hi')
        assert await ws.recv() == 'hi'
    await still_serves(server)


async def test_a_missing_origin_can_be_refused_too(start_server: StartServer) -> None:
    server = await start_server(allow_missing_origin=False)
    with pytest.raises(InvalidStatus) as refused:
        await connect(url(server, '/echo'))
    assert refused.value.response.status_code == 403
    await still_serves(server, origin=APP_ORIGIN)


async def test_the_apps_page_at_the_address_the_client_used_gets_in() -> None:
    """A class on --host 0.0.0.0: the page came from http://127.0.0.2:8080, the echo server is 127.0.0.2 too."""
    server = EchoServer(EchoSettings(allowed_origins=(APP_ORIGIN,), app_scheme='http', app_port=8080))
    # 127.0.0.2 is this machine as well (all of 127/8 is loopback): an address the app could not have listed.
    port = await server.start_on('0.0.0.0', 0)
    try:
        async with connect(f'ws://127.0.0.2:{port}/echo', origin=Origin('http://127.0.0.2:8080')) as ws:
            await ws.send('hi')
            assert await ws.recv() == 'hi'
        for foreign in ('http://127.0.0.2:8081', 'https://127.0.0.2:8080', 'http://127.0.0.3:8080'):
            with pytest.raises(InvalidStatus) as refused:
                await connect(f'ws://127.0.0.2:{port}/echo', origin=Origin(foreign))
            assert refused.value.response.status_code == 403, foreign
            polled = await http_get(port, '/poll', [('Origin', foreign)], host='127.0.0.2')
            assert polled.status == 403 and 'access-control-allow-origin' not in polled.headers
        # The polling endpoint's CORS follows the same rule: the allowed origin is echoed back.
        polled = await http_get(port, '/poll', [('Origin', 'http://127.0.0.2:8080')], host='127.0.0.2')
        assert polled.status == 200
        assert polled.headers['access-control-allow-origin'] == 'http://127.0.0.2:8080'
        assert polled.headers['vary'] == 'Origin'
        await still_serves_on(port, origin=APP_ORIGIN)
    finally:
        await server.stop()


async def test_too_many_messages_close_with_1008_and_a_reason(start_server: StartServer) -> None:
    server = await start_server(messages_per_s=5, message_burst=5)
    async with connect(url(server, '/echo')) as ws:
        with pytest.raises(ConnectionClosedError) as closed:
            for _ in range(20):
                await ws.send('spam')
                await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert 'too many messages' in closed.value.rcvd.reason
    await still_serves(server)


async def test_connections_beyond_the_cap_get_503(start_server: StartServer) -> None:
    server = await start_server(max_connections=3)
    clients = [await connect(url(server, '/push')) for _ in range(3)]
    with pytest.raises(InvalidStatus) as refused:
        await connect(url(server, '/echo'))
    assert refused.value.response.status_code == 503
    await clients.pop().close()
    await eventually(lambda: server.open_connections < 3)
    await still_serves(server)
    for ws in clients:
        await ws.close()


async def test_a_bad_message_on_push_closes_with_1008(server: EchoServer) -> None:
    async with connect(url(server, '/push')) as ws:
        await ws.send('{"type": "subscribe"}')
        with pytest.raises(ConnectionClosedError) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    await still_serves(server)


async def test_a_stalled_reader_is_dropped_and_delays_nobody(start_server: StartServer) -> None:
    server = await start_server(push_backlog_limit_bytes=16 * 1024)
    session = server.session('stall')
    stalled = await raw_websocket(server.port, '/push?session=stall', receive_buffer=2048)
    async with connect(url(server, '/push?session=stall')) as healthy:
        await eventually(lambda: len(session.subscribers) == 2)
        seqs: list[int] = []

        async def read() -> None:
            async for message in healthy:
                seqs.append(json.loads(message)['seq'])

        reader = asyncio.create_task(read())
        # Far more than the kernel's socket buffers hold (a few MB on loopback), fast; publishing never
        # waits for a subscriber, so the healthy one reads at its own pace throughout.
        published = 0
        while session.lanes['push'].dropped_slow == 0 and published < 200_000:
            session.publish(session.feed.make_update())
            published += 1
            if published % 10 == 0:
                await asyncio.sleep(0)
        for _ in range(50):
            session.publish(session.feed.make_update())
            published += 1
        await eventually(lambda: len(seqs) == published)
        reader.cancel()
    stalled.close()
    assert session.lanes['push'].dropped_slow == 1
    assert seqs == list(range(1, published + 1))


async def test_keepalive_closes_a_peer_that_never_answers_pings(start_server: StartServer) -> None:
    server = await start_server(ping_interval_s=0.2, ping_timeout_s=0.2, close_timeout_s=0.3)
    session = server.session('dead')
    # A raw socket does not answer pings: the server must give up on it by itself.
    dead = await raw_websocket(server.port, '/push?session=dead')
    await eventually(lambda: len(session.subscribers) == 1)
    await eventually(lambda: len(session.subscribers) == 0, timeout=5)
    dead.close()
    await still_serves(server)
