"""The benchmark's server: an EchoServer and a bare websockets echo server in a child process, on command.

The server runs in a child process, so its CPU time is its own and the clients (the benchmark's process) do not
steal its core; both run on the event loop the app runs on (uvloop, under uvicorn, when installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from demos.bench.clients import HOST
from demos.bench.proc_stats import rss_kib
from demos.server.echo_process import loop_factory


def serve_child(settings_json: str) -> None:
    """Entry point of the server process: serve, and obey JSON-line commands on stdin."""
    settings = json.loads(settings_json)
    settings['allowed_origins'] = tuple(settings.get('allowed_origins', ()))
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(_child(settings))


async def _bare_echo(websocket: ServerConnection) -> None:
    try:
        async for message in websocket:
            await websocket.send(message)
    except ConnectionClosed:
        pass


async def _child(settings: dict[str, Any]) -> None:
    from demos.server.echo_server import EchoServer, EchoSettings

    server = EchoServer(EchoSettings(**settings))
    port = await server.start_on(HOST, 0)
    # A bare websockets echo server with default settings, for the load test's comparison.
    bare = await serve(_bare_echo, HOST, 0, backlog=1024)
    bare_port = bare.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()

    def answer(reply: Any) -> None:
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()

    answer([port, bare_port])
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command, *args = json.loads(line)
            if command == 'quit':
                break
            reply: Any = None
            if command == 'start':
                server.session(args[0]).start(args[1])
            elif command == 'stop':
                server.session(args[0]).stop()
            elif command == 'snapshot':
                reply = server.session(args[0]).snapshot()
            elif command == 'cpu':
                reply = time.process_time()
            elif command == 'rss':
                reply = rss_kib()
            answer(reply)
    finally:
        bare.close()
        await bare.wait_closed()
        await server.stop()


class ServerProcess:
    """The echo server in a child Python process, driven by JSON lines over its stdin and stdout.

    A plain subprocess rather than multiprocessing: it imports only ``demos``, never the caller's
    ``__main__`` (a test runner, the app's command line).
    """

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.port = 0
        self.bare_port = 0
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> ServerProcess:
        code = 'import sys, demos.bench.server_process; demos.bench.server_process.serve_child(sys.argv[1])'
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            '-c',
            code,
            json.dumps(self.settings),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self.port, self.bare_port = await self._receive()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._process is not None and self._process.stdin is not None
        with contextlib.suppress(ConnectionError):
            self._process.stdin.write(b'["quit"]\n')
            self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 10)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()

    async def _receive(self) -> Any:
        assert self._process is not None and self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 30)
        if not line:
            raise RuntimeError('the benchmark server process ended')
        return json.loads(line)

    async def call(self, *command: Any) -> Any:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(json.dumps(command).encode() + b'\n')
        await self._process.stdin.drain()
        return await self._receive()
