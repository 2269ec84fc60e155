"""The seams demos/server/websockets_internals.py takes inside websockets, checked on the installed version.

Each test names the seam it checks; on a websockets release that moves one, it fails with a message saying which
seam and where to mend it, rather than the echo server miscounting or hanging in a learner's class.
"""

from __future__ import annotations

import asyncio
import http
import inspect
import tomllib
from pathlib import Path

import pytest
import websockets
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from websockets.asyncio.client import connect
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import OPEN, Protocol, Side
from websockets.server import ServerProtocol

from demos.server import websockets_internals
from demos.server.websockets_internals import SUPPORTED_VERSIONS, AdaptedConnection, head_error_answer

ADAPTER = 'demos/server/websockets_internals.py'
ROOT = Path(__file__).resolve().parents[2]


def moved(seam: str) -> str:
    return (
        f'websockets {websockets.version.version} changed {seam}, which {ADAPTER} relies on (written for '
        f'websockets{SUPPORTED_VERSIONS}): mend the adapter for the new release, then widen SUPPORTED_VERSIONS '
        'and the pin in pyproject.toml'
    )


def test_the_installed_websockets_is_the_supported_one_and_pyproject_pins_the_same_range() -> None:
    installed = Version(websockets.version.version)
    assert installed in SpecifierSet(SUPPORTED_VERSIONS), moved('its version')
    dependencies = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']['dependencies']
    pins = [d.removeprefix('websockets') for d in dependencies if d.startswith('websockets')]
    assert pins == [SUPPORTED_VERSIONS], (
        f'pyproject.toml pins websockets{pins}, the adapter supports {SUPPORTED_VERSIONS}'
    )


def test_protocol_frame_methods_are_swappable_per_instance() -> None:
    protocol = ServerProtocol()
    for name in ('recv_frame', 'send_frame'):
        method = getattr(Protocol, name, None)
        assert callable(method), moved(f'Protocol.{name}')
        assert list(inspect.signature(method).parameters) == ['self', 'frame'], moved(f'Protocol.{name} signature')
        assert name not in vars(protocol), moved(f'Protocol.{name} (now set per instance)')
    assert isinstance(protocol.writes, list), moved('Protocol.writes (a list of bytes to send)')
    assert protocol.extensions == [], moved('Protocol.extensions')


def test_the_library_still_calls_the_swapped_frame_methods() -> None:
    # A ping through receive_data must pass through recv_frame, and the pong out through send_frame.
    protocol = Protocol(Side.SERVER, state=OPEN)
    seen: list[str] = []
    recv, send = protocol.recv_frame, protocol.send_frame

    def recv_frame(frame: Frame) -> None:
        seen.append(f'recv {frame.opcode.name}')
        recv(frame)

    def send_frame(frame: Frame) -> None:
        seen.append(f'send {frame.opcode.name}')
        send(frame)

    protocol.recv_frame = recv_frame  # type: ignore[method-assign]
    protocol.send_frame = send_frame  # type: ignore[method-assign]
    protocol.receive_data(Frame(Opcode.PING, b'hi').serialize(mask=True, extensions=[]))
    assert seen == ['recv PING', 'send PONG'], moved('the path of a frame through recv_frame and send_frame')
    assert b''.join(protocol.data_to_send()).endswith(b'hi'), moved('Protocol.writes (what data_to_send returns)')


def test_server_protocol_attributes_the_adapter_reads_and_sets() -> None:
    protocol = ServerProtocol()
    assert protocol.accept_called is False, moved('ServerProtocol.accept_called')
    assert hasattr(protocol, 'available_extensions'), moved('ServerProtocol.available_extensions')
    assert protocol.handshake_exc is None, moved('Protocol.handshake_exc')


@pytest.mark.parametrize(
    ('head', 'status', 'reason_part'),
    [
        (b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', http.HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, 'HTTP/1.1'),
        (b'GET / HTTP/1.1\nHost: x\n\n', http.HTTPStatus.BAD_REQUEST, 'CRLF'),
        (b'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc', http.HTTPStatus.BAD_REQUEST, 'Content-Length'),
        (
            b'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
            http.HTTPStatus.BAD_REQUEST,
            'Transfer-Encoding',
        ),
        (b'GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n', http.HTTPStatus.BAD_REQUEST, 'not ASCII'),
        (b'GET /' + b'a' * 9000 + b' HTTP/1.1\r\n\r\n', http.HTTPStatus.REQUEST_URI_TOO_LONG, 'too long'),
    ],
)
def test_parse_errors_still_read_as_the_adapter_expects(head: bytes, status: http.HTTPStatus, reason_part: str) -> None:
    protocol = ServerProtocol()
    protocol.receive_data(head)
    error = protocol.handshake_exc
    assert error is not None, moved(f'Protocol.handshake_exc after a bad request head {head[:40]!r}')
    answer = head_error_answer(error)
    assert answer[0] == status and reason_part in answer[1], moved(f'the wording of its parse errors ({error!r})')


def test_server_connection_seams_exist() -> None:
    for name in ('process_event', 'send_data', 'connection_lost', 'data_received', 'eof_received'):
        assert callable(getattr(ServerConnection, name, None)), moved(f'ServerConnection.{name}')
    source = inspect.getsource(Connection)
    assert 'connection_lost_waiter' in source, moved('Connection.connection_lost_waiter')


async def test_every_seam_works_on_a_live_connection() -> None:
    """An adapted server: a ping refused by the hook closes with 1008; a large echo goes out by the no-copy path;
    a refused head is closed; websockets' own decision shows as answered_by_websockets."""
    refused: list[str] = []
    arrived: list[bool] = []

    class Probe(AdaptedConnection):
        def control_frame_refusal(self) -> str | None:
            return 'no pings here'

        def request_arrived(self) -> None:
            arrived.append(True)

        def request_unparsable(self, error: BaseException, answered_by_websockets: bool) -> None:
            refused.append(type(error).__name__)

    async def echo(connection: ServerConnection) -> None:
        async for message in connection:
            await connection.send(message)

    async with serve(echo, '127.0.0.1', 0, create_connection=Probe, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        big = b'x' * (websockets_internals.ZERO_COPY_FROM_BYTES * 4)
        async with connect(f'ws://127.0.0.1:{port}/', compression=None) as client:
            await client.send(big)
            assert await asyncio.wait_for(client.recv(), 5) == big, moved('the no-copy send path (Protocol.writes)')
            await client.ping()
            await asyncio.wait_for(client.wait_closed(), 5)
            assert client.close_code == 1008 and client.close_reason == 'no pings here', moved('recv_frame for pings')
        assert arrived == [True], moved('ServerConnection.process_event (the request arriving)')
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        writer.write(b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
        assert await asyncio.wait_for(reader.read(), 5) == b'', moved('send_data after an unparsable head (closed)')
        writer.close()
        assert refused == ['InvalidMessage'], moved('send_data and Protocol.handshake_exc')


async def test_hand_over_gives_the_socket_to_another_protocol() -> None:
    """hand_over: websockets lets go (its handshake ends, nothing more is written), the new protocol gets the socket."""
    handed: list[AdaptedConnection] = []
    got: asyncio.Queue[bytes] = asyncio.Queue()

    class Taker(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport
            transport.write(b'HTTP/1.1 200 OK\r\n\r\nmine\n')  # type: ignore[attr-defined]

        def data_received(self, data: bytes) -> None:
            got.put_nowait(data)
            self.transport.close()

    def process_request(connection: ServerConnection, request: Request) -> Response:
        assert isinstance(connection, AdaptedConnection)
        connection.hand_over(Taker())
        handed.append(connection)
        return connection.respond(http.HTTPStatus.OK, 'ignored')

    async def handler(connection: ServerConnection) -> None:
        raise AssertionError('a handed-over connection reaches no handler')

    async with serve(
        handler, '127.0.0.1', 0, create_connection=AdaptedConnection, process_request=process_request
    ) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        writer.write(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        assert await asyncio.wait_for(reader.readuntil(b'mine\n'), 5) == b'HTTP/1.1 200 OK\r\n\r\nmine\n'
        writer.write(b'still here')
        assert await asyncio.wait_for(got.get(), 5) == b'still here', moved('connection_lost (hand_over)')
        # The new protocol closed the socket: websockets wrote nothing after the head, not even its own answer.
        assert await asyncio.wait_for(reader.read(), 5) == b'', moved('the muted transport (hand_over)')
        assert handed[0].gone.done() and handed[0].handed_over, moved('connection_lost_waiter after hand_over')
        writer.close()
