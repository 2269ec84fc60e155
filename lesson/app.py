"""Compose the app: content, pages, storage, and the embedded echo server's life cycle."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from nicegui import app, ui
from nicegui.storage import Storage

from demos import static as demos_static
from demos.echo_server import EchoServer

from . import hardening
from .config import Config
from .content_files import bundled_content_dir, load_lesson, load_quiz
from .echo_config import echo_settings, echo_ssl_context
from .pages import demo as demo_page
from .pages import lesson as lesson_page
from .pages import quiz as quiz_page

log = logging.getLogger(__name__)

DEMOS_STATIC_URL = '/demos-static'
DEMOS_STATIC_DIR = Path(demos_static.__file__).resolve().parent


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

    hardening.install(config)  # security headers, safe learner progress files, the browser log filter
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
        # header timeout on the page port (slowloris), Secure session cookie under TLS
        **hardening.server_options(config),
    )
