"""The echo server in its own process, as the console script starts it: it answers while the page server is frozen,
and it goes when the app goes, however the app went."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.support.app_process import RunningApp


def children(pid: int) -> list[int]:
    with open(f'/proc/{pid}/task/{pid}/children') as listing:
        return [int(child) for child in listing.read().split()]


def alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as stat:
            return stat.read().split(') ')[-1][0] != 'Z'
    except FileNotFoundError:
        return False


@pytest.fixture
def running_app(tmp_path: Path) -> Iterator[RunningApp]:
    app = RunningApp(data_dir=tmp_path)
    app.start()
    yield app
    if app.process is not None and app.process.poll() is None:
        os.kill(app.process.pid, signal.SIGCONT)
    app.stop()


async def round_trips(port: int, count: int) -> list[float]:
    times = []
    async with connect(f'ws://127.0.0.1:{port}/echo') as echo:
        for index in range(count):
            started = time.perf_counter()
            await echo.send(f'ping {index}')
            assert await asyncio.wait_for(echo.recv(), 5) == f'ping {index}'
            times.append(time.perf_counter() - started)
    return times


async def test_the_echo_server_answers_while_the_page_server_is_frozen(running_app: RunningApp) -> None:
    assert running_app.process is not None
    app_pid = running_app.process.pid
    (echo_pid,) = children(app_pid)
    os.kill(app_pid, signal.SIGSTOP)  # no page renders, no event loop: the page server is held up entirely
    try:
        answered = await round_trips(running_app.echo_port, 20)
    finally:
        os.kill(app_pid, signal.SIGCONT)
    assert len(answered) == 20
    assert alive(echo_pid)


def test_the_echo_process_ends_with_the_app_even_when_the_app_is_killed(running_app: RunningApp) -> None:
    assert running_app.process is not None
    app_pid = running_app.process.pid
    (echo_pid,) = children(app_pid)
    running_app.process.kill()  # SIGKILL: no shutdown handler runs; the echo process sees its stdin close
    running_app.process.wait(5)
    deadline = time.monotonic() + 10
    while alive(echo_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(echo_pid)
