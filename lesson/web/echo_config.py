"""How the app's configuration becomes the echo server's: its limits, its origin rule and its TLS context."""

from __future__ import annotations

import math
import ssl

from demos.server.echo_server import EchoSettings
from lesson.config import Config


def app_scheme(config: Config) -> str:
    """How the app serves its pages: ``https`` with a certificate, else ``http``."""
    return 'https' if config.uses_tls else 'http'


def app_origins(config: Config, app_port: int) -> tuple[str, ...]:
    """The page origins always allowed to talk to the echo server: this app's loopback ones, plus the teacher's.

    Other addresses of a machine serving on ``0.0.0.0`` are allowed by the same-address rule of
    :mod:`demos.protocol.origins` (``EchoSettings.app_scheme``/``app_port``).
    """
    scheme = app_scheme(config)
    hosts = {config.host}
    if config.host in {'127.0.0.1', 'localhost', '0.0.0.0', '::', '::1'}:
        hosts |= {'127.0.0.1', 'localhost'}
    # an IPv6 address goes in brackets in a URL: http://[::1]:8080
    in_url = (f'[{host}]' if ':' in host else host for host in hosts)
    return tuple(sorted(f'{scheme}://{host}:{app_port}' for host in in_url)) + config.allowed_origins


class CertificateError(Exception):
    """``--certfile``/``--keyfile`` cannot be used: missing, unreadable, not PEM, or not a matching pair."""


def echo_ssl_context(config: Config) -> ssl.SSLContext | None:
    """The echo server's TLS context, from the app's own certificate (``--certfile``/``--keyfile``), or None.

    Raises:
        CertificateError: when the files cannot be read or do not match.
    """
    if not config.uses_tls:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile=str(config.certfile), keyfile=str(config.keyfile))
    except OSError as error:  # ssl.SSLError is one too
        raise CertificateError(
            f'cannot use the TLS certificate {config.certfile} with the key {config.keyfile}: {error.strerror or error}'
        ) from error
    return context


def _off_when_zero(seconds: float) -> float | None:
    """A keepalive setting of 0 on the command line is ``None`` for websockets: no pings, or no pong deadline."""
    return seconds or None


def echo_settings(config: Config, app_port: int) -> EchoSettings:
    """The echo server's limits and origin rule, from the command line."""
    return EchoSettings(
        allowed_origins=app_origins(config, app_port),
        trusted_proxies=config.trusted_proxies,
        app_scheme=app_scheme(config),
        app_port=app_port,
        max_message_bytes=config.max_message_bytes,
        max_connections=config.max_connections,
        # 0 means no limit. An infinite rate refills the bucket at once, so MessageRateLimiter (which refuses
        # a rate of 0) lets every message through without a special case.
        messages_per_s=config.messages_per_s or math.inf,
        message_burst=config.message_burst,
        listen_backlog=config.listen_backlog,
        write_limit_bytes=config.write_limit_bytes,
        push_backlog_limit_bytes=config.push_backlog_limit_bytes,
        ping_interval_s=_off_when_zero(config.ping_interval_s),
        ping_timeout_s=_off_when_zero(config.ping_timeout_s),
        open_timeout_s=config.open_timeout_s,
        close_timeout_s=config.close_timeout_s,
        max_sessions=config.max_sessions,
        session_idle_timeout_s=config.session_idle_timeout_s,
        poll_batch_limit=config.poll_batch_limit,
        sessions_per_minute_per_address=config.sessions_per_minute_per_address,
        connections_per_address=config.connections_per_address,
        sessions_per_address=config.sessions_per_address,
        pending_per_address=config.pending_per_address,
        request_timeout_s=config.request_timeout_s,
        max_queue_messages=config.max_queue_messages,
        socket_buffer_bytes=config.socket_buffer_bytes,
    )
