"""A real redis-server for the tests of the Redis stores (a missing binary fails with the apt-get line)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..support.deployment import MissingBinary, RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / 'redis')
    try:
        server.start()
    except MissingBinary as missing:
        pytest.fail(str(missing))
    yield server
    server.stop()
