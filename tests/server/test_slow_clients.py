"""The page port's header timeout (slowloris) on a real socket: uvicorn with the app's protocol class and a tiny
ASGI app. The timeout's pure parts (the rate-limited warning) are in tests/unit/test_hardening.py."""

from __future__ import annotations

import asyncio
import time

from lesson.web import slow_clients

from ..support.waiting import wait_until_async


async def test_a_client_that_never_finishes_its_headers_is_cut_and_a_quick_one_is_served() -> None:
    """The real protocol class on a real socket, with a tiny ASGI app."""
    import uvicorn

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope['type'] == 'lifespan':
            return
        await send({'type': 'http.response.start', 'status': 200, 'headers': [(b'content-length', b'2')]})
        await send({'type': 'http.response.body', 'body': b'ok'})

    protocol = slow_clients.header_timeout_protocol(0.5)
    config = uvicorn.Config(app, host='127.0.0.1', port=0, http=protocol, lifespan='off', log_level='error')
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_until_async(lambda: server.started, 5, 'uvicorn started')
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        # slowloris: a header line, then silence
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        writer.write(b'GET / HTTP/1.1\r\nHost: x\r\n')
        started = time.monotonic()
        answer = await asyncio.wait_for(reader.read(), timeout=5)
        assert answer.startswith(b'HTTP/1.1 408') and 0.4 < time.monotonic() - started < 2
        # a connection that sends nothing at all is cut too
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        assert (await asyncio.wait_for(reader.read(), timeout=5)).startswith(b'HTTP/1.1 408')
        # a normal request, then another after the connection stood idle longer than the timeout in total: the
        # deadline runs only while a request's headers are awaited (the idle time is the behaviour tested)
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        for _ in range(2):
            writer.write(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
            assert (await asyncio.wait_for(reader.readuntil(b'ok'), timeout=5)).startswith(b'HTTP/1.1 200')
            await asyncio.sleep(0.3)
        writer.close()
    finally:
        server.should_exit = True
        await task
