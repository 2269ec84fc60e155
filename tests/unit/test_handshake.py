"""The Sec-WebSocket-Accept computation: the RFC's own example, then a real handshake with the websockets library."""

import base64

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from demos.protocol.handshake import GUID, HandshakeError, accept_for, check_handshake

RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ=='  # RFC 6455 section 1.3
RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='


def test_accept_for_the_rfc_example() -> None:
    assert accept_for(RFC_KEY) == RFC_ACCEPT


def test_check_shows_every_step_of_the_rfc_example() -> None:
    check = check_handshake({'Sec-WebSocket-Key': RFC_KEY}, {'Sec-WebSocket-Accept': RFC_ACCEPT})
    assert check.key == RFC_KEY
    assert check.key_with_guid == 'dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
    # The RFC prints this digest byte by byte: 0xb3 0x7a 0x4f 0x2c ...
    assert check.sha1_hex == 'b37a4f2cc0624f1690f64606cf385945b2bec4ea'
    assert base64.b64encode(bytes.fromhex(check.sha1_hex)).decode() == check.expected_accept == RFC_ACCEPT
    assert check.server_accept == RFC_ACCEPT and check.matches


def test_header_names_are_case_insensitive_and_lists_of_pairs_work() -> None:
    request = [('Host', 'example.com'), ('sec-websocket-key', f' {RFC_KEY} ')]
    check = check_handshake(request, [('SEC-WEBSOCKET-ACCEPT', RFC_ACCEPT)])
    assert check.key == RFC_KEY and check.matches


def test_a_wrong_or_missing_answer_does_not_match() -> None:
    wrong = check_handshake({'Sec-WebSocket-Key': RFC_KEY}, {'Sec-WebSocket-Accept': accept_for('x' * 24)})
    assert not wrong.matches and wrong.expected_accept == RFC_ACCEPT
    refused = check_handshake({'Sec-WebSocket-Key': RFC_KEY}, {'Content-Type': 'text/plain'})
    assert refused.server_accept is None and not refused.matches


@pytest.mark.parametrize(
    ('request_headers', 'message'),
    [
        ({'Host': 'example.com'}, 'one Sec-WebSocket-Key header, found 0'),
        ([('Sec-WebSocket-Key', RFC_KEY), ('Sec-WebSocket-Key', RFC_KEY)], 'found 2'),
        ({'Sec-WebSocket-Key': 'not base64!'}, 'is not base64'),
        ({'Sec-WebSocket-Key': base64.b64encode(bytes(15)).decode()}, 'decodes to 15 bytes, not 16'),
    ],
)
def test_a_bad_key_is_a_clear_error(request_headers: dict[str, str] | list[tuple[str, str]], message: str) -> None:
    with pytest.raises(HandshakeError, match=message):
        check_handshake(request_headers, {'Sec-WebSocket-Accept': RFC_ACCEPT})


def test_the_guid_is_rfc_6455s() -> None:
    assert GUID == '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'


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
