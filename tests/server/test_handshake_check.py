"""The handshake check on a real handshake: the websockets library's client and server, both ends checked."""

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from demos.protocol.handshake import accept_for, check_handshake


async def test_a_live_handshake_checks_out_on_both_ends() -> None:
    server_sides: list[ServerConnection] = []

    async def handler(connection: ServerConnection) -> None:
        server_sides.append(connection)
        await connection.wait_closed()

    async with serve(handler, '127.0.0.1', 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f'ws://127.0.0.1:{port}') as client:
            assert client.request is not None and client.response is not None
            check = check_handshake(client.request.headers, client.response.headers)
    assert check.matches and check.server_accept == accept_for(check.key)

    [server_side] = server_sides
    assert server_side.request is not None and server_side.response is not None
    assert check_handshake(server_side.request.headers, server_side.response.headers) == check
