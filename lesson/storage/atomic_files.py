"""Writing a file so that a crash leaves the old version or the new one, never half of either (pure I/O helper)."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, text: str, encoding: str = 'utf-8', *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``text`` whole: a temporary file beside it, flushed to disk, renamed over it, and the
    folder flushed so the rename itself survives a power cut. The temporary file is gone whatever happens.

    ``mode`` defaults to owner-only: what the app writes (learner progress, class results) is nobody else's.
    """
    temporary = path.with_name(f'.{path.name}.{os.getpid()}.tmp')
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, 'w', encoding=encoding) as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
