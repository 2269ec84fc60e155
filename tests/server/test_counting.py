"""The server's byte counts are what the client's socket saw, headers and framing included."""

from __future__ import annotations

from websockets.asyncio.client import connect

from demos.server.echo_server import EchoServer

from .clients import CountingClientConnection, eventually, http_get


async def test_poll_bytes_are_the_bytes_on_the_clients_socket(server: EchoServer) -> None:
    session = server.session('c1')
    session.publish(session.feed.make_update())
    exchanges = [await http_get(server.port, f'/poll?session=c1&after={after}') for after in (0, 1, 1)]
    poll = session.lanes['poll']
    await eventually(lambda: poll.bytes_out == sum(e.bytes_received for e in exchanges))
    assert poll.bytes_in == sum(e.bytes_sent for e in exchanges)
    # Every poll is a connection of its own: the server closes it after answering.
    assert poll.tcp_connections == 3 and all(e.headers['connection'] == 'close' for e in exchanges)
    assert poll.empty_polls == 2


async def test_websocket_bytes_are_the_bytes_on_the_clients_socket(server: EchoServer) -> None:
    async with connect(
        f'ws://127.0.0.1:{server.port}/echo?session=c2', compression=None, create_connection=CountingClientConnection
    ) as ws:
        for size in (1, 125, 126, 70_000 // 2):
            await ws.send('x' * size)
            await ws.recv()
    assert isinstance(ws, CountingClientConnection)
    echo = server.session('c2').lanes['echo']
    await eventually(lambda: echo.bytes_in == ws.bytes_sent and echo.bytes_out == ws.bytes_received)
    assert echo.tcp_connections == 1


async def test_push_bytes_per_update_are_payload_plus_two_bytes_of_framing(server: EchoServer) -> None:
    session = server.session('c3')
    async with connect(
        f'ws://127.0.0.1:{server.port}/push?session=c3', compression=None, create_connection=CountingClientConnection
    ) as ws:
        await eventually(lambda: len(session.subscribers) == 1)
        assert isinstance(ws, CountingClientConnection)
        before = ws.bytes_received
        payloads: list[str] = []
        for _ in range(20):
            session.publish(session.feed.make_update())
            payloads.append(await ws.recv(decode=True))  # the updates are text frames
        framed = ws.bytes_received - before
    # Server-to-client frames are unmasked: 2 bytes of header below 126 bytes of payload.
    assert framed == sum(len(p.encode()) + 2 for p in payloads)


async def test_the_echo_handshake_is_kept_as_the_server_saw_it(server: EchoServer) -> None:
    async with connect(
        f'ws://127.0.0.1:{server.port}/echo?session=c4', additional_headers={'Cookie': 'secret=1'}
    ) as ws:
        await ws.send('hi')
        await ws.recv()
    handshake = server.session('c4').snapshot()['last_handshake']
    assert handshake['request_line'] == 'GET /echo?session=c4 HTTP/1.1'
    request = dict(handshake['request_headers'])
    assert request['Upgrade'] == 'websocket' and request['Sec-WebSocket-Version'] == '13'
    assert len(request['Sec-WebSocket-Key']) == 24 and request['Cookie'] == '(hidden)'
    assert handshake['status_line'] == 'HTTP/1.1 101 Switching Protocols'
    response = dict(handshake['response_headers'])
    assert response['Connection'] == 'Upgrade' and 'Sec-WebSocket-Accept' in response
    # Compression is not offered by default, so the browser's offer is declined.
    assert 'Sec-WebSocket-Extensions' in request and 'Sec-WebSocket-Extensions' not in response
    assert server.permessage_deflate is False


async def test_snapshot_is_plain_data(server: EchoServer) -> None:
    session = server.session('c5')
    session.start(5)
    snapshot = session.snapshot()
    session.stop()
    assert snapshot['running'] is True and snapshot['rate_per_s'] == 5
    assert set(snapshot['lanes']) == {'poll', 'push', 'echo', 'longpoll', 'sse'}
    assert set(snapshot['lanes']['poll']) >= {
        'tcp_connections',
        'bytes_in',
        'bytes_out',
        'messages_in',
        'messages_out',
        'updates_out',
        'empty_polls',
        'dropped_slow',
    }
    session.reset()
    assert session.snapshot()['latest_seq'] == 0
