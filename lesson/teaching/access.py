"""The teacher's secret and the app's control channel to the echo process.

The token guards the class's results and the shared moments; it is made once per data directory (``teacher_token``,
0600), or given with ``--teacher-token``, and replaced with ``--rotate-teacher-token``. It appears in the start-up
block only: the first visit with it is answered with a signed teacher cookie and a redirect to the same page without
it (as Jupyter does with its start-up token), so no address bar, projector or link carries it afterwards. Nothing
here logs it, and the page server's access log (uvicorn's, at INFO) is off at NiceGUI's default level.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import ssl
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from demos.server.control import CONTROL_HEADER, control_header

TOKEN_FILE = 'teacher_token'
TOKEN_BYTES = 24  # 32 characters of base64
#: The cookie the token is exchanged for at the teacher's first visit (HttpOnly, SameSite=Strict: see the guard).
COOKIE_NAME = 'lesson_teacher'
#: Seconds a teacher cookie is good for: a teaching day; then the start-up address is opened again.
COOKIE_MAX_AGE_S = 12 * 3600


def load_or_create_teacher_token(data_dir: Path) -> str:
    """The kept token, or a new one written 0600 whole (temporary file, fsync, rename) when there is none usable."""
    path = data_dir / TOKEN_FILE
    try:
        kept = path.read_text(encoding='ascii').strip()
    except (OSError, UnicodeDecodeError):
        kept = ''
    if len(kept) >= 16 and kept.replace('-', '').replace('_', '').isalnum():
        return kept
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    temporary = path.with_name(f'.{TOKEN_FILE}.{os.getpid()}.tmp')
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, 'w', encoding='ascii') as file:
        file.write(token)
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)
    return token


def teacher_token(configured: str | None, data_dir: Path) -> str:
    return configured or load_or_create_teacher_token(data_dir)


def rotate_teacher_token(data_dir: Path) -> str:
    """A new kept token in place of the old one: the old address and every teacher cookie signed with it stop
    working (cookies are signed with the token, :func:`teacher_cookie`)."""
    (data_dir / TOKEN_FILE).unlink(missing_ok=True)
    return load_or_create_teacher_token(data_dir)


def _cookie_mac(token: str, issued: str, nonce: str) -> str:
    message = f'teacher-cookie|{issued}|{nonce}'.encode('ascii')
    return hmac.new(token.encode('utf-8'), message, hashlib.sha256).hexdigest()


def teacher_cookie(token: str, now: float | None = None) -> str:
    """What the teacher's browser keeps instead of the token: when it was issued, a nonce, and an HMAC of both
    keyed with the token. It tells nothing of the token, and a new token makes every old cookie worthless."""
    issued = str(int(time.time() if now is None else now))
    nonce = secrets.token_urlsafe(12)
    return f'{issued}.{nonce}.{_cookie_mac(token, issued, nonce)}'


def cookie_valid(token: str, cookie: object, now: float | None = None) -> bool:
    """Whether ``cookie`` was signed with ``token`` less than :data:`COOKIE_MAX_AGE_S` ago (MAC compared in
    constant time)."""
    if not isinstance(cookie, str) or not token or cookie.count('.') != 2:
        return False
    issued, nonce, mac = cookie.split('.')
    if not issued.isdigit() or not 0 <= (time.time() if now is None else now) - int(issued) < COOKIE_MAX_AGE_S:
        return False
    return hmac.compare_digest(mac.encode('ascii', 'replace'), _cookie_mac(token, issued, nonce).encode('ascii'))


def token_matches(expected: str, given: object) -> bool:
    """Constant time in the token's content: a wrong guess learns nothing from how long the refusal took."""
    if not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(given.encode('utf-8', 'replace'), expected.encode('utf-8'))


class EchoControl:
    """Sends the teacher's commands to the echo process over its ``/control`` WebSocket (:mod:`demos.server.control`).

    One connection per command: commands are rare (a click), and a restart closes every connection anyway.
    """

    def __init__(self, port: int, key: bytes, *, uses_tls: bool) -> None:
        self.port = port
        self.key = key
        self.uses_tls = uses_tls

    async def command(self, command: dict[str, Any], timeout_s: float = 5.0) -> dict[str, Any]:
        context = None
        if self.uses_tls:
            # loopback to our own child process, whose certificate names the class's host, not 127.0.0.1
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        scheme = 'wss' if self.uses_tls else 'ws'
        async with connect(
            f'{scheme}://127.0.0.1:{self.port}/control',
            additional_headers={CONTROL_HEADER: control_header(self.key)},
            ssl=context,
            open_timeout=timeout_s,
            close_timeout=1,
        ) as socket:
            await socket.send(json.dumps({'id': 1, **command}))
            reply = json.loads(await socket.recv())
        return reply if isinstance(reply, dict) else {'ok': False, 'error': 'no reply'}
