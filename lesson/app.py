"""Compose the app: content, pages, storage, and the embedded echo server's life cycle."""

from __future__ import annotations

import logging
import socket
import ssl
from pathlib import Path

from nicegui import app, ui
from nicegui.storage import Storage

from demos import static as demos_static
from demos.echo_server import EchoServer, EchoSettings

from .config import Config
from .content_files import bundled_content_dir, load_lesson, load_quiz
from .pages import demo as demo_page
from .pages import lesson as lesson_page
from .pages import quiz as quiz_page

log = logging.getLogger(__name__)

DEMOS_STATIC_URL = '/demos-static'
DEMOS_STATIC_DIR = Path(demos_static.__file__).resolve().parent


def app_scheme(config: Config) -> str:
    """How the app serves its pages: ``https`` with a certificate, else ``http``."""
    return 'https' if config.uses_tls else 'http'


def app_origins(config: Config, app_port: int) -> tuple[str, ...]:
    """The page origins always allowed to talk to the echo server: this app's loopback ones, plus the teacher's.

    Other addresses of a machine serving on ``0.0.0.0`` are allowed by the same-address rule of
    :mod:`demos.origins` (``EchoSettings.app_scheme``/``app_port``).
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
        raise CertificateError(f'cannot use the TLS certificate {config.certfile} with the key '
                               f'{config.keyfile}: {error.strerror or error}') from error
    return context


def echo_settings(config: Config, app_port: int) -> EchoSettings:
    """The echo server's limits and origin rule, from the command line."""
    return EchoSettings(
        allowed_origins=app_origins(config, app_port),
        app_scheme=app_scheme(config),
        app_port=app_port,
        max_message_bytes=config.max_message_bytes,
        max_connections=config.max_connections,
    )


def build(config: Config, echo_socket: socket.socket, app_port: int) -> EchoServer:
    """Load and validate content, register every page, and tie the echo server to the app's life cycle.

    Raises :class:`lesson.content.ContentError` before anything is served when content is broken, and
    :class:`CertificateError` when the TLS certificate cannot be loaded.
    """
    content_dir = config.content_dir or bundled_content_dir()
    lesson = load_lesson(content_dir)
    quiz = load_quiz(content_dir, lesson.anchors)

    ssl_context = echo_ssl_context(config)
    echo = EchoServer(echo_settings(config, app_port))

    async def start_echo() -> None:
        await echo.start(echo_socket, ssl_context)

    app.on_startup(start_echo)
    app.on_shutdown(echo.stop)
    app.add_static_files(DEMOS_STATIC_URL, DEMOS_STATIC_DIR)

    lesson_page.register(lesson, extras=[quiz_page.best_score_banner])
    quiz_page.register(quiz, lesson)
    demo_page.register(lesson, echo, config)
    return echo


def use_data_dir(data_dir: Path) -> None:
    """Keep learner progress in the configured data directory instead of ./.nicegui."""
    Storage.path = (data_dir / 'storage').resolve()
    Storage.path.mkdir(parents=True, exist_ok=True)
    app.storage = Storage()


def serve(config: Config, app_port: int) -> None:
    ssl = {'ssl_certfile': str(config.certfile), 'ssl_keyfile': str(config.keyfile)} if config.uses_tls else {}
    ui.run(
        host=config.host,
        port=app_port,
        title='WebSocket lesson',
        reload=False,
        show=config.open_browser,
        storage_secret=config.storage_secret,
        favicon='🔌',
        language='en-US',
        show_welcome_message=True,
        # open lesson tabs must not hold up Ctrl-C / SIGTERM: stop within a few seconds, whatever is connected
        timeout_graceful_shutdown=2,
        **ssl,
    )
