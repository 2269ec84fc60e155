"""The app's configuration: one dataclass, built from command-line flags and environment variables.

This is the only module that reads ``os.environ``; everything else receives a :class:`Config`.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

ENV_PREFIX = 'WEBSOCKET_LESSON_'
LOOPBACK_HOSTS = frozenset({'127.0.0.1', 'localhost', '::1'})
#: Shortest storage secret used, in bytes: the cookie is an HMAC-SHA1 signature (itsdangerous), and a key
#: shorter than the hash gives an attacker less to guess than the hash itself would.
MIN_SECRET_BYTES = 32

# The echo server's defaults (demos.server.echo_server.EchoSettings), repeated so that `--help` imports no server code;
# a test checks that every one of them agrees.
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
DEFAULT_MAX_CONNECTIONS = 2000
DEFAULT_MESSAGES_PER_S = 50.0
DEFAULT_MESSAGE_BURST = 100
DEFAULT_LISTEN_BACKLOG = 1024
DEFAULT_WRITE_LIMIT_BYTES = 32 * 1024
DEFAULT_PUSH_BACKLOG_LIMIT_BYTES = 256 * 1024
DEFAULT_PING_INTERVAL_S = 20.0
DEFAULT_PING_TIMEOUT_S = 20.0
DEFAULT_OPEN_TIMEOUT_S = 10.0
DEFAULT_CLOSE_TIMEOUT_S = 2.0
DEFAULT_MAX_SESSIONS = 500
DEFAULT_SESSION_IDLE_TIMEOUT_S = 3600.0
DEFAULT_POLL_BATCH_LIMIT = 100
DEFAULT_SESSIONS_PER_MINUTE = 60
DEFAULT_PENDING_PER_ADDRESS = 16
DEFAULT_REQUEST_TIMEOUT_S = 3.0
DEFAULT_MAX_QUEUE_MESSAGES = 1
DEFAULT_SOCKET_BUFFER_BYTES = 16 * 1024

# The page server's own limits (lesson.web.hardening).
#: Seconds a client gets to send a request's headers on the page port; slower ones are closed (slowloris).
DEFAULT_HEADER_TIMEOUT_S = 10.0
#: Days a learner's progress file may go untouched before it is deleted; 0 keeps everything.
DEFAULT_FORGET_AFTER_DAYS = 90.0
# Teaching a class (lesson.rules.classroom.DEFAULT_MAX_LEARNERS, repeated so that `--help` imports no page code).
DEFAULT_MAX_LEARNERS = 200
#: Shortest teacher token accepted from a flag: it is all that guards the class's results.
MIN_TEACHER_TOKEN_CHARS = 16
_TEACHER_TOKEN = re.compile(r'^[A-Za-z0-9_-]+$')


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
    # The echo server's other limits, named like the fields of demos.server.echo_server.EchoSettings they fill.
    #: Sustained messages per second per WebSocket connection; 0 means no limit (benchmarks).
    messages_per_s: float = DEFAULT_MESSAGES_PER_S
    message_burst: int = DEFAULT_MESSAGE_BURST
    listen_backlog: int = DEFAULT_LISTEN_BACKLOG
    write_limit_bytes: int = DEFAULT_WRITE_LIMIT_BYTES
    push_backlog_limit_bytes: int = DEFAULT_PUSH_BACKLOG_LIMIT_BYTES
    #: Keepalive ping period and pong wait, in seconds; 0 turns either off.
    ping_interval_s: float = DEFAULT_PING_INTERVAL_S
    ping_timeout_s: float = DEFAULT_PING_TIMEOUT_S
    open_timeout_s: float = DEFAULT_OPEN_TIMEOUT_S
    close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S
    max_sessions: int = DEFAULT_MAX_SESSIONS
    session_idle_timeout_s: float = DEFAULT_SESSION_IDLE_TIMEOUT_S
    poll_batch_limit: int = DEFAULT_POLL_BATCH_LIMIT
    #: New demo sessions per client address and minute; 0 means no limit.
    sessions_per_minute_per_address: int = DEFAULT_SESSIONS_PER_MINUTE
    pending_per_address: int = DEFAULT_PENDING_PER_ADDRESS
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    max_queue_messages: int = DEFAULT_MAX_QUEUE_MESSAGES
    #: SO_RCVBUF/SO_SNDBUF of each echo connection; 0 leaves the kernel's autotuning.
    socket_buffer_bytes: int = DEFAULT_SOCKET_BUFFER_BYTES
    # The page server's.
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S
    forget_after_days: float = DEFAULT_FORGET_AFTER_DAYS
    # Several instances behind a proxy (deploy/): shared state and the one public address.
    #: Redis for learner progress (NiceGUI's storage) and class state; None keeps both in the data directory.
    redis_url: str | None = None
    #: Where browsers reach this instance's echo server, e.g. ``/echo-server`` (same origin as the page) or
    #: ``wss://lesson.example/echo-server``; None: the echo port at the page's host, as without a proxy.
    public_echo_url: str | None = None
    #: Proxy addresses (or networks) whose X-Forwarded-Host/-Proto and Forwarded headers are believed.
    trusted_proxies: tuple[str, ...] = ()
    # Teaching a class (lesson/pages/teacher.py).
    #: The teacher pages' secret; None: the one kept in the data directory (``teacher_token``, made at first start).
    teacher_token: str | None = None
    #: Learners one class holds; beyond, joining is refused.
    max_learners: int = DEFAULT_MAX_LEARNERS

    @property
    def uses_tls(self) -> bool:
        return self.certfile is not None and self.keyfile is not None

    @property
    def is_exposed(self) -> bool:
        return self.host not in LOOPBACK_HOSTS

    @property
    def serves_others(self) -> bool:
        """Whether other people's browsers use this app: listening beyond loopback, or behind a proxy (which
        listens for it: the app itself then listens on loopback)."""
        return self.is_exposed or self.public_echo_url is not None


@dataclass(frozen=True)
class Limit:
    """One numeric flag: its Config field, its smallest value and what it does (for --help and the README)."""

    flag: str
    field: str
    kind: type[int] | type[float]
    default: float
    minimum: float
    #: True: the minimum itself is refused (a timeout of 0 s would close everything at once).
    above_minimum: bool
    help: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.flag.removeprefix('--').replace('-', '_').upper()


#: Every numeric limit a teacher can set, in the order --help lists them.
LIMITS: tuple[Limit, ...] = (
    Limit(
        '--max-message-bytes',
        'max_message_bytes',
        int,
        DEFAULT_MAX_MESSAGE_BYTES,
        1,
        False,
        'largest message a client may send to the echo server; a bigger one closes its connection with 1009 '
        f'(default: {DEFAULT_MAX_MESSAGE_BYTES}, 64 KiB)',
    ),
    Limit(
        '--max-connections',
        'max_connections',
        int,
        DEFAULT_MAX_CONNECTIONS,
        1,
        False,
        'connections the echo server holds at once; beyond them a new one is answered 503 '
        f'(default: {DEFAULT_MAX_CONNECTIONS})',
    ),
    Limit(
        '--message-rate',
        'messages_per_s',
        float,
        DEFAULT_MESSAGES_PER_S,
        0,
        False,
        'messages per second one WebSocket connection may send on average; beyond, it is closed with 1008; '
        f'0 means no limit, for benchmarks (default: {DEFAULT_MESSAGES_PER_S:g})',
    ),
    Limit(
        '--message-burst',
        'message_burst',
        int,
        DEFAULT_MESSAGE_BURST,
        1,
        False,
        f'messages allowed at once after a quiet spell (default: {DEFAULT_MESSAGE_BURST})',
    ),
    Limit(
        '--listen-backlog',
        'listen_backlog',
        int,
        DEFAULT_LISTEN_BACKLOG,
        1,
        False,
        f'connections the kernel queues for the echo server before it accepts them (default: {DEFAULT_LISTEN_BACKLOG})',
    ),
    Limit(
        '--write-limit-bytes',
        'write_limit_bytes',
        int,
        DEFAULT_WRITE_LIMIT_BYTES,
        0,
        False,
        'unsent bytes per connection above which an echo waits for the client to read '
        f'(default: {DEFAULT_WRITE_LIMIT_BYTES}, 32 KiB)',
    ),
    Limit(
        '--push-backlog-bytes',
        'push_backlog_limit_bytes',
        int,
        DEFAULT_PUSH_BACKLOG_LIMIT_BYTES,
        1,
        False,
        'unsent bytes a push subscriber may hold before it is closed with 1008 '
        f'(default: {DEFAULT_PUSH_BACKLOG_LIMIT_BYTES}, 256 KiB)',
    ),
    Limit(
        '--ping-interval',
        'ping_interval_s',
        float,
        DEFAULT_PING_INTERVAL_S,
        0,
        False,
        f'seconds between keepalive pings; 0 sends none (default: {DEFAULT_PING_INTERVAL_S:g})',
    ),
    Limit(
        '--ping-timeout',
        'ping_timeout_s',
        float,
        DEFAULT_PING_TIMEOUT_S,
        0,
        False,
        'seconds to wait for the pong before closing with 1011; 0 waits for ever '
        f'(default: {DEFAULT_PING_TIMEOUT_S:g})',
    ),
    Limit(
        '--open-timeout',
        'open_timeout_s',
        float,
        DEFAULT_OPEN_TIMEOUT_S,
        0,
        True,
        f'seconds a client gets to finish the opening handshake (default: {DEFAULT_OPEN_TIMEOUT_S:g})',
    ),
    Limit(
        '--close-timeout',
        'close_timeout_s',
        float,
        DEFAULT_CLOSE_TIMEOUT_S,
        0,
        True,
        f'seconds a client gets to answer the closing handshake (default: {DEFAULT_CLOSE_TIMEOUT_S:g})',
    ),
    Limit(
        '--max-sessions',
        'max_sessions',
        int,
        DEFAULT_MAX_SESSIONS,
        1,
        False,
        f'demo sessions kept at once, one per demo page load (default: {DEFAULT_MAX_SESSIONS})',
    ),
    Limit(
        '--session-idle-timeout',
        'session_idle_timeout_s',
        float,
        DEFAULT_SESSION_IDLE_TIMEOUT_S,
        0,
        True,
        f'seconds an unused demo session with no subscriber is kept (default: {DEFAULT_SESSION_IDLE_TIMEOUT_S:g})',
    ),
    Limit(
        '--poll-batch-limit',
        'poll_batch_limit',
        int,
        DEFAULT_POLL_BATCH_LIMIT,
        1,
        False,
        f'most updates one poll answer carries (default: {DEFAULT_POLL_BATCH_LIMIT})',
    ),
    Limit(
        '--sessions-per-minute',
        'sessions_per_minute_per_address',
        int,
        DEFAULT_SESSIONS_PER_MINUTE,
        0,
        False,
        'new demo sessions one client address may create a minute (a page load creates one); beyond, 429; '
        f'0 means no limit, for benchmarks (default: {DEFAULT_SESSIONS_PER_MINUTE})',
    ),
    Limit(
        '--pending-per-address',
        'pending_per_address',
        int,
        DEFAULT_PENDING_PER_ADDRESS,
        1,
        False,
        'echo connections one client address may hold before sending its request, once the echo server holds half '
        f'of --max-connections; beyond, closed at once (default: {DEFAULT_PENDING_PER_ADDRESS})',
    ),
    Limit(
        '--request-timeout',
        'request_timeout_s',
        float,
        DEFAULT_REQUEST_TIMEOUT_S,
        0,
        True,
        'seconds a new echo connection gets to send its request head; a slower one gets 408 '
        f'(default: {DEFAULT_REQUEST_TIMEOUT_S:g})',
    ),
    Limit(
        '--max-queue',
        'max_queue_messages',
        int,
        DEFAULT_MAX_QUEUE_MESSAGES,
        1,
        False,
        'incoming messages an echo connection keeps unread before it stops reading the socket '
        f'(default: {DEFAULT_MAX_QUEUE_MESSAGES})',
    ),
    Limit(
        '--socket-buffer-bytes',
        'socket_buffer_bytes',
        int,
        DEFAULT_SOCKET_BUFFER_BYTES,
        0,
        False,
        "kernel receive and send buffer of each echo connection; 0 leaves the kernel's autotuning "
        f'(default: {DEFAULT_SOCKET_BUFFER_BYTES}, 16 KiB)',
    ),
    Limit(
        '--header-timeout',
        'header_timeout_s',
        float,
        DEFAULT_HEADER_TIMEOUT_S,
        0,
        True,
        'seconds a client gets to send the headers of a request to the lesson pages; slower ones are closed '
        f'(default: {DEFAULT_HEADER_TIMEOUT_S:g})',
    ),
    Limit(
        '--forget-after-days',
        'forget_after_days',
        float,
        DEFAULT_FORGET_AFTER_DAYS,
        0,
        False,
        "delete a learner's progress file after this many days untouched, checked at start and hourly; "
        f'0 keeps everything (default: {DEFAULT_FORGET_AFTER_DAYS:g})',
    ),
)


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


def _bounded(limit: Limit) -> Callable[[str], float]:
    """argparse type for one limit: the number, or an error naming the range (argparse adds the flag)."""

    def parse(text: str) -> float:
        what = 'a whole number' if limit.kind is int else 'a number'
        bound = f'above {limit.minimum:g}' if limit.above_minimum else f'at least {limit.minimum:g}'
        refusal = f'must be {what} {bound}, not {text!r} (the flag or {limit.env})'
        try:
            value = limit.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(refusal) from None
        if (
            value != value
            or value in {float('inf'), float('-inf')}
            or value < limit.minimum
            or (limit.above_minimum and value == limit.minimum)
        ):  # value != value: NaN
            raise argparse.ArgumentTypeError(refusal)
        return value

    parse.__name__ = limit.kind.__name__  # argparse names the type in some messages
    return parse


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    def env(name: str, default: str | None = None) -> str | None:
        return environ.get(ENV_PREFIX + name, default)

    parser = argparse.ArgumentParser(
        prog='websocket-lesson',
        description='An interactive lesson on WebSockets: the lesson at /, live demos at /demo, a quiz at /quiz. '
        f'Every flag can also be set with an environment variable {ENV_PREFIX}<FLAG>, '
        f'e.g. {ENV_PREFIX}PORT=9000 or {ENV_PREFIX}MESSAGE_RATE=0.',
    )
    parser.add_argument(
        '--host',
        default=env('HOST', '127.0.0.1'),
        help='address the app listens on (default: 127.0.0.1, this machine only; '
        'use 0.0.0.0 to serve a class on your network)',
    )
    parser.add_argument(
        '--port', type=int, default=int(env('PORT', '8080') or 8080), help='port of the lesson pages (default: 8080)'
    )
    parser.add_argument(
        '--echo-port',
        type=int,
        default=int(env('ECHO_PORT', '8765') or 8765),
        help='port of the embedded WebSocket echo server the demos talk to (default: 8765; 0 picks a free one)',
    )
    parser.add_argument(
        '--open',
        dest='open_browser',
        action=argparse.BooleanOptionalAction,
        default=_env_flag(env('OPEN')),
        help='open the lesson in a browser tab (default: on when there is a display)',
    )
    parser.add_argument(
        '--storage-secret',
        default=env('STORAGE_SECRET'),
        help='secret that signs the learner cookie, at least 32 characters (default: a random '
        'one, generated once and kept in the data directory)',
    )
    parser.add_argument(
        '--data-dir',
        type=Path,
        default=env('DATA_DIR'),
        help='where progress and the generated secret are kept '
        '(default: $XDG_DATA_HOME/websocket-lesson or ~/.local/share/websocket-lesson)',
    )
    parser.add_argument(
        '--content-dir',
        type=Path,
        default=env('CONTENT_DIR'),
        help='read lesson.md and quiz.toml from this folder instead of the bundled ones',
    )
    parser.add_argument(
        '--allowed-origin',
        dest='allowed_origins',
        action='append',
        default=[o for o in (env('ALLOWED_ORIGINS') or '').split(',') if o],
        help='another page origin (scheme://host:port) allowed to use the echo server; '
        'repeat for more (default: only the app itself)',
    )
    parser.add_argument(
        '--certfile',
        type=Path,
        default=env('CERTFILE'),
        help='TLS certificate (PEM): serve the app over https:// and the echo server over wss://',
    )
    parser.add_argument(
        '--keyfile', type=Path, default=env('KEYFILE'), help='TLS private key (PEM) matching --certfile'
    )
    deployment = parser.add_argument_group(
        'several instances behind a proxy', 'see deploy/README; none of these is needed for one app on one machine'
    )
    deployment.add_argument(
        '--redis-url',
        default=env('REDIS_URL'),
        help='keep learner progress and class state in this Redis (redis://host:port/db, rediss:// or unix://), '
        'shared by every instance (default: files in the data directory)',
    )
    deployment.add_argument(
        '--public-echo-url',
        default=env('PUBLIC_ECHO_URL'),
        help="where browsers reach this instance's echo server through the proxy: a path on the page's own origin "
        '(/echo-server) or an absolute ws:// or wss:// URL (default: the echo port at the host the page came from)',
    )
    deployment.add_argument(
        '--trusted-proxy',
        dest='trusted_proxies',
        action='append',
        default=[p for p in (env('TRUSTED_PROXIES') or '').split(',') if p],
        help='address or network (127.0.0.1, 10.0.0.0/8) of a proxy whose X-Forwarded-Host/-Proto or Forwarded '
        'headers name the address the browser used; repeat for more (default: none is believed)',
    )
    teaching = parser.add_argument_group('teaching a class', 'the teacher pages (/teacher) and class limits')
    teaching.add_argument(
        '--teacher-token',
        default=env('TEACHER_TOKEN'),
        help=f'secret in the teacher address (/teacher?token=...), at least {MIN_TEACHER_TOKEN_CHARS} letters, digits, '
        '- or _ (default: a random one, generated once and kept in the data directory)',
    )
    teaching.add_argument(
        '--max-learners',
        type=int,
        default=env('MAX_LEARNERS', str(DEFAULT_MAX_LEARNERS)),  # a string default goes through `type` too
        metavar='N',
        help=f'learners one class may hold; beyond, joining is refused (default: {DEFAULT_MAX_LEARNERS})',
    )
    limits = parser.add_argument_group('limits', 'what one client may cost the app; the defaults suit a class')
    for limit in LIMITS:
        # a string default goes through `type` too, so a bad environment value is refused like a bad flag
        limits.add_argument(
            limit.flag,
            dest=limit.field,
            type=_bounded(limit),
            metavar='N',
            default=environ.get(limit.env, repr(limit.default) if limit.kind is float else str(limit.default)),
            help=limit.help,
        )
    # Listed for --help only: cli.main hands `bench ...` to demos.bench.command before this parser sees it.
    commands = parser.add_subparsers(title='subcommands', dest='command', metavar='{bench}')
    commands.add_parser(
        'bench',
        add_help=False,
        help='measure the echo server (polling vs push, a class under load); see: websocket-lesson bench --help',
    )
    return parser


def _secret_problem(secret: str) -> str | None:
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
            problem = _secret_problem(secret)
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
    # created 0600 from the start and written whole: nobody reads a half-written or world-readable secret
    temporary = path.with_name(f'.storage_secret.{os.getpid()}.tmp')
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, 'w', encoding='utf-8') as file:
        file.write(secret)
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)
    return secret


REDIS_SCHEMES = ('redis://', 'rediss://', 'unix://')
PUBLIC_ECHO_SCHEMES = ('ws://', 'wss://')


def deployment_problems(redis_url: str | None, public_echo_url: str | None, proxies: Sequence[str]) -> list[str]:
    """What is wrong with the deployment flags, one sentence each (empty: nothing)."""
    problems = []
    if redis_url and not redis_url.startswith(REDIS_SCHEMES):
        problems.append(f'--redis-url must start with {", ".join(REDIS_SCHEMES)}, not {redis_url!r}')
    if public_echo_url:
        absolute = public_echo_url.startswith(PUBLIC_ECHO_SCHEMES) and bool(urlsplit(public_echo_url).hostname)
        relative = public_echo_url.startswith('/') and not public_echo_url.startswith('//')
        if not (relative or absolute):
            problems.append(
                f'--public-echo-url must be a path (/echo-server) or a ws:// or wss:// URL, not {public_echo_url!r}'
            )
        if any(char in public_echo_url for char in '?#"\'\\ <>'):
            problems.append(f'--public-echo-url must have no query, fragment, quote or space: {public_echo_url!r}')
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy.strip(), strict=False)
        except ValueError:
            problems.append(f'--trusted-proxy must be an IP address or network, not {proxy!r}')
    return problems


def config_from_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    environ = os.environ if environ is None else environ
    parser = build_parser(environ)
    args = parser.parse_args(argv)
    if args.command == 'bench':
        parser.error('bench is a subcommand of its own: put it first, as in websocket-lesson bench --help')
    if (args.certfile is None) != (args.keyfile is None):
        parser.error('--certfile and --keyfile go together')
    for name in ('port', 'echo_port'):
        if not 0 <= getattr(args, name) <= 65535:
            parser.error(f'--{name.replace("_", "-")} must be between 0 and 65535')
    if args.storage_secret is not None and (problem := _secret_problem(args.storage_secret)):
        # Anyone who can guess the secret can forge any learner's cookie. On this machine only that is a
        # developer's shortcut (the tests use one); served to a network it is refused.
        if args.host not in LOOPBACK_HOSTS:
            parser.error(
                f'--storage-secret {problem}: a class on the network could forge learner cookies; '
                'leave it out to use a generated one'
            )
        log.warning('--storage-secret %s: fine on this machine only, refused with a non-loopback --host', problem)
    for problem in deployment_problems(args.redis_url, args.public_echo_url, args.trusted_proxies):
        parser.error(problem)
    if args.teacher_token is not None and (
        len(args.teacher_token) < MIN_TEACHER_TOKEN_CHARS or not _TEACHER_TOKEN.match(args.teacher_token)
    ):
        parser.error(
            f'--teacher-token must be at least {MIN_TEACHER_TOKEN_CHARS} letters, digits, - or _ (it goes in a URL)'
        )
    if not 1 <= args.max_learners <= 100_000:
        parser.error('--max-learners must be between 1 and 100000')
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
        **{limit.field: getattr(args, limit.field) for limit in LIMITS},
        redis_url=args.redis_url or None,
        public_echo_url=args.public_echo_url.rstrip('/') if args.public_echo_url else None,
        trusted_proxies=tuple(args.trusted_proxies),
        teacher_token=args.teacher_token or None,
        max_learners=args.max_learners,
    )
