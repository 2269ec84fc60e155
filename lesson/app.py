"""Compose the app: content, pages, storage, and the embedded echo server's life cycle."""

from __future__ import annotations

import dataclasses
import logging
import socket
from pathlib import Path

from nicegui import app, ui
from nicegui.storage import Storage

from demos.protocol import session_ids
from demos.server.echo_process import EchoProcess, EchoProcessSpec
from lesson.config import Config
from lesson.pages import deeper as deeper_page
from lesson.pages import demo as demo_page
from lesson.pages import join as join_page
from lesson.pages import lesson as lesson_page
from lesson.pages import quiz as quiz_page
from lesson.pages import rejoin as rejoin_page
from lesson.pages.teacher import router as teacher_pages
from lesson.pages.teacher.setup import setup_for as teacher_setup
from lesson.panels import console as console_panel
from lesson.panels import lanes as lanes_panel
from lesson.panels.break_it import BreakItPanel
from lesson.panels.frames import FramesPanel
from lesson.panels.handshake import HandshakePanel
from lesson.panels.lesson_code import LessonCodePanel
from lesson.panels.restart import RestartPanel
from lesson.rules.demo_content import DemoContent, parse_demo, parse_panel_texts
from lesson.storage import learner_files, redis_learner_dict
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz, read_content_file
from lesson.web import hardening, socket_events
from lesson.web.client_files import keep_components, read_client_sources, serve_client_files
from lesson.web.echo_config import echo_settings, echo_ssl_context

log = logging.getLogger(__name__)

DEMO_FILE = 'demo.md'
DEMO_PANELS_FILE = 'demo_panels.toml'


#: The custom components of the demo page, whose .js files are served from a copy (:func:`keep_components`).
PANELS = (
    lanes_panel.LanesPanel,
    console_panel.EchoConsolePanel,
    FramesPanel,
    HandshakePanel,
    BreakItPanel,
    LessonCodePanel,
    RestartPanel,
)


def build(config: Config, echo_socket: socket.socket, app_port: int) -> EchoProcess:
    """Load and validate content, start the echo process, and register every page.

    Raises :class:`lesson.rules.content.ContentError` before anything is served when content is broken, and
    :class:`CertificateError` when the TLS certificate cannot be loaded.
    """
    content_dir = config.content_dir or bundled_content_dir()
    lesson = load_lesson(content_dir)
    quiz = load_quiz(content_dir, lesson.anchors)
    demo = load_demo(content_dir)
    deeper = deeper_page.load(content_dir)
    echo_ssl_context(config)  # a bad certificate stops start-up here, in one line, not in the echo process
    client_sources = read_client_sources()
    page_sources = demo_page.DemoPageSources.read(client_sources)

    session_key = session_ids.new_key()
    settings = dataclasses.replace(
        echo_settings(config, app_port), session_key=session_key, learners_may_restart=not config.serves_others
    )
    echo = EchoProcess(echo_socket, EchoProcessSpec(settings, config.certfile, config.keyfile))
    # Started now, before the pages: its socket is already listening, so a page's first sockets wait in the
    # kernel's queue for the moment it accepts, never for a missing server.
    echo.start()
    if config.redis_url:  # several instances: learner progress in Redis, not in files
        redis_learner_dict.use_redis(config)
    learner_files.install(config)  # progress files that survive damage and expire (unless Redis keeps progress)
    hardening.install(config)  # security headers, the browser log filter
    socket_events.install()  # a page's events run only from its own socket (a teacher's: with the cookie)

    async def stop_echo() -> None:
        await echo.stop_async()

    app.on_shutdown(stop_echo)
    serve_client_files(client_sources)
    keep_components(PANELS)

    lesson_page.register(lesson, extras=[quiz_page.best_score_banner])
    deeper_page.register(deeper)  # the glossary and notes, linked from the lesson's end
    quiz_page.register(quiz, lesson)
    demo_page.register(
        demo,
        lesson.code('first-socket').source,
        page_sources,
        echo_port=echo.port,
        issue_session=lambda: session_ids.issue(session_key),
        may_restart=not config.serves_others,
        uses_tls=config.uses_tls,
        echo_base=config.public_echo_url,
    )
    # teaching a class: the board, join screen, exports (teacher token) and the learners' /join
    teacher_pages.register(teacher_setup(config, quiz, echo_port=echo.port, session_key=session_key, app_port=app_port))
    join_page.register()
    rejoin_page.register()  # the class-ended notice's one click into the new class
    return echo


def load_demo(content_dir: Path) -> DemoContent:
    """Read and check the demo page's text; every panel's texts must be there."""
    text, shown_path = read_content_file(content_dir, DEMO_FILE)
    title, lead, sections, lanes, panels = parse_demo(
        text,
        shown_path,
        anchors=demo_page.PANEL_ANCHORS,
        panel_keys={'lanes_panel': lanes_panel.TEXT_KEYS, 'console': console_panel.TEXT_KEYS},
    )
    panels_text, panels_path = read_content_file(content_dir, DEMO_PANELS_FILE)
    panels |= parse_panel_texts(
        panels_text,
        panels_path,
        {
            'frames': FramesPanel.TEXT_KEYS,
            'handshake': HandshakePanel.TEXT_KEYS,
            'break_it': BreakItPanel.TEXT_KEYS,
            'lesson_code': LessonCodePanel.TEXT_KEYS,
            'restart': RestartPanel.TEXT_KEYS,
        },
    )
    return DemoContent(title, lead, sections, lanes, panels)


def use_data_dir(data_dir: Path) -> None:
    """Keep learner progress in the configured data directory instead of ./.nicegui."""
    Storage.path = (data_dir / 'storage').resolve()
    Storage.path.mkdir(parents=True, exist_ok=True)
    app.storage = Storage()


def serve(config: Config, app_port: int) -> None:
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
        ssl_certfile=str(config.certfile) if config.uses_tls else None,
        ssl_keyfile=str(config.keyfile) if config.uses_tls else None,
        # header timeout on the page port (slowloris), Secure session cookie under TLS
        **hardening.server_options(config),
    )
