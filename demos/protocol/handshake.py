"""The opening handshake's proof, computed step by step: why ``Sec-WebSocket-Accept`` is what it is.

RFC 6455 section 4.2.2: the server appends a fixed GUID to the client's ``Sec-WebSocket-Key``, hashes the text with
SHA-1 and answers with the base64 of the digest. A client that sees the right answer knows it is talking to a server
that understood the WebSocket upgrade, not to a plain HTTP server or a cache replaying an old response.

Pure: headers in, :class:`HandshakeCheck` out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from websockets.datastructures import Headers

GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

# RFC 6455 section 4.1: the key is a random 16-byte value, base64-encoded.
KEY_SIZE = 16

HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]


class HandshakeError(ValueError):
    """The request's ``Sec-WebSocket-Key`` is missing, repeated, or not base64 of 16 bytes."""


@dataclass(frozen=True)
class HandshakeCheck:
    """Each step from the client's key to the server's answer, as a learner follows it.

    Attributes:
        key: ``Sec-WebSocket-Key`` from the request.
        key_with_guid: The key with :data:`GUID` appended: the text that gets hashed.
        sha1_hex: SHA-1 of that text, as 40 hex digits.
        expected_accept: The digest in base64: what the server must answer.
        server_accept: ``Sec-WebSocket-Accept`` from the response, or ``None`` if it has none (e.g. the server
            refused the upgrade).
    """

    key: str
    key_with_guid: str
    sha1_hex: str
    expected_accept: str
    server_accept: str | None

    @property
    def matches(self) -> bool:
        """Whether the server answered what the key requires."""
        return self.server_accept == self.expected_accept


def accept_for(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value that answers ``key``: base64(SHA-1(key + GUID)).

    The server never decodes the key; it hashes the text exactly as received.
    """
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def check_handshake(request_headers: HeadersLike, response_headers: HeadersLike) -> HandshakeCheck:
    """Recompute the server's answer from the request and compare it with the response.

    Headers may be a mapping (such as ``websockets``' ``Headers``) or a list of ``(name, value)`` pairs; names are
    matched case-insensitively.

    Raises:
        HandshakeError: If the request has no single ``Sec-WebSocket-Key`` that is base64 of 16 bytes.
    """
    keys = _values(request_headers, 'Sec-WebSocket-Key')
    if len(keys) != 1:
        raise HandshakeError(f'the request must carry one Sec-WebSocket-Key header, found {len(keys)}')
    key = keys[0]
    try:
        raw_key = base64.b64decode(key, validate=True)
    except binascii.Error as error:
        raise HandshakeError(f'Sec-WebSocket-Key {key!r} is not base64') from error
    if len(raw_key) != KEY_SIZE:
        raise HandshakeError(f'Sec-WebSocket-Key {key!r} decodes to {len(raw_key)} bytes, not {KEY_SIZE}')

    key_with_guid = key + GUID
    accepts = _values(response_headers, 'Sec-WebSocket-Accept')
    return HandshakeCheck(
        key=key,
        key_with_guid=key_with_guid,
        sha1_hex=hashlib.sha1(key_with_guid.encode()).hexdigest(),
        expected_accept=accept_for(key),
        # Several answers can't all be right; keep them joined so the mismatch shows what was sent.
        server_accept=', '.join(accepts) if accepts else None,
    )


def _values(headers: HeadersLike, name: str) -> list[str]:
    """Every value of header ``name``, whitespace trimmed as HTTP does."""
    if isinstance(headers, Headers):
        # Headers' item view raises on any repeated name (Set-Cookie, say); raw_items lists every line.
        pairs: Iterable[tuple[str, str]] = headers.raw_items()
    elif isinstance(headers, Mapping):
        pairs = headers.items()
    else:
        pairs = headers
    wanted = name.lower()
    return [value.strip() for key, value in pairs if key.lower() == wanted]
