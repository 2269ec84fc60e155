"""wss:// and https:// on the echo server, with a throwaway certificate authority."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import pytest
import trustme
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK, InvalidMessage
from websockets.typing import Origin

from demos.server.echo_server import EchoServer, EchoSettings

from .clients import CountingClientConnection, eventually, http_get, still_serves
from .conftest import APP_ORIGIN

APP_TLS_ORIGIN = Origin('https://127.0.0.1:8080')


@pytest.fixture(scope='module')
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    authority.configure_trust(context)
    return context


@pytest.fixture
async def tls_server(authority: trustme.CA) -> AsyncIterator[EchoServer]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert('127.0.0.1', 'localhost').configure_cert(server_context)
    server = EchoServer(EchoSettings(allowed_origins=(APP_TLS_ORIGIN,), app_scheme='https', app_port=8080))
    await server.start_on('127.0.0.1', 0, ssl_context=server_context)
    yield server
    await server.stop()


async def test_wss_echoes_and_https_polls(tls_server: EchoServer, client_context: ssl.SSLContext) -> None:
    assert tls_server.uses_tls
    async with connect(
        f'wss://127.0.0.1:{tls_server.port}/echo?session=t1', ssl=client_context, origin=APP_TLS_ORIGIN
    ) as ws:  # type: ignore[arg-type]
        await ws.send('secret')
        assert await ws.recv() == 'secret'
    polled = await http_get(
        tls_server.port, '/poll?session=t1', [('Origin', APP_TLS_ORIGIN)], ssl_context=client_context
    )
    assert polled.status == 200 and polled.headers['access-control-allow-origin'] == APP_TLS_ORIGIN
    # The plain-http page of the same app is another origin now.
    refused = await http_get(tls_server.port, '/poll', [('Origin', APP_ORIGIN)], ssl_context=client_context)
    assert refused.status == 403


async def test_a_plain_ws_client_gets_no_answer(tls_server: EchoServer, client_context: ssl.SSLContext) -> None:
    # The server expects a TLS ClientHello, gets "GET /echo ...", and hangs up.
    with pytest.raises(InvalidMessage):
        await connect(f'ws://127.0.0.1:{tls_server.port}/echo', open_timeout=3)
    await still_serves(tls_server.port, scheme='wss', ssl_context=client_context)


async def test_bytes_are_counted_inside_tls(tls_server: EchoServer, client_context: ssl.SSLContext) -> None:
    """The counters see what websockets wrote and read: TLS records' overhead is not included."""
    session = tls_server.session('t2')
    async with connect(
        f'wss://127.0.0.1:{tls_server.port}/echo?session=t2',
        ssl=client_context,
        create_connection=CountingClientConnection,
    ) as ws:
        await ws.send('x' * 100)
        await ws.recv()
        client = ws
    assert isinstance(client, CountingClientConnection)
    echo = session.lanes['echo']
    await eventually(lambda: (echo.bytes_in, echo.bytes_out) == (client.bytes_sent, client.bytes_received))


async def test_restart_keeps_tls(tls_server: EchoServer, client_context: ssl.SSLContext) -> None:
    ws = await connect(f'wss://127.0.0.1:{tls_server.port}/push?session=t3', ssl=client_context)
    restart = asyncio.create_task(tls_server.restart(0.2))
    with pytest.raises(ConnectionClosedOK):
        while True:
            await ws.recv()
    assert ws.close_code == 1001
    await asyncio.wait_for(restart, 5)
    assert tls_server.is_serving and tls_server.uses_tls
    await still_serves(tls_server.port, scheme='wss', ssl_context=client_context)
