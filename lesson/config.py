"""The app's configuration: one dataclass, built from command-line flags and environment variables.

This is the only module that reads ``os.environ``; everything else receives a :class:`Config`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = 'WEBSOCKET_LESSON_'
LOOPBACK_HOSTS = frozenset({'127.0.0.1', 'localhost', '::1'})
# The echo server's defaults (demos.echo_server.EchoSettings), repeated so that `--help` imports no server code;
# a test checks that they agree.
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
DEFAULT_MAX_CONNECTIONS = 2000


@dataclass(frozen=True)
class Config:
    host: str = '127.0.0.1'
    port: int = 8080
    echo_host: str = '127.0.0.1'
    echo_port: int = 8765
    open_browser: bool = False
    storage_secret: str = ''
    data_dir: Path = field(default_factory=lambda: Path('.websocket-lesson'))
    content_dir: Path | None = None
    allowed_origins: tuple[str, ...] = ()
    certfile: Path | None = None
    keyfile: Path | None = None
    #: Largest WebSocket message a client may send to the echo server; bigger ones close with 1009.
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    #: Concurrent connections the echo server accepts; beyond it the handshake is answered 503.
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    @property
    def uses_tls(self) -> bool:
        return self.certfile is not None and self.keyfile is not None

    @property
    def is_exposed(self) -> bool:
        return self.host not in LOOPBACK_HOSTS


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """Where learner progress and the generated storage secret live (XDG on Linux, home elsewhere)."""
    if xdg := environ.get('XDG_DATA_HOME'):
        return Path(xdg) / 'websocket-lesson'
    return Path.home() / '.local' / 'share' / 'websocket-lesson'


def has_display(environ: Mapping[str, str]) -> bool:
    if sys.platform in {'darwin', 'win32'}:
        return True
    return bool(environ.get('DISPLAY') or environ.get('WAYLAND_DISPLAY'))


def _env_flag(value: str | None) -> bool | None:
    if value is None or value == '':
        return None
    return value.strip().lower() in {'1', 'true', 'yes', 'on'}


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    def env(name: str, default: str | None = None) -> str | None:
        return environ.get(ENV_PREFIX + name, default)

    parser = argparse.ArgumentParser(
        prog='websocket-lesson',
        description='An interactive lesson on WebSockets: the lesson at /, live demos at /demo, a quiz at /quiz. '
                    f'Every flag can also be set with an environment variable {ENV_PREFIX}<FLAG>, '
                    f'e.g. {ENV_PREFIX}PORT=9000.',
    )
    parser.add_argument('--host', default=env('HOST', '127.0.0.1'),
                        help='address the app listens on (default: 127.0.0.1, this machine only; '
                             'use 0.0.0.0 to serve a class on your network)')
    parser.add_argument('--port', type=int, default=int(env('PORT', '8080') or 8080),
                        help='port of the lesson pages (default: 8080)')
    parser.add_argument('--echo-port', type=int, default=int(env('ECHO_PORT', '8765') or 8765),
                        help='port of the embedded WebSocket echo server the demos talk to '
                             '(default: 8765; 0 picks a free one)')
    parser.add_argument('--open', dest='open_browser', action=argparse.BooleanOptionalAction,
                        default=_env_flag(env('OPEN')),
                        help='open the lesson in a browser tab (default: on when there is a display)')
    parser.add_argument('--storage-secret', default=env('STORAGE_SECRET'),
                        help='secret that signs the learner cookie (default: a random one, generated once '
                             'and kept in the data directory)')
    parser.add_argument('--data-dir', type=Path, default=env('DATA_DIR'),
                        help='where progress and the generated secret are kept '
                             '(default: $XDG_DATA_HOME/websocket-lesson or ~/.local/share/websocket-lesson)')
    parser.add_argument('--content-dir', type=Path, default=env('CONTENT_DIR'),
                        help='read lesson.md and quiz.toml from this folder instead of the bundled ones')
    parser.add_argument('--allowed-origin', dest='allowed_origins', action='append',
                        default=[o for o in (env('ALLOWED_ORIGINS') or '').split(',') if o],
                        help='another page origin (scheme://host:port) allowed to use the echo server; '
                             'repeat for more (default: only the app itself)')
    parser.add_argument('--certfile', type=Path, default=env('CERTFILE'),
                        help='TLS certificate (PEM): serve the app over https:// and the echo server over wss://')
    parser.add_argument('--keyfile', type=Path, default=env('KEYFILE'),
                        help='TLS private key (PEM) matching --certfile')
    parser.add_argument('--max-message-bytes', type=int,
                        default=env('MAX_MESSAGE_BYTES', str(DEFAULT_MAX_MESSAGE_BYTES)),
                        help='largest message a client may send to the echo server; a bigger one closes its '
                             f'connection with 1009 (default: {DEFAULT_MAX_MESSAGE_BYTES}, 64 KiB)')
    parser.add_argument('--max-connections', type=int,
                        default=env('MAX_CONNECTIONS', str(DEFAULT_MAX_CONNECTIONS)),
                        help='connections the echo server holds at once; beyond them a new one is answered 503 '
                             f'(default: {DEFAULT_MAX_CONNECTIONS})')
    return parser


def load_or_create_secret(data_dir: Path) -> str:
    """Keep one random secret per data directory, so learner cookies stay valid across restarts."""
    path = data_dir / 'storage_secret'
    if path.is_file():
        return path.read_text(encoding='utf-8').strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    path.write_text(secret, encoding='utf-8')
    path.chmod(0o600)
    return secret


def config_from_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    environ = os.environ if environ is None else environ
    parser = build_parser(environ)
    args = parser.parse_args(argv)
    if (args.certfile is None) != (args.keyfile is None):
        parser.error('--certfile and --keyfile go together')
    for name in ('port', 'echo_port'):
        if not 0 <= getattr(args, name) <= 65535:
            parser.error(f'--{name.replace("_", "-")} must be between 0 and 65535')
    for name in ('max_message_bytes', 'max_connections'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1')
    data_dir = (args.data_dir or default_data_dir(environ)).expanduser().resolve()
    open_browser = has_display(environ) if args.open_browser is None else args.open_browser
    return Config(
        host=args.host,
        port=args.port,
        # the echo server listens where the app listens: a class that reaches the pages reaches the demos
        echo_host=args.host,
        echo_port=args.echo_port,
        open_browser=open_browser,
        storage_secret=args.storage_secret or load_or_create_secret(data_dir),
        data_dir=data_dir,
        content_dir=args.content_dir.expanduser().resolve() if args.content_dir else None,
        allowed_origins=tuple(args.allowed_origins),
        certfile=args.certfile,
        keyfile=args.keyfile,
        max_message_bytes=args.max_message_bytes,
        max_connections=args.max_connections,
    )
