"""The secret that signs learner cookies, kept in the data directory so cookies stay valid across restarts."""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path

from lesson.storage.atomic_files import write_atomically

log = logging.getLogger(__name__)

#: Shortest storage secret used, in bytes: the cookie is an HMAC-SHA1 signature (itsdangerous), and a key
#: shorter than the hash gives an attacker less to guess than the hash itself would.
MIN_SECRET_BYTES = 32


def secret_problem(secret: str) -> str | None:
    """What makes ``secret`` unfit to sign cookies, as the end of a sentence (``None``: nothing)."""
    length = len(secret.encode('utf-8'))
    if length == 0:
        return 'is empty'
    if length < MIN_SECRET_BYTES:
        return f'is only {length} bytes long (at least {MIN_SECRET_BYTES} are needed)'
    return None


def load_or_create_secret(data_dir: Path) -> str:
    """Keep one random secret per data directory, so learner cookies stay valid across restarts.

    A missing, empty or short secret file is never used: cookies signed with it could be forged. A new secret is
    made (logged at WARNING; learners signed in with the old one start afresh) and the bad file kept aside.
    """
    path = data_dir / 'storage_secret'
    if path.is_file():
        try:
            secret = path.read_text(encoding='utf-8').strip()
        except (OSError, UnicodeDecodeError) as error:
            problem: str | None = f'cannot be read ({error})'
        else:
            problem = secret_problem(secret)
            if problem is None:
                return secret
        kept = path.with_name(f'storage_secret.rejected-{time.strftime("%Y%m%dT%H%M%S")}-{os.getpid()}')
        path.replace(kept)
        log.warning(
            'the storage secret %s %s; a new one is made (learners start afresh) and the old file is kept as %s',
            path,
            problem,
            kept,
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(MIN_SECRET_BYTES)  # 43 characters
    # owner-only from the start and written whole: nobody reads a half-written or world-readable secret
    write_atomically(path, secret)
    return secret
