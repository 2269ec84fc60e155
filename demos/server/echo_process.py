"""The echo server in a process of its own, so a page render can never delay a frame.

The app binds the echo port itself (a busy port is a one-line error before anything starts), then starts
``python -m demos.server.echo_process`` with that listening socket and hands it, on standard input, one JSON line: the
:class:`EchoSettings` and the certificate paths. From then on the two processes share nothing but the socket's
port and the key that signs demo session ids (in the settings): pages learn what only the server sees through the
inspection stream (:mod:`demos.server.inspection`), straight from the echo process. The echo process uses the second
core,
runs its own event loop (uvloop when installed, like the app's), and ends when told (SIGTERM or SIGINT: every
WebSocket is closed with 1001) or when the app is gone (its standard input reaches end of file).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from demos.server.echo_server import EchoServer, EchoSettings

log = logging.getLogger(__name__)

#: How long a stopping echo process gets before it is killed: its own close_timeout (2 s) plus a margin.
STOP_TIMEOUT_S = 4.0


@dataclass(frozen=True)
class EchoProcessSpec:
    """Everything the echo process needs, as it crosses to it: settings and, for ``wss://``, the certificate."""

    settings: EchoSettings
    certfile: Path | None = None
    keyfile: Path | None = None

    def to_json(self) -> str:
        fields = dataclasses.asdict(self.settings)
        key = fields.pop('session_key')
        return json.dumps(
            {
                'settings': fields,
                'session_key': key.hex() if key is not None else None,
                'certfile': str(self.certfile) if self.certfile else None,
                'keyfile': str(self.keyfile) if self.keyfile else None,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> EchoProcessSpec:
        data = json.loads(text)
        fields = data['settings']
        fields['allowed_origins'] = tuple(fields['allowed_origins'])
        key = data['session_key']
        settings = EchoSettings(**fields, session_key=bytes.fromhex(key) if key is not None else None)
        certfile, keyfile = data['certfile'], data['keyfile']
        return cls(settings, Path(certfile) if certfile else None, Path(keyfile) if keyfile else None)

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.certfile is None or self.keyfile is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile=str(self.certfile), keyfile=str(self.keyfile))
        return context


class EchoProcess:
    """The app's handle on its echo process: :meth:`start` it with the bound socket, :meth:`stop` it at the end.

    Args:
        sock: The echo port's socket, bound and listening. The process gets its own copy; this one is closed
            once the process has it, so a restart inside the process can bind the port again.
        spec: Settings and certificate.
    """

    def __init__(self, sock: socket.socket, spec: EchoProcessSpec) -> None:
        self.sock = sock
        self.spec = spec
        self.port = int(sock.getsockname()[1])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        fd = self.sock.fileno()
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'demos.server.echo_process', str(fd)],
            stdin=subprocess.PIPE,
            pass_fds=(fd,),
            # Ctrl-C in a terminal reaches the whole process group; the app stops this process itself, in order.
            start_new_session=False,
        )
        assert self.process.stdin is not None
        self.process.stdin.write(self.spec.to_json().encode() + b'\n')
        self.process.stdin.flush()  # kept open: its end of file tells the process the app is gone
        self.sock.close()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM (every WebSocket closes with 1001), then wait; kill when it takes longer than ``timeout_s``."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.warning('echo server: did not stop within %.0f s; killed', timeout_s)
                process.kill()
                process.wait()
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        return process.returncode

    async def stop_async(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """:meth:`stop` without blocking the app's event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, self.stop, timeout_s)


# The process itself.


async def serve_until_told(sock: socket.socket, spec: EchoProcessSpec) -> None:
    """Serve on ``sock`` until SIGTERM, SIGINT or end of file on standard input; then close everything with 1001."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    _watch_stdin(loop, stopping.set)
    server = EchoServer(spec.settings)
    await server.start(sock, spec.ssl_context())
    await stopping.wait()
    await server.stop()


def _watch_stdin(loop: asyncio.AbstractEventLoop, on_eof: Callable[[], None]) -> None:
    # A thread that blocks on read: works with any loop and any kind of stdin (pipe, file, terminal). It reads the
    # file descriptor itself, not sys.stdin: a daemon thread inside a buffered reader at exit aborts the interpreter.
    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(0, 4096):
                pass
        with contextlib.suppress(RuntimeError):  # the loop already closed: the process is stopping anyway
            loop.call_soon_threadsafe(on_eof)

    threading.Thread(target=watch, name='echo-stdin', daemon=True).start()


def _read_line(fd: int) -> bytes:
    """One line from ``fd``, read byte by byte so nothing after it is taken from the descriptor."""
    line = bytearray()
    while (byte := os.read(fd, 1)) and byte != b'\n':
        line += byte
    return bytes(line)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop the echo process runs on: uvloop when it is installed (as uvicorn picks for the app).

    The benchmark measures the server as the app runs it, so it uses the same loop (the bare websockets server beside
    it too, so their ratio compares the servers, not the loops).
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print(
            'usage: python -m demos.server.echo_process FD  (the settings as one JSON line on stdin)', file=sys.stderr
        )
        return 2
    logging.basicConfig(level=logging.INFO, format='%(levelname)s:     %(message)s', stream=sys.stderr)
    logging.getLogger('websockets').setLevel(logging.WARNING)
    spec = EchoProcessSpec.from_json(_read_line(0).decode())
    sock = socket.socket(fileno=int(args[0]))
    os.set_inheritable(sock.fileno(), False)
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(serve_until_told(sock, spec))
    return 0


if __name__ == '__main__':
    sys.exit(main())
