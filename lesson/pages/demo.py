"""The live demos page (`/demo`): polling against push, the echo console, and the lesson's own code, all
running in the learner's browser against the embedded echo server.

Each page load gets its own demo session on the echo server. The browser code lives in demos/static
(loaded as plain scripts, shown on the page as it runs); this module lays out the panels, drives the
session's feed in-process, and renders what the browser reports with `emitEvent` (received via `ui.on`).
"""

from __future__ import annotations

from uuid import uuid4

from nicegui import app, context, ui

from demos import frames
from demos.echo_server import EchoServer
from demos.handshake import check_handshake

from ..config import Config
from ..content import Lesson
from .demo_break_it import BreakItPanel
from .demo_console import EchoConsolePanel
from .demo_frames import FramePanel, HandshakePanel
from .demo_lanes import LanesPanel
from .demo_lesson_code import LessonCodePanel
from .demo_sources import ClientSource, read_client_sources, script_tags, show_python, show_source
from .layout import page_frame

STATIC_URL = '/demos-static'  # where lesson.app serves demos/static (imported from here it would be a cycle)
RESTART_DOWNTIME_S = 3.0
PRIMARY_COLOR = '#3949ab'  # indigo 600: 6.9:1 against white
# Pygments' default colours for comments, error names and regexes come out at 4.4:1 on the code background, just
# under WCAG AA's 4.5:1 (the lesson's snippet has none; the client files have all three). Same hues, a little darker,
# light mode only; the layout already fixes `new`/`typeof`.
_CODE_CONTRAST_CSS = '''
body:not(.body--dark) .codehilite .c1, body:not(.body--dark) .codehilite .cm { color: #2f6363; }
body:not(.body--dark) .codehilite .ne { color: #a8322c; }
body:not(.body--dark) .codehilite .sr { color: #87465f; }
'''
# Outline and flat buttons take the primary or negative colour as their text colour: fine on white, too dark on
# the dark theme's background (axe: 2.3:1). The same hues, light enough for 4.5:1 on the dark background.
_DEMO_CSS = '''
/* Quasar's `text-primary` is `color: var(--q-primary) !important` in a cascade layer that outranks a page's own
   !important, so the colour is changed where it comes from: the custom property, on these buttons only. */
.body--dark .q-btn.demo-outline, .body--dark .q-btn.demo-flat { --q-primary: #c5cae9; }
.body--dark .q-btn.demo-outline-negative { --q-negative: #ffb4ab; }
.demo-frame { border-left: .25rem solid; }
.demo-frame-out { border-left-color: #3949ab; }
.demo-frame-in { border-left-color: #15803d; }
.body--dark .demo-frame-out { border-left-color: #9fa8da; }
.body--dark .demo-frame-in { border-left-color: #86efac; }
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation-duration: .01ms !important; animation-iteration-count: 1 !important;
                           transition-duration: .01ms !important; scroll-behavior: auto !important; }
}
'''
SECTIONS = (('Polling or push', 'polling-vs-push'), ('Echo console', 'echo-console'),
            ('Inside the frames', 'frame-anatomy'), ('The handshake, computed', 'handshake-computed'),
            ('Break it and watch', 'break-it'), ("Run the lesson's code", 'run-the-lesson-code'),
            ('When the server goes away', 'server-goes-away'))


def _section(title: str, anchor: str, intro: str) -> ui.element:
    section = ui.element('section').classes('lesson-section w-full flex flex-col gap-3').props(f'id={anchor}')
    with section:
        with ui.element('h2').classes('text-2xl font-semibold mt-8'):
            ui.link(title, f'#{anchor}').classes('text-inherit no-underline') \
                .props(f'aria-label="{title} (link to this section)"')
        ui.markdown(intro).classes('lesson-prose w-full')
    return section


def _restart_control(echo: EchoServer, serves_a_class: bool) -> None:
    async def take_down() -> None:
        if not echo.is_serving:  # another tab took it down a moment ago
            status.set_text('The echo server is already down; it comes back by itself.')
            return
        button.disable()
        status.set_text(f'The echo server is down for {RESTART_DOWNTIME_S:g} s: watch both lanes and the console.')
        try:
            await echo.restart(RESTART_DOWNTIME_S)
        finally:
            button.enable()
        status.set_text('The echo server is back. The push socket and the console reconnect on their own.')

    with ui.row().classes('items-center gap-2 w-full flex-wrap'):
        button = ui.button(f'Take the echo server down for {RESTART_DOWNTIME_S:g} s', icon='power_settings_new',
                           on_click=take_down).props('outline color=negative') \
            .classes('demo-outline-negative').mark('echo-restart')
        status = ui.label('').classes('text-sm').props('data-status=restart aria-live=polite')
    if serves_a_class:
        # One server for the whole class: one learner's click would cut everyone's demos.
        button.disable()
        status.set_text('Switched off: this app serves other machines, and the server is shared by everyone.')


def register(lesson: Lesson, echo: EchoServer, config: Config) -> None:
    snippet = lesson.code('first-socket').source
    sources = read_client_sources()
    scripts = script_tags(STATIC_URL, sources)
    # The scheme follows the page's: an https page may only open wss:// sockets, and gets them.
    scheme_note = ('This app is served over TLS, so the demos use https:// and wss://.' if config.uses_tls else
                   'This app is served over plain http://, so the demos use ws://; over https:// they would '
                   'use wss://.')

    def source(name: str) -> ClientSource:
        return sources[name]

    @ui.page('/demo')
    def demo_page() -> None:
        session_id = uuid4().hex
        # The frame panel and the compression comparison both read the echo lane's frame log, which is opt-in.
        echo.session(session_id).watch_frames()
        # Quasar's default primary (#5898d4) gives white button text a 3:1 contrast; WCAG AA asks for 4.5:1.
        ui.colors(primary=PRIMARY_COLOR)
        ui.add_css(_CODE_CONTRAST_CSS + _DEMO_CSS)
        ui.add_head_html(scripts)
        with page_frame('Live demos', '/demo'):
            ui.html('Live demos', tag='h1').classes('text-3xl font-bold mt-2')
            ui.markdown(
                'Everything here really happens between **your browser** and the small server built into this '
                f'app (its echo port is **{echo.port}**). Nothing is simulated: the figures are what your browser '
                f'and the server measured. {scheme_note}'
            ).classes('lesson-prose w-full')
            with ui.element('nav').props('aria-label="Demos on this page"').classes('lesson-toc'), \
                    ui.element('ol').classes('list-decimal pl-6'):
                for title, anchor in SECTIONS:
                    with ui.element('li'):
                        ui.link(title, f'#{anchor}')

            with _section('Polling or push', 'polling-vs-push', (
                'Four ways to hear about news, on the same feed of prices. **Polling** sends a new HTTP request '
                'every interval asking “anything new?”; **long polling** asks once and the server holds the '
                'question until it has an update; **Server-Sent Events** keep one HTTP response open and the '
                'server writes each update into it; a **WebSocket** keeps one connection open in both directions '
                'and the server **pushes** each update the moment it is made. The echo server answers HTTP with '
                '`Connection: close`, so **each poll is a new TCP connection** (count them below); real sites '
                'often keep HTTP connections alive, which saves the connection set-up but not the asking. '
                'Delays run from the server making an update to your browser receiving it, on one clock: the '
                'page compares the two clocks NTP-style over the push socket.'
            )):
                lanes = LanesPanel(echo, session_id, app.storage.user)
                show_source(source('poller.js'), 'The polling and long-polling client: one fetch at a time.')
                show_source(source('sse_client.js'), 'The Server-Sent Events client: one EventSource.')
                show_source(source('pusher.js'), 'The push client: one socket, reconnecting with backoff.')
                show_source(source('clock_sync.js'), 'The clock comparison that makes the delays honest.')
                show_source(source('lanes.js'), 'Runs the four lanes and sends their samples to the page.')

            with _section('Echo console', 'echo-console', (
                "The lesson's sequence diagram, live. **Connect** performs the opening handshake (an HTTP "
                'request asking to upgrade, answered by `101 Switching Protocols`); **Send** puts a text frame '
                'on the socket and the server sends it straight back; **Disconnect** exchanges close frames. '
                'Whatever comes back is shown as text, never run as HTML.'
            )):
                console = EchoConsolePanel(echo, session_id)
                show_source(source('echo_console.js'), "The console's WebSocket, event by event.")

            with _section('Inside the frames', 'frame-anatomy', (
                'Every message travels in **frames**: a header of 2 to 14 bytes, then the payload. Below is each '
                'frame of the console\'s connection as the server read it off the socket. Frames from your '
                'browser are **masked** (a 4-byte key XORed over the payload, so the header is at least 6 bytes); '
                "the server's are not (2 bytes and up). The length takes one of three forms: try 125, 126 and "
                '65,536 bytes.'
            )):
                FramePanel(echo, session_id)
                show_python(frames._parse_header, 'How the server reads a header, bit by bit (demos/frames.py).')

            with _section('The handshake, computed', 'handshake-computed', (
                'Why is `Sec-WebSocket-Accept` what it is? The server appends a fixed GUID to the key your browser '
                'sent, hashes it with SHA-1 and answers with the base64 of the hash. A right answer proves the '
                'server understood *this* upgrade request, not a cache replaying an old one. Here it is worked '
                'out again from the last handshake of the console.'
            )):
                HandshakePanel(echo, session_id)
                show_python(check_handshake, 'The check, in Python (demos/handshake.py).')

            with _section('Break it and watch', 'break-it', (
                'Real connections end badly, stall and get compressed. Make the server do each of these to the '
                "console's connection and watch the console, the frame log and the figures below: a clean close "
                'has a code and a close frame; a dropped connection has neither (the browser reports 1006).'
            )):
                BreakItPanel(echo, session_id, console)
                show_source(source('break_it.js'), 'The burst and the compression comparison, in the browser.')

            with _section("Run the lesson's code", 'run-the-lesson-code', (
                'The snippet from [the lesson](/#opening-a-connection), run in this page. Only the address is '
                "changed, to this app's echo server; its `console.log` lines appear below. To make `onmessage` "
                'and `onclose` fire, the runner sends one message once the socket is open and closes it a '
                'moment after the echo arrives.'
            )):
                LessonCodePanel(snippet)
                show_source(source('lesson_runner.js'), 'How the snippet is run: its text, a console, a socket.')

            with _section('When the server goes away', 'server-goes-away', (
                'Servers restart. Take the echo server down for a few seconds and watch: the push socket and the '
                'console see their connection close (code 1001, going away) and try again with growing pauses '
                '(exponential backoff) until it is back; the polling side simply sees its requests fail and '
                "catches up from the feed's history afterwards."
            )):
                _restart_control(echo, serves_a_class=config.is_exposed)
                show_source(source('echo_link.js'), 'Addresses, timestamps and the backoff everyone uses.')
                show_source(source('demo_page.js'), 'The glue between these scripts and this page.')

        ui.run_javascript(lanes.setup_call())
        client = context.client

        def end_session() -> None:
            # The server forgets idle sessions by itself; stopping the feed now frees the ticker at once.
            echo.session(session_id).stop()

        client.on_delete(end_session)

