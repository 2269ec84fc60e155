from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from websockets.typing import Origin

from demos.server.echo_server import EchoServer, EchoSettings

APP_ORIGIN = Origin('http://127.0.0.1:8080')

StartServer = Callable[..., Awaitable[EchoServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """Start an echo server on 127.0.0.1, port 0, with the given settings; all are stopped afterwards."""
    servers: list[EchoServer] = []

    async def start(**settings: object) -> EchoServer:
        settings.setdefault('allowed_origins', (APP_ORIGIN,))
        server = EchoServer(EchoSettings(**settings))  # type: ignore[arg-type]
        await server.start_on('127.0.0.1', 0)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def server(start_server: StartServer) -> EchoServer:
    return await start_server()


@pytest.fixture(autouse=True)
def no_error_logs(caplog: pytest.LogCaptureFixture) -> object:
    """Client misbehaviour is a WARNING at most: an ERROR means the server itself failed."""
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
