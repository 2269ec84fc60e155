"""The break-it controls: clean closes with a chosen code, a dropped connection, a server ping, a paused reader,
compression chosen per connection."""

from __future__ import annotations

import array
import asyncio
import fcntl
import json
import socket
import termios

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from demos.server.echo_server import EchoServer
from demos.server.frame_log import CLIENT_TO_SERVER, SERVER_TO_CLIENT

from .clients import CountingClientConnection, eventually, http_get


def unread_bytes(sock: socket.socket) -> int:
    """Bytes the kernel received on ``sock`` that the program has not read yet (FIONREAD)."""
    count = array.array('i', [0])
    fcntl.ioctl(sock.fileno(), termios.FIONREAD, count)
    return count[0]


@pytest.mark.parametrize('code', [1000, 1001, 1008, 1011])
async def test_a_clean_close_with_the_code_the_learner_picks(server: EchoServer, code: int) -> None:
    session = server.session(f'b{code}')
    session.watch_frames()
    async with connect(f'ws://127.0.0.1:{server.port}/echo?session=b{code}') as ws:
        await eventually(lambda: len(session.echo.open_connections()) == 1)
        assert await session.close_echo(code, 'teacher says so') == 1
        await ws.wait_closed()
    assert (ws.close_code, ws.close_reason) == (code, 'teacher says so')
    assert ws.protocol.close_rcvd is not None  # a close frame arrived: the close is clean
    closes = [(e['direction'], e['close_code']) for e in session.frame_log.entries() if e['opcode_name'] == 'close']
    assert closes == [(SERVER_TO_CLIENT, code), (CLIENT_TO_SERVER, code)]
    assert session.echo.open_connections() == []


async def test_close_codes_outside_the_menu_are_refused(server: EchoServer) -> None:
    session = server.session('b2')
    session.watch_frames()
    with pytest.raises(ValueError):
        await session.close_echo(1006)
    with pytest.raises(ValueError):
        await session.close_echo(1000, 'x' * 124)
    assert await session.close_echo(1000) == 0  # no echo connection: nothing to close


async def test_a_drop_ends_the_connection_without_a_close_frame(server: EchoServer) -> None:
    session = server.session('b3')
    session.watch_frames()
    async with connect(f'ws://127.0.0.1:{server.port}/echo?session=b3') as ws:
        await ws.send('hello')
        await ws.recv()
        assert await session.drop_echo() == 1
        with pytest.raises(ConnectionClosedError):
            await ws.recv()
    assert ws.close_code == 1006  # what a browser reports, with wasClean false: no close frame came
    assert ws.protocol.close_rcvd is None
    assert not any(e['opcode_name'] == 'close' for e in session.frame_log.entries())
    await eventually(lambda: server.open_connections == 0)


async def test_the_reader_pauses_the_client_buffers_and_everything_arrives_after(server: EchoServer) -> None:
    session = server.session('b4')
    session.watch_frames()
    client_socket = socket.socket()
    # A small fixed send buffer (no autotuning), so what the kernels cannot hold waits in the client's buffer.
    client_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
    client_socket.setblocking(False)
    await asyncio.get_running_loop().sock_connect(client_socket, ('127.0.0.1', server.port))
    burst = [bytes([index]) * 60_000 for index in range(40)]  # 2.4 MB, under the 100-message burst limit
    async with connect(
        f'ws://127.0.0.1:{server.port}/echo?session=b4', sock=client_socket, compression=None, write_limit=2**24
    ) as ws:
        await eventually(lambda: len(session.echo.open_connections()) == 1)
        pause = asyncio.create_task(session.pause_echo_reading(1.0))
        await eventually(lambda: session.snapshot()['echo_connections'][0]['reading_held'] is True)
        bytes_in = session.lanes['echo'].bytes_in
        for message in burst:
            await ws.send(message)  # returns at once: write_limit is far above the burst
        peak = ws.transport.get_write_buffer_size()
        # The burst reached the server's kernel, and the server still read none of it: the pause held.
        server_socket = session.echo.open_connections()[0].transport.get_extra_info('socket')
        await eventually(lambda: unread_bytes(server_socket) > 0)
        assert not pause.done()
        assert session.lanes['echo'].bytes_in == bytes_in and session.lanes['echo'].messages_in == 0
        assert peak > 1_000_000  # the browser's bufferedAmount, as it were
        assert await pause == 1
        echoed = [await ws.recv() for _ in burst]
        assert echoed == burst
        assert ws.transport.get_write_buffer_size() == 0
    with pytest.raises(ValueError):
        await session.pause_echo_reading(60)


async def test_compression_is_chosen_per_connection(server: EchoServer) -> None:
    session = server.session('b5')
    session.watch_frames()
    messages = [json.dumps({'type': 'note', 'text': 'the same words again and again ' * 8, 'n': n}) for n in range(10)]
    wire = {}
    for deflate in ('1', '0'):
        async with connect(
            f'ws://127.0.0.1:{server.port}/echo?session=b5&deflate={deflate}',
            create_connection=CountingClientConnection,
        ) as ws:
            assert isinstance(ws, CountingClientConnection)
            for message in messages:
                await ws.send(message)
                assert await ws.recv() == message
            described = session.snapshot()['echo_connections'][-1]
            wire[deflate] = ws.bytes_received, described['permessage_deflate']
    assert wire['1'][1] is True and wire['0'][1] is False
    assert wire['1'][0] < wire['0'][0] / 2  # the same messages, far fewer bytes on the wire
    compressed = [e for e in session.frame_log.entries() if e['connection'] == 1 and e['opcode_name'] == 'text']
    plain = [e for e in session.frame_log.entries() if e['connection'] == 2 and e['opcode_name'] == 'text']
    assert all(e['rsv1'] for e in compressed) and not any(e['rsv1'] for e in plain)

    # The session's own setting, for a page that does not put it in the URL.
    session.echo.deflate = True
    async with connect(f'ws://127.0.0.1:{server.port}/echo?session=b5') as ws:
        assert ws.protocol.extensions and session.snapshot()['echo_connections'][-1]['permessage_deflate']
    assert session.snapshot()['echo_deflate'] is True

    refused = await http_get(server.port, '/echo?session=b5&deflate=maybe')
    assert refused.status == 400 and b'deflate' in refused.body
