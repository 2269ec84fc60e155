"""What clients that send echo messages but never read the echoes make the echo server hold, per client.

The server runs in a child process (so this process's own clients do not count in its memory); the figures are
its resident memory (``VmRSS``) and the kernel memory of its sockets (``ss -tm``: what they queue in both
directions), before and after ``clients`` such clients stalled. Run it by hand for a before/after comparison::

    .venv/bin/python benchmarks/memory_probe.py 500                        # today's settings
    .venv/bin/python benchmarks/memory_probe.py 500 --max-queue 16 --socket-buffer-bytes 0   # websockets' defaults

Loopback only, bounded in clients and time.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import resource
import select
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from websockets.frames import Frame, Opcode

# The echo process's own event loop (uvloop when installed): its buffers are what a class's server holds.
_CHILD = """
import asyncio, json, sys
from demos.server.echo_process import loop_factory
from demos.server.echo_server import EchoServer, EchoSettings

def trim():
    # What the allocator keeps after a peak is the process's too, but reusable; trimming shows what is held.
    import ctypes, gc
    gc.collect()
    ctypes.CDLL('libc.so.6').malloc_trim(0)

async def main():
    server = EchoServer(EchoSettings(**json.loads(sys.argv[1])))
    port = await server.start_on('127.0.0.1', 0)
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        if line.strip() == 'trim':
            trim()
        print('ok', flush=True)
    await server.stop()

with asyncio.Runner(loop_factory=loop_factory()) as runner:
    runner.run(main())
"""


@dataclass
class Held:
    clients: int
    rss_before_kib: int
    rss_after_kib: int
    #: After the allocator gave back what it keeps free (malloc_trim): what the connections really hold.
    rss_trimmed_kib: int
    kernel_kib: int
    #: Bytes the clients got into the server's side (its user space and kernel), over all clients.
    sent_bytes: int

    @property
    def rss_per_client_kib(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.clients

    @property
    def held_per_client_kib(self) -> float:
        return (self.rss_trimmed_kib - self.rss_before_kib) / self.clients

    @property
    def kernel_per_client_kib(self) -> float:
        return self.kernel_kib / self.clients

    def as_dict(self) -> dict[str, Any]:
        return {
            'clients': self.clients,
            'rss_before_kib': self.rss_before_kib,
            'rss_after_kib': self.rss_after_kib,
            'rss_per_client_kib': round(self.rss_per_client_kib, 1),
            'rss_trimmed_kib': self.rss_trimmed_kib,
            'held_per_client_kib': round(self.held_per_client_kib, 1),
            'kernel_per_client_kib': round(self.kernel_per_client_kib, 1),
            'total_per_client_kib': round(self.rss_per_client_kib + self.kernel_per_client_kib, 1),
            'held_and_kernel_per_client_kib': round(self.held_per_client_kib + self.kernel_per_client_kib, 1),
            'sent_mib': round(self.sent_bytes / 2**20, 1),
        }


def _rss_kib(pid: int) -> int:
    with open(f'/proc/{pid}/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise RuntimeError('no VmRSS')


def _server_socket_kernel_bytes(port: int) -> int:
    """Bytes the kernel holds for the server's connected sockets: received unread (r) and queued to send (w)."""
    out = subprocess.run(
        ['ss', '-tmnH', 'state', 'established', f'( sport = :{port} )'], capture_output=True, text=True, check=True
    ).stdout
    total = 0
    for match in re.finditer(r'skmem:\(r(\d+),rb\d+,t\d+,tb\d+,f\d+,w(\d+)', out):
        total += int(match.group(1)) + int(match.group(2))
    return total


def _handshake(port: int) -> socket.socket:
    sock = socket.create_connection(('127.0.0.1', port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f'GET /echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            f'Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n'
        ).encode()
    )
    answer = b''
    while b'\r\n\r\n' not in answer:
        chunk = sock.recv(1024)
        if not chunk:
            raise ConnectionError('closed during the handshake')
        answer += chunk
    if not answer.startswith(b'HTTP/1.1 101 '):
        raise ConnectionError(answer[:100].decode(errors='replace'))
    sock.setblocking(False)
    return sock


def _stall(socks: list[socket.socket], frame: bytes, quiet_s: float, limit_s: float) -> int:
    """Send ``frame`` over and over on every socket, never reading, until none took a byte for ``quiet_s``."""
    offsets = [0] * len(socks)
    by_fd = {sock.fileno(): i for i, sock in enumerate(socks)}
    poller = select.poll()
    for sock in socks:
        poller.register(sock, select.POLLOUT)
    sent = 0
    last_progress = started = time.monotonic()
    while time.monotonic() - last_progress < quiet_s and time.monotonic() - started < limit_s:
        for fd, _ in poller.poll(200):
            i = by_fd[fd]
            sock = socks[i]
            try:
                n = sock.send(frame[offsets[i] :])
            except (BlockingIOError, ConnectionError):
                continue
            offsets[i] = (offsets[i] + n) % len(frame)
            sent += n
            if n:
                last_progress = time.monotonic()
    return sent


def command(child: subprocess.Popen[str], line: str) -> None:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(line + '\n')
    child.stdin.flush()
    assert child.stdout.readline().strip() == 'ok'


def measure(clients: int, settings: dict[str, Any], message_bytes: int = 64 * 1024, quiet_s: float = 1.5) -> Held:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < clients + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, clients * 2 + 100), hard))
    env = {key: value for key, value in os.environ.items() if not key.startswith('PYTEST')}
    child = subprocess.Popen(
        [sys.executable, '-c', _CHILD, json.dumps(settings)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    socks: list[socket.socket] = []
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        time.sleep(0.3)
        command(child, 'trim')
        rss_before = _rss_kib(child.pid)
        socks = [_handshake(port) for _ in range(clients)]
        frame = Frame(Opcode.BINARY, os.urandom(message_bytes)).serialize(mask=True, extensions=[])
        sent = _stall(socks, frame, quiet_s, limit_s=60.0)
        time.sleep(0.5)
        rss_after = _rss_kib(child.pid)
        command(child, 'trim')
        trimmed = _rss_kib(child.pid)
        return Held(clients, rss_before, rss_after, trimmed, _server_socket_kernel_bytes(port) // 1024, sent)
    finally:
        for sock in socks:
            sock.close()
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('clients', type=int, nargs='?', default=500)
    parser.add_argument('--max-queue', type=int, default=None)
    parser.add_argument('--socket-buffer-bytes', type=int, default=None)
    parser.add_argument('--write-limit-bytes', type=int, default=None)
    args = parser.parse_args()
    settings: dict[str, Any] = {'max_connections': max(2000, args.clients + 10)}
    if args.max_queue is not None:
        settings['max_queue_messages'] = args.max_queue
    if args.socket_buffer_bytes is not None:
        settings['socket_buffer_bytes'] = args.socket_buffer_bytes
    if args.write_limit_bytes is not None:
        settings['write_limit_bytes'] = args.write_limit_bytes
    print(json.dumps(measure(args.clients, settings).as_dict() | {'settings': settings}, indent=2))


if __name__ == '__main__':
    main()
