"""Stopping the app (Ctrl-C or SIGTERM) closes every WebSocket with 1001 and exits within 5 s."""

from __future__ import annotations

import asyncio
import signal
import ssl
import time
from pathlib import Path

import pytest
import trustme
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ..support.app_process import AS_A_BACKGROUND_JOB, RunningApp

EXIT_WITHIN_S = 5.0


async def wait_for_close(ws: ClientConnection) -> int | None:
    """Read until the server closes the connection; the close code it sent."""
    try:
        while True:
            await ws.recv()
    except ConnectionClosed:
        pass
    return ws.close_code


@pytest.mark.parametrize(
    ('stop_signal', 'tls', 'launcher'),
    [
        (signal.SIGTERM, False, []),
        (signal.SIGINT, False, []),
        (signal.SIGTERM, True, []),
        # SIGINT ignored when started (as the whole test run was when it exited 0 here): it still ends with 130
        (signal.SIGINT, False, AS_A_BACKGROUND_JOB),
    ],
    ids=['SIGTERM', 'Ctrl-C', 'SIGTERM-wss', 'Ctrl-C-background-job'],
)
async def test_stopping_closes_websockets_with_1001_and_exits_within_5_s(
    tmp_path: Path, stop_signal: signal.Signals, tls: bool, launcher: list[str]
) -> None:
    flags: list[str] = []
    client_ssl: ssl.SSLContext | None = None
    if tls:
        authority = trustme.CA()
        authority.issue_cert('127.0.0.1').private_key_and_cert_chain_pem.write_to_path(tmp_path / 'server.pem')
        flags = ['--certfile', str(tmp_path / 'server.pem'), '--keyfile', str(tmp_path / 'server.pem')]
        client_ssl = ssl.create_default_context()
        authority.configure_trust(client_ssl)
    running = RunningApp(data_dir=tmp_path, extra_args=flags, scheme='https' if tls else 'http', launcher=launcher)
    await asyncio.to_thread(running.start)
    try:
        base = f'{"wss" if tls else "ws"}://127.0.0.1:{running.echo_port}'
        push = await connect(f'{base}/push', ssl=client_ssl)
        echo = await connect(f'{base}/echo', ssl=client_ssl)
        await echo.send('hello')
        assert await asyncio.wait_for(echo.recv(), 10) == 'hello'
        assert running.process is not None
        sent_at = time.monotonic()
        running.process.send_signal(stop_signal)
        codes = await asyncio.wait_for(asyncio.gather(wait_for_close(push), wait_for_close(echo)), EXIT_WITHIN_S)
        returncode = await asyncio.to_thread(running.process.wait, EXIT_WITHIN_S * 2)
        took_s = time.monotonic() - sent_at
    finally:
        running.stop()  # kills it if it did not exit
    assert codes == [1001, 1001], running.log
    assert took_s < EXIT_WITHIN_S, f'exited {took_s:.1f} s after {stop_signal.name}\n{running.log}'
    # uvicorn finishes its graceful shutdown, then re-raises the signal: the process dies "by SIGTERM", and
    # exits 130 after Ctrl-C (the console script catches the KeyboardInterrupt), as shells expect
    assert returncode == (130 if stop_signal == signal.SIGINT else -signal.SIGTERM), running.log
    assert 'Traceback' not in running.log, running.log
