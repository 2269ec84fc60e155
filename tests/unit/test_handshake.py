"""The Sec-WebSocket-Accept computation: the RFC's own example, and websockets' own as an oracle.

A real handshake checked on both ends is in tests/server/test_handshake_check.py.
"""

import base64
import random

import pytest
from websockets.utils import accept_key

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


def test_accept_for_agrees_with_websockets() -> None:
    """websockets' own accept_key as the oracle, on random keys (base64 of 16 bytes, as a client sends them)."""
    rng = random.Random(6455)
    for _ in range(200):
        key = base64.b64encode(rng.randbytes(16)).decode()
        assert accept_for(key) == accept_key(key) == check_handshake({'Sec-WebSocket-Key': key}, {}).expected_accept
