"""Several app instances behind HAProxy: the proxy's configuration, made from the list of instances (pure).

One public address serves everything: the pages and NiceGUI's socket.io at ``/``, each instance's echo server
(its WebSocket endpoints, polls, SSE and the inspection stream) under ``/echo-server/``, so a class needs one
port opened and TLS is ended once, at the proxy.

**Sticky by a cookie the proxy sets itself** (``cookie SERVERID insert indirect nocache``): the first answer to a
browser names the instance that served it, and from then on the page's socket.io connection and its echo
sockets carry that cookie to the same instance, from the very first request. The echo backend reads the same
cookie (same server names), so a page's demo session, which lives in one instance's echo process, is found.

Why not ``balance source`` (nginx's ``ip_hash``): a class sits behind one school router, so every learner has the
same public address and the whole class would land on one instance, the others idle. A cookie tells browsers
apart whatever their address.

**When an instance dies**: health checks every second (``fall 2``) take it out; ``option redispatch`` sends a
request whose cookie names a dead instance to a live one (which sets a new cookie). The learner's progress is in
Redis, so the live instance has it; NiceGUI's page reloads itself when its socket.io reconnects to an instance
that does not know it, and the new page gets a demo session from the new instance.

Run ``python -m lesson.web.deployment --help`` to write a configuration (``deploy/run-local.sh`` does).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

#: The path under which the proxy serves each instance's echo server (``--public-echo-url`` of every instance).
ECHO_PREFIX = '/echo-server'
#: The proxy's routing cookie.
COOKIE = 'SERVERID'
_NAME = re.compile(r'^[A-Za-z0-9_-]{1,32}$')
#: Forwarding headers a client may send and a server may believe, as HAProxy matches names (``-m beg``: every
#: ``X-Forwarded-*``); the proxy deletes them before adding its own.
CLIENT_FORWARDING_HEADERS = ('Forwarded', 'X-Forwarded- -m beg', 'X-Real-IP')
#: HAProxy's ``option httplog`` format (HAProxy 2.6 manual, 8.2.3), its request line ``%{+Q}r`` replaced by method,
#: path without the query (``%HPO``) and version.
HTTP_LOG_FORMAT = (
    '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs '
    '%{+Q}HM %{+Q}HPO %{+Q}HV'
)


@dataclass(frozen=True)
class Instance:
    """One app process as the proxy reaches it: its page port and its echo port on ``host``."""

    name: str
    host: str
    page_port: int
    echo_port: int

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f'an instance name is 1-32 letters, digits, - or _: {self.name!r}')
        for port in (self.page_port, self.echo_port):
            if not 0 < port < 65536:
                raise ValueError(f'port {port} of {self.name} is not between 1 and 65535')

    @classmethod
    def parse(cls, text: str) -> Instance:
        """``NAME=HOST:PAGE_PORT:ECHO_PORT``, e.g. ``app1=127.0.0.1:8081:8766``."""
        name, _, rest = text.partition('=')
        host, _, ports = rest.partition(':')
        page, _, echo = ports.partition(':')
        if not (name and host and page.isdigit() and echo.isdigit()):
            raise ValueError(f'expected NAME=HOST:PAGE_PORT:ECHO_PORT, not {text!r}')
        return cls(name, host, int(page), int(echo))


@dataclass(frozen=True)
class ProxySettings:
    """Where the proxy listens and how it watches the instances."""

    bind: str = '127.0.0.1:8080'
    #: A PEM file with certificate and key: the proxy serves https/wss and tells the instances so.
    tls_pem: str | None = None
    #: Health check period (ms) and how many failed checks take an instance out / successes bring it back.
    check_interval_ms: int = 1000
    check_fall: int = 2
    check_rise: int = 2
    #: How long an idle WebSocket, SSE stream or held long poll may stay open through the proxy.
    tunnel_timeout: str = '1h'
    #: The proxy's own log: ``stderr`` for a foreground process, or a syslog address.
    log_target: str = 'stderr'
    #: Where HAProxy's statistics page is served (``host:port``), or None for none.
    stats_bind: str | None = None
    #: A DNS server (``host:port``) to resolve instance names with while running, e.g. Docker's 127.0.0.11:53:
    #: a container that restarts may come back at another address.
    dns_resolver: str | None = None


def haproxy_config(instances: Sequence[Instance], settings: ProxySettings = ProxySettings()) -> str:
    """The whole ``haproxy.cfg`` (checked against HAProxy 2.6, Debian 12's)."""
    if not instances:
        raise ValueError('at least one instance is needed')
    if len({i.name for i in instances}) != len(instances):
        raise ValueError('instance names must differ: they are the values of the routing cookie')
    checks = f'inter {settings.check_interval_ms} fall {settings.check_fall} rise {settings.check_rise}'
    if settings.dns_resolver:
        checks += ' resolvers dns'
    lines = [
        '# Made by `python -m lesson.web.deployment` (lesson/web/deployment.py says why); regenerate, do not edit.',
        *_global_and_defaults(settings),
        *_resolvers(settings),
        *_frontend(settings),
        *_pages_backend(instances, settings, checks),
        *_echo_backend(instances, checks),
        *_stats(settings),
    ]
    return '\n'.join(lines) + '\n'


def _global_and_defaults(settings: ProxySettings) -> list[str]:
    return [
        'global',
        f'    log {settings.log_target} format raw local0 info',
        # a learner's page holds about 8 connections; 2 fds each through the proxy (fits ulimit -n 20000)
        '    maxconn 8000',
        '',
        'defaults',
        '    mode http',
        '    log global',
        # option httplog's format with the path instead of the request line: a query (a teacher's ?token=, a demo
        # session id) never reaches the log
        f'    log-format "{HTTP_LOG_FORMAT}"',
        '    option dontlognull',
        # a request whose cookie names a dead instance goes to a live one instead of failing
        '    option redispatch',
        '    retries 2',
        '    timeout connect 2s',
        # slow request headers are cut at the proxy, as the app cuts them (--header-timeout)
        '    timeout http-request 10s',
        '    timeout http-keep-alive 10s',
        # SSE streams and long polls are plain HTTP answers that stay open: as long as WebSockets (tunnel)
        f'    timeout client {settings.tunnel_timeout}',
        f'    timeout server {settings.tunnel_timeout}',
        f'    timeout tunnel {settings.tunnel_timeout}',
        '    timeout client-fin 5s',
        '    timeout server-fin 5s',
        '',
    ]


def _resolvers(settings: ProxySettings) -> list[str]:
    if not settings.dns_resolver:
        return []
    return ['resolvers dns', f'    nameserver dns1 {settings.dns_resolver}', '    hold valid 5s', '']


def _frontend(settings: ProxySettings) -> list[str]:
    scheme = 'https' if settings.tls_pem else 'http'
    bind = f'bind {settings.bind}' + (f' ssl crt {settings.tls_pem} alpn http/1.1' if settings.tls_pem else '')
    return [
        'frontend lesson',
        f'    {bind}',
        # the instances believe these headers from the proxy (--trusted-proxy): what a browser sent is deleted, so
        # they hold only what the proxy writes (RFC 7239 Forwarded first: the instances read it before X-Forwarded-*)
        *(f'    http-request del-header {name}' for name in CLIENT_FORWARDING_HEADERS),
        # the app's control channel is for the app on the instance's own machine, never for a browser
        f'    http-request deny deny_status 403 if {{ path_beg {ECHO_PREFIX}/control }}',
        # what the browser asked for, for the instances' origin rule
        '    option forwardfor',
        f'    http-request set-header X-Forwarded-Proto {scheme}',
        '    http-request set-header X-Forwarded-Host %[req.hdr(host)]',
        f'    acl to_echo path_beg {ECHO_PREFIX}/',
        '    use_backend echo if to_echo',
        '    default_backend pages',
        '',
    ]


def _pages_backend(instances: Sequence[Instance], settings: ProxySettings, checks: str) -> list[str]:
    return [
        'backend pages',
        '    balance roundrobin',
        # set on the first answer, so a page's socket.io and echo sockets reach the instance that made the page
        f'    cookie {COOKIE} insert indirect nocache httponly attr SameSite=Lax'
        + (' secure' if settings.tls_pem else ''),
        '    option httpchk',
        '    http-check send meth GET uri /favicon.ico',
        '    http-check expect status 200',
        # a name that does not resolve yet (a container still starting) is a server down, not a failed start
        f'    default-server check {checks} init-addr libc,none',
        *(f'    server {i.name} {i.host}:{i.page_port} cookie {i.name}' for i in instances),
        '',
    ]


def _echo_backend(instances: Sequence[Instance], checks: str) -> list[str]:
    return [
        'backend echo',
        '    balance roundrobin',
        # read only: the pages backend set it; the same names lead to the same instance's echo server
        f'    cookie {COOKIE}',
        f'    http-request replace-path ^{ECHO_PREFIX}(/.*)$ \\1',
        '    option httpchk',
        '    http-check send meth GET uri /clock',
        '    http-check expect status 200',
        # a name that does not resolve yet (a container still starting) is a server down, not a failed start
        f'    default-server check {checks} init-addr libc,none',
        *(f'    server {i.name} {i.host}:{i.echo_port} cookie {i.name}' for i in instances),
    ]


def _stats(settings: ProxySettings) -> list[str]:
    if not settings.stats_bind:
        return []
    return [
        '',
        'frontend stats',
        f'    bind {settings.stats_bind}',
        '    stats enable',
        '    stats uri /',
        '    stats refresh 2s',
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m lesson.web.deployment', description='Write the HAProxy configuration for N app instances.'
    )
    parser.add_argument('--bind', default='127.0.0.1:8080', help='where the proxy listens (default: %(default)s)')
    parser.add_argument(
        '--instance',
        dest='instances',
        action='append',
        type=Instance.parse,
        required=True,
        metavar='NAME=HOST:PAGE_PORT:ECHO_PORT',
        help='one app instance; repeat for each',
    )
    parser.add_argument('--tls-pem', help='certificate and key in one PEM file: serve https:// and wss://')
    parser.add_argument('--stats', help='host:port of HAProxy statistics page (default: none)')
    parser.add_argument('--log', default='stderr', help='HAProxy log target (default: %(default)s)')
    parser.add_argument('--dns', help='DNS server host:port to resolve instance names with while running')
    args = parser.parse_args(argv)
    try:
        text = haproxy_config(
            args.instances,
            ProxySettings(
                bind=args.bind, tls_pem=args.tls_pem, stats_bind=args.stats, log_target=args.log, dns_resolver=args.dns
            ),
        )
    except ValueError as error:
        parser.error(str(error))
    sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
