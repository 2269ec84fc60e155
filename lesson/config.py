"""The app's configuration: one dataclass, built from command-line flags and environment variables.

This is the only module that reads ``os.environ``; everything else receives a :class:`Config`.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from lesson.rules.classroom import DEFAULT_MAX_LEARNERS
from lesson.storage.redis_urls import redacted, scheme_only
from lesson.storage.storage_secret import load_or_create_secret, secret_problem

log = logging.getLogger(__name__)

ENV_PREFIX = 'WEBSOCKET_LESSON_'
LOOPBACK_HOSTS = frozenset({'127.0.0.1', 'localhost', '::1'})

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
    #: --open was asked for on a machine with no display: no browser can open there, and start-up says so.
    open_without_display: bool = False
    storage_secret: str = ''
    data_dir: Path = field(default_factory=lambda: Path('.websocket-lesson'))
    content_dir: Path | None = None
    allowed_origins: tuple[str, ...] = ()
    certfile: Path | None = None
    keyfile: Path | None = None
    #: Largest WebSocket message a client may send to the echo server; bigger ones close with 1009.
    max_message_bytes: int = 64 * 1024
    #: Concurrent connections the echo server accepts; beyond it the handshake is answered 503.
    max_connections: int = 2000
    # The echo server's other limits, named like the fields of demos.server.echo_server.EchoSettings they fill; the
    # defaults are EchoSettings' too, repeated so that `--help` imports no server code (a test checks they agree).
    #: Sustained messages per second per WebSocket connection; 0 means no limit (benchmarks).
    messages_per_s: float = 50.0
    message_burst: int = 100
    listen_backlog: int = 1024
    write_limit_bytes: int = 32 * 1024
    push_backlog_limit_bytes: int = 256 * 1024
    #: Keepalive ping period and pong wait, in seconds; 0 turns either off.
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    max_sessions: int = 500
    session_idle_timeout_s: float = 3600.0
    poll_batch_limit: int = 100
    #: New demo sessions per client address and minute; 0 means no limit.
    sessions_per_minute_per_address: int = 60
    #: Echo connections and demo sessions one client address may hold (never more than four fifths of the global
    #: caps); 0 means no per-address cap. The defaults fit a class of 200 behind one router.
    connections_per_address: int = 1600
    sessions_per_address: int = 400
    pending_per_address: int = 16
    request_timeout_s: float = 3.0
    max_queue_messages: int = 1
    #: SO_RCVBUF/SO_SNDBUF of each echo connection; 0 leaves the kernel's autotuning.
    socket_buffer_bytes: int = 16 * 1024
    # The page server's.
    #: Seconds a client gets to send a request's headers on the page port; slower ones are closed (slowloris).
    header_timeout_s: float = 10.0
    #: Days a learner's progress file may go untouched before it is deleted; 0 keeps everything.
    forget_after_days: float = 90.0
    # Several instances behind a proxy (deploy/): shared state and the one public address.
    #: Redis for learner progress (NiceGUI's storage) and class state; None keeps both in the data directory.
    redis_url: str | None = None
    #: Where browsers reach this instance's echo server, e.g. ``/echo-server`` (same origin as the page) or
    #: ``wss://lesson.example/echo-server``; None: the echo port at the page's host, as without a proxy.
    public_echo_url: str | None = None
    #: Proxy addresses (or networks) whose X-Forwarded-Host/-Proto and Forwarded headers are believed.
    trusted_proxies: tuple[str, ...] = ()
    # Teaching a class (lesson/pages/teacher/).
    #: The teacher pages' secret; None: the one kept in the data directory (``teacher_token``, made at first start).
    teacher_token: str | None = None
    #: Replace the kept teacher token before serving: the old teacher address and teacher cookies stop working.
    rotate_teacher_token: bool = False
    #: Learners one class holds; beyond, joining is refused.
    max_learners: int = DEFAULT_MAX_LEARNERS
    #: Joins one address may make per minute (a class behind one NAT is one address); 0: no limit.
    joins_per_minute_per_address: int = 60
    #: Learners present in a class from one address at most; 0: no limit.
    learners_per_address: int = 60

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
    """One numeric flag: its Config field, its smallest value and what it does (for --help and the README).

    Its type and default are the Config field's: one home for each default.
    """

    flag: str
    field: str
    minimum: float
    help: str
    #: Said after the default in --help, e.g. the default in KiB.
    note: str = ''
    #: True: the minimum itself is refused (a timeout of 0 s would close everything at once).
    above_minimum: bool = False

    @property
    def default(self) -> float:
        value: float = Config.__dataclass_fields__[self.field].default  # type: ignore[assignment]
        return value

    @property
    def kind(self) -> type[int] | type[float]:
        return int if isinstance(self.default, int) else float

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.flag.removeprefix('--').replace('-', '_').upper()

    @property
    def help_text(self) -> str:
        default = f'{self.default:g}' if self.kind is float else str(self.default)
        return f'{self.help} (default: {default}{", " + self.note if self.note else ""})'


# Every numeric limit a teacher can set, in the order --help lists them.
# fmt: off
LIMITS: tuple[Limit, ...] = (
    Limit('--max-message-bytes', 'max_message_bytes', 1, note='64 KiB', help=
          'largest message a client may send to the echo server; a bigger one closes its connection with 1009'),
    Limit('--max-connections', 'max_connections', 1, help=
          'connections the echo server holds at once; beyond them a new one is answered 503'),
    Limit('--message-rate', 'messages_per_s', 0, help=
          'messages per second one WebSocket connection may send on average; beyond, it is closed with 1008; '
          '0 means no limit, for benchmarks'),
    Limit('--message-burst', 'message_burst', 1, help='messages allowed at once after a quiet spell'),
    Limit('--listen-backlog', 'listen_backlog', 1, help=
          'connections the kernel queues for the echo server before it accepts them'),
    Limit('--write-limit-bytes', 'write_limit_bytes', 0, note='32 KiB', help=
          'unsent bytes per connection above which an echo waits for the client to read'),
    Limit('--push-backlog-bytes', 'push_backlog_limit_bytes', 1, note='256 KiB', help=
          'unsent bytes a push subscriber may hold before it is closed with 1008'),
    Limit('--ping-interval', 'ping_interval_s', 0, help='seconds between keepalive pings; 0 sends none'),
    Limit('--ping-timeout', 'ping_timeout_s', 0, help=
          'seconds to wait for the pong before closing with 1011; 0 waits for ever'),
    Limit('--open-timeout', 'open_timeout_s', 0, above_minimum=True, help=
          'seconds a client gets to finish the opening handshake'),
    Limit('--close-timeout', 'close_timeout_s', 0, above_minimum=True, help=
          'seconds a client gets to answer the closing handshake'),
    Limit('--max-sessions', 'max_sessions', 1, help='demo sessions kept at once, one per demo page load'),
    Limit('--session-idle-timeout', 'session_idle_timeout_s', 0, above_minimum=True, help=
          'seconds an unused demo session with no subscriber is kept'),
    Limit('--poll-batch-limit', 'poll_batch_limit', 1, help='most updates one poll answer carries'),
    Limit('--sessions-per-minute', 'sessions_per_minute_per_address', 0, help=
          'new demo sessions one client address may create a minute (a page load creates one); beyond, 429; '
          '0 means no limit, for benchmarks'),
    Limit('--connections-per-address', 'connections_per_address', 0, help=
          'echo connections one client address may hold (a class behind one router is one address: 8 per learner), '
          'never more than four fifths of --max-connections; beyond, 503; 0 means no per-address cap'),
    Limit('--sessions-per-address', 'sessions_per_address', 0, help=
          'demo sessions one client address may hold, never more than four fifths of --max-sessions; beyond, its '
          'oldest unused one is forgotten, or 503 when all are open; 0 means no per-address cap'),
    Limit('--pending-per-address', 'pending_per_address', 1, help=
          'echo connections one client address may hold before sending its request, once the echo server holds '
          'half of --max-connections; beyond, closed at once'),
    Limit('--request-timeout', 'request_timeout_s', 0, above_minimum=True, help=
          'seconds a new echo connection gets to send its request head; a slower one gets 408'),
    Limit('--max-queue', 'max_queue_messages', 1, help=
          'incoming messages an echo connection keeps unread before it stops reading the socket'),
    Limit('--socket-buffer-bytes', 'socket_buffer_bytes', 0, note='16 KiB', help=
          "kernel receive and send buffer of each echo connection; 0 leaves the kernel's autotuning"),
    Limit('--header-timeout', 'header_timeout_s', 0, above_minimum=True, help=
          'seconds a client gets to send the headers of a request to the lesson pages; slower ones are closed'),
    Limit('--forget-after-days', 'forget_after_days', 0, help=
          "delete a learner's progress file after this many days untouched, checked at start and hourly; "
          '0 keeps everything'),
)
# fmt: on


@dataclass(frozen=True)
class Flag:
    """One of the other flags: what argparse needs, and where its environment variable's value goes."""

    flag: str
    help: str
    #: The argument group (a key of GROUPS); '' for the general options.
    group: str = ''
    #: 'value' (the flag's value), 'list' (repeatable; the variable is comma-separated), 'switch' (--x / --no-x).
    kind: Literal['value', 'list', 'switch'] = 'value'
    type: Callable[[str], object] | None = None
    dest: str | None = None
    #: The value when neither flag nor variable gives one (a string goes through ``type`` like a flag's value).
    fallback: str | None = None
    #: The variable's name after the prefix, when it is not the flag's.
    env: str | None = None
    metavar: str | None = None

    def default(self, environ: Mapping[str, str]) -> object:
        name = ENV_PREFIX + (self.env or self.flag.removeprefix('--').replace('-', '_').upper())
        value = environ.get(name)
        if self.kind == 'list':
            return [item for item in (value or '').split(',') if item]
        if self.kind == 'switch':
            return _env_flag(value)
        # an empty variable counts as unset where there is a default (WEBSOCKET_LESSON_PORT= in a shell script)
        return self.fallback if not value and self.fallback is not None else value

    def add_to(self, group: argparse._ActionsContainer, environ: Mapping[str, str]) -> None:
        options: dict[str, Any] = {'default': self.default(environ), 'help': self.help}
        options |= {k: v for k, v in (('type', self.type), ('dest', self.dest), ('metavar', self.metavar)) if v}
        if self.kind == 'list':
            options['action'] = 'append'
        elif self.kind == 'switch':
            options['action'] = argparse.BooleanOptionalAction
        group.add_argument(self.flag, **options)


PARSER_DESCRIPTION = (
    'An interactive lesson on WebSockets: the lesson at /, live demos at /demo, a quiz at /quiz. '
    f'Every flag can also be set with an environment variable {ENV_PREFIX}<FLAG>, '
    f'e.g. {ENV_PREFIX}PORT=9000 or {ENV_PREFIX}MESSAGE_RATE=0.'
)
#: The argument groups after the general options, in the order --help shows them: (title, description).
GROUPS = {
    'deployment': (
        'several instances behind a proxy',
        'see deploy/README; none of these is needed for one app on one machine',
    ),
    'teaching': ('teaching a class', 'the teacher pages (/teacher) and class limits'),
    'limits': ('limits', 'what one client may cost the app; the defaults suit a class'),
}

# Every flag but the limits, in the order --help lists them.
# fmt: off
FLAGS: tuple[Flag, ...] = (
    Flag('--host', fallback='127.0.0.1', help=
         'address the app listens on (default: 127.0.0.1, this machine only; use 0.0.0.0 to serve a class on your '
         'network)'),
    Flag('--port', type=int, fallback='8080', help='port of the lesson pages (default: 8080)'),
    Flag('--echo-port', type=int, fallback='8765', help=
         'port of the embedded WebSocket echo server the demos talk to (default: 8765; 0 picks a free one)'),
    Flag('--open', kind='switch', dest='open_browser', help=
         'open the lesson in a browser tab (default: on when there is a display)'),
    Flag('--storage-secret', help=
         'secret that signs the learner cookie, at least 32 characters (default: a random one, generated once and '
         'kept in the data directory)'),
    Flag('--data-dir', type=Path, help=
         'where progress and the generated secret are kept '
         '(default: $XDG_DATA_HOME/websocket-lesson or ~/.local/share/websocket-lesson)'),
    Flag('--content-dir', type=Path, help=
         'read lesson.md and quiz.toml from this folder instead of the bundled ones'),
    Flag('--allowed-origin', kind='list', dest='allowed_origins', env='ALLOWED_ORIGINS', help=
         'another page origin (scheme://host:port) allowed to use the echo server; repeat for more '
         '(default: only the app itself)'),
    Flag('--certfile', type=Path, help=
         'TLS certificate (PEM): serve the app over https:// and the echo server over wss://'),
    Flag('--keyfile', type=Path, help='TLS private key (PEM) matching --certfile'),
    Flag('--redis-url', group='deployment', help=
         'keep learner progress and class state in this Redis (redis://host:port/db, rediss:// or unix://), '
         'shared by every instance (default: files in the data directory)'),
    Flag('--public-echo-url', group='deployment', help=
         "where browsers reach this instance's echo server through the proxy: a path on the page's own origin "
         '(/echo-server) or an absolute ws:// or wss:// URL (default: the echo port at the host the page came from)'),
    Flag('--trusted-proxy', group='deployment', kind='list', dest='trusted_proxies', env='TRUSTED_PROXIES', help=
         'address or network (127.0.0.1, 10.0.0.0/8) of a proxy whose X-Forwarded-Host/-Proto or Forwarded '
         'headers name the address the browser used; repeat for more (default: none is believed)'),
    Flag('--teacher-token', group='teaching', help=
         f'secret in the teacher address (/teacher?token=...), at least {MIN_TEACHER_TOKEN_CHARS} letters, digits, '
         '- or _ (default: a random one, generated once and kept in the data directory)'),
    Flag('--rotate-teacher-token', group='teaching', kind='switch', help=
         'make a new teacher token (kept in the data directory) before serving: the old teacher address and every '
         'teacher cookie signed with it stop working'),
    Flag('--joins-per-minute-per-address', group='teaching', type=int, fallback='60', metavar='N', help=
         'joins one address may make per minute; a class behind one NAT joins from one address (default: 60; '
         '0: no limit)'),
    Flag('--learners-per-address', group='teaching', type=int, fallback='60', metavar='N', help=
         'learners present in a class from one address at most (default: 60; 0: no limit; raise it for a larger '
         'class behind one NAT)'),
    Flag('--max-learners', group='teaching', type=int, fallback=str(DEFAULT_MAX_LEARNERS), metavar='N', help=
         f'learners one class may hold; beyond, joining is refused (default: {DEFAULT_MAX_LEARNERS})'),
)
# fmt: on


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
    parser = argparse.ArgumentParser(prog='websocket-lesson', description=PARSER_DESCRIPTION)
    groups: dict[str, argparse._ActionsContainer] = {'': parser}
    groups |= {key: parser.add_argument_group(title, about) for key, (title, about) in GROUPS.items()}
    for flag in FLAGS:
        flag.add_to(groups[flag.group], environ)
    for limit in LIMITS:
        # a string default goes through `type` too, so a bad environment value is refused like a bad flag
        groups['limits'].add_argument(
            limit.flag,
            dest=limit.field,
            type=_bounded(limit),
            metavar='N',
            default=environ.get(limit.env, repr(limit.default) if limit.kind is float else str(limit.default)),
            help=limit.help_text,
        )
    # Listed for --help only: cli.main hands `bench ...` to demos.bench.command before this parser sees it.
    commands = parser.add_subparsers(title='subcommands', dest='command', metavar='{bench}')
    commands.add_parser(
        'bench',
        add_help=False,
        help='measure the echo server (polling vs push, a class under load); see: websocket-lesson bench --help',
    )
    return parser


REDIS_SCHEMES = ('redis://', 'rediss://', 'unix://')
PUBLIC_ECHO_SCHEMES = ('ws://', 'wss://')


def deployment_problems(redis_url: str | None, public_echo_url: str | None, proxies: Sequence[str]) -> list[str]:
    """What is wrong with the deployment flags, one sentence each (empty: nothing)."""
    problems = []
    if redis_url and not redis_url.startswith(REDIS_SCHEMES):
        problems.append(f'--redis-url must start with {", ".join(REDIS_SCHEMES)}, not {scheme_only(redis_url)}')
    elif redis_url and redacted(redis_url) == scheme_only(redis_url):
        problems.append(f'--redis-url does not parse (port, brackets or query): check {scheme_only(redis_url)}')
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


def _refuse_bad_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Stop with a usage error (exit 2) for flags that parse but cannot be used together or at all."""
    if args.command == 'bench':
        parser.error('bench is a subcommand of its own: put it first, as in websocket-lesson bench --help')
    if (args.certfile is None) != (args.keyfile is None):
        parser.error('--certfile and --keyfile go together')
    for name in ('port', 'echo_port'):
        if not 0 <= getattr(args, name) <= 65535:
            parser.error(f'--{name.replace("_", "-")} must be between 0 and 65535')
    if args.storage_secret is not None and (problem := secret_problem(args.storage_secret)):
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
    if args.teacher_token and args.rotate_teacher_token:
        parser.error('--rotate-teacher-token replaces the kept token; with --teacher-token, give a new one instead')
    if args.teacher_token is not None and (
        len(args.teacher_token) < MIN_TEACHER_TOKEN_CHARS or not _TEACHER_TOKEN.match(args.teacher_token)
    ):
        parser.error(
            f'--teacher-token must be at least {MIN_TEACHER_TOKEN_CHARS} letters, digits, - or _ (it goes in a URL)'
        )
    if not 1 <= args.max_learners <= 100_000:
        parser.error('--max-learners must be between 1 and 100000')
    for flag, value in (
        ('--joins-per-minute-per-address', args.joins_per_minute_per_address),
        ('--learners-per-address', args.learners_per_address),
    ):
        if not 0 <= value <= 100_000:
            parser.error(f'{flag} must be between 0 (no limit) and 100000')


def config_from_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    environ = os.environ if environ is None else environ
    parser = build_parser(environ)
    args = parser.parse_args(argv)
    _refuse_bad_flags(parser, args)
    data_dir = (args.data_dir or default_data_dir(environ)).expanduser().resolve()
    display = has_display(environ)
    open_browser = display if args.open_browser is None else args.open_browser
    return Config(
        host=args.host,
        port=args.port,
        # the echo server listens where the app listens: a class that reaches the pages reaches the demos
        echo_host=args.host,
        echo_port=args.echo_port,
        open_browser=open_browser,
        open_without_display=bool(args.open_browser) and not display,
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
        rotate_teacher_token=bool(args.rotate_teacher_token),
        max_learners=args.max_learners,
        joins_per_minute_per_address=args.joins_per_minute_per_address,
        learners_per_address=args.learners_per_address,
    )
