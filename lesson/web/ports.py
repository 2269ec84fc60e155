"""Claim listening ports before start-up, so a busy port is a one-line error instead of a traceback."""

from __future__ import annotations

import socket


class PortInUseError(OSError):
    def __init__(self, host: str, port: int, flag: str, reason: str) -> None:
        super().__init__(f'cannot listen on {host}:{port} ({reason}); choose another port with {flag}')


def bind_listening_socket(host: str, port: int, flag: str) -> socket.socket:
    """Bind and listen on (host, port); port 0 picks a free one (read it back with getsockname)."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    try:
        # create_server sets SO_REUSEADDR, so a port in TIME_WAIT after a restart is still ours
        return socket.create_server((host, port), family=family, backlog=1024)
    except OSError as error:
        raise PortInUseError(host, port, flag, error.strerror or str(error)) from error


def claim_free_port(host: str, port: int, flag: str) -> int:
    """Check that (host, port) can be bound, and return it (resolving 0 to a free port).

    The port is released again because uvicorn binds it itself a moment later.
    """
    with bind_listening_socket(host, port, flag) as probe:
        return int(probe.getsockname()[1])
