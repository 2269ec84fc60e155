"""Demo session ids the app issues and the echo server checks: a random part and its HMAC, so only the app mints them.

Any web page can make a learner's browser request ``/poll?session=…`` (an image or a ``no-cors`` fetch carries no
``Origin``, so the origin rule never runs). If every unknown id created a session, a page could create enough to
push real learners' sessions out. With signed ids the echo server creates a session only for an id the app issued
for a page, and answers any other id 404 without creating anything. The app and the echo server share the key;
the check is pure and needs no round trip between the two processes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

#: Bytes of randomness in an id (before base64): unguessable, and ids of two pages never collide.
NONCE_BYTES = 12
#: Bytes of the HMAC-SHA256 kept in an id: 128 bits, far beyond any online guessing.
SIGNATURE_BYTES = 16
#: Bytes of a fresh key.
KEY_BYTES = 32


def new_key() -> bytes:
    """A fresh random key; the app makes one per start and hands it to the echo server."""
    return secrets.token_bytes(KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _signature(key: bytes, nonce: str) -> str:
    return _b64(hmac.new(key, nonce.encode('ascii'), hashlib.sha256).digest()[:SIGNATURE_BYTES])


def issue(key: bytes) -> str:
    """A new session id, ``NONCE.SIGNATURE`` (39 characters of ``[A-Za-z0-9_.-]``)."""
    nonce = _b64(secrets.token_bytes(NONCE_BYTES))
    return f'{nonce}.{_signature(key, nonce)}'


def is_genuine(key: bytes, session_id: str) -> bool:
    """Whether ``session_id`` was issued with ``key`` (compared in constant time)."""
    nonce, dot, signature = session_id.partition('.')
    if not dot or not nonce or not nonce.isascii():
        return False
    return hmac.compare_digest(signature.encode('ascii', 'replace'), _signature(key, nonce).encode('ascii'))
