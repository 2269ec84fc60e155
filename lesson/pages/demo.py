"""The live demos page (`/demo`): polling against push, the echo console, the protocol's insides, all running in
the learner's browser against the echo server (its own process).

The page server builds the structure once per load: the prose of ``content/demo.md`` and one live panel per
section (:mod:`lesson.panels`), each given the page's demo session and its learner text. From then on every figure
is computed and drawn in the browser, fed by its own sockets and the inspection stream; the page server hears once
per run (the summary the quiz quotes). The code each panel runs is shown beside it, read once at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nicegui import background_tasks, ui

from demos.protocol import frames
from demos.protocol.handshake import check_handshake
from lesson.pages.demo_sources import show_sources
from lesson.pages.layout import page_frame
from lesson.pages.presenter import presenter_on
from lesson.panels.break_it import BreakItPanel
from lesson.panels.console import EchoConsolePanel
from lesson.panels.frames import FramesPanel
from lesson.panels.handshake import HandshakePanel
from lesson.panels.lanes import LanesPanel
from lesson.panels.lesson_code import LessonCodePanel
from lesson.panels.restart import RestartPanel
from lesson.panels.setup import DemoSetup
from lesson.rules.demo_content import DemoContent
from lesson.rules.progress import DEMO_RUN_KEY, DemoRun, demo_run_to_store
from lesson.storage.learner_store import learner_store
from lesson.teaching import membership as class_membership
from lesson.web.client_files import ClientSource, ServerSource, script_tags

PRIMARY_COLOR = '#3949ab'  # indigo 600: 6.9:1 against white
# Pygments' default colours for comments, error names and regexes come out at 4.4:1 on the code background, just
# under WCAG AA's 4.5:1. Same hues, a little darker, light mode only.
_CODE_CONTRAST_CSS = """
body:not(.body--dark) .codehilite .c1, body:not(.body--dark) .codehilite .cm { color: #2f6363; }
body:not(.body--dark) .codehilite .ne { color: #a8322c; }
body:not(.body--dark) .codehilite .sr { color: #87465f; }
"""
_DEMO_CSS = """
/* Quasar's `text-primary` is `color: var(--q-primary) !important` in a cascade layer that outranks a page's own
   !important, so the colour is changed where it comes from: the custom property, on these buttons only. */
.body--dark .q-btn.demo-outline, .body--dark .q-btn.demo-flat { --q-primary: #c5cae9; }
.body--dark .q-btn.demo-outline-negative { --q-negative: #ffb4ab; }
.demo-select, .demo-input { border: 1px solid rgba(127,127,127,.6); border-radius: .25rem; padding: .4rem .5rem;
                            min-height: 2.5rem; background: transparent; color: inherit; font: inherit; }
.body--dark .demo-select option { background: #1d1d1d; }
.demo-log { overflow-y: auto; display: flex; flex-direction: column; gap: .1rem; font-size: .875rem;
            border: 1px solid rgba(127,127,127,.35); border-radius: .25rem; padding: .25rem .5rem; }
.demo-newer { align-self: flex-start; font-size: .875rem; text-decoration: underline; color: inherit; }
.demo-swatch { display: inline-block; width: .9rem; height: .9rem; border-radius: .2rem; }
.demo-table-box { max-width: 100%; overflow-x: auto; }
.demo-lanes-table { width: 100%; border-collapse: collapse; font-size: .9rem; }
.demo-lanes-table th, .demo-lanes-table td { padding: .3rem .4rem; border-bottom: 1px solid rgba(127,127,127,.25);
                                             vertical-align: top; }
.demo-lanes-table thead th { text-align: right; font-weight: 600; }
.demo-lanes-table tbody th { text-align: left; font-weight: 400; }
.demo-lanes-table td { text-align: right; }
.demo-lanes-table .demo-status-row td { font-size: .8rem; overflow-wrap: break-word; }
.demo-lanes-table td.demo-more-cell { text-align: left; }
.demo-chart-box { max-width: 100%; overflow-x: auto; }
.demo-more { font-size: .875rem; text-decoration: underline; color: inherit; padding: .25rem 0; min-height: 24px; }
@media (max-width: 480px) { .demo-lanes-table { font-size: .8rem; } .demo-lanes-table th, .demo-lanes-table td {
  padding: .25rem .2rem; } }
.demo-chart { max-height: 18rem; }
.demo-chart text, .demo-sequence text { font-size: 11px; fill: currentColor; }
.demo-axis line { stroke: currentColor; stroke-opacity: .6; }
.demo-axis .demo-grid { stroke-opacity: .15; }
.demo-diagram-box { max-width: 100%; overflow-x: auto; }
.demo-sequence .demo-actor { font-weight: 600; font-size: 12px; }
.demo-sequence .demo-lifeline { stroke: currentColor; stroke-opacity: .4; stroke-dasharray: 4 3; }
.demo-sequence .demo-arrow { stroke: currentColor; stroke-width: 1.4; }
.demo-sequence .demo-arrow-reply { stroke-dasharray: 5 3; }
.demo-sequence .demo-note { font-style: italic; }
.demo-frame { border-left: .25rem solid; }
.demo-frame-out { border-left-color: #3949ab; }
.demo-frame-in { border-left-color: #15803d; }
.body--dark .demo-frame-out { border-left-color: #9fa8da; }
.body--dark .demo-frame-in { border-left-color: #86efac; }
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation-duration: .01ms !important; animation-iteration-count: 1 !important;
                           transition-duration: .01ms !important; scroll-behavior: auto !important; }
}
"""

#: The sections the page places a panel under, in page order.
PANEL_ANCHORS = (
    'polling-vs-push',
    'on-a-real-link',
    'echo-console',
    'frame-anatomy',
    'handshake-computed',
    'break-it',
    'run-the-lesson-code',
    'server-goes-away',
    'how-measured',
)


@dataclass(frozen=True)
class DemoPageSources:
    """The code shown beside the panels, read once at start-up."""

    client: dict[str, ClientSource]
    parse_header: ServerSource
    check_handshake: ServerSource

    @classmethod
    def read(cls, client: dict[str, ClientSource]) -> DemoPageSources:
        return cls(client, ServerSource.of(frames._parse_header), ServerSource.of(check_handshake))


def _section(content: DemoContent, anchor: str) -> ui.element:
    section = content.section(anchor)
    element = ui.element('section').classes('lesson-section w-full flex flex-col gap-3').props(f'id={anchor}')
    with element:
        with ui.element('h2').classes('text-2xl font-semibold mt-8'):
            ui.link(section.title, f'#{anchor}').classes('text-inherit no-underline').props(
                f'aria-label="{section.title} (link to this section)"'
            )
        for block in section.blocks:
            ui.markdown(getattr(block, 'markdown', '')).classes('lesson-prose w-full')
    return element


def keep_run(run: DemoRun) -> None:
    """Keep the run's summary in the learner's storage, for the quiz to quote, and count it for their class."""
    store = learner_store()
    store[DEMO_RUN_KEY] = demo_run_to_store(run)
    if class_membership.membership(store) is not None:
        background_tasks.create(class_membership.count_demo_run(store, run), name='class demo run')


def register(
    content: DemoContent,
    snippet: str,
    sources: DemoPageSources,
    *,
    echo_port: int,
    issue_session: Callable[[], str],
    may_restart: bool,
    uses_tls: bool,
    echo_base: str | None = None,
) -> None:
    """Register ``/demo``.

    Args:
        content: The page's learner text.
        snippet: The lesson's first-socket snippet, which the page runs.
        sources: The code shown beside the panels.
        echo_port: Where the browser reaches the echo server (at the page's own host).
        issue_session: Makes a new signed demo session id for each page load.
        may_restart: Whether a learner may take the echo server down (not when a class shares it).
        uses_tls: Whether the app serves https (the demos then use wss:// and https://).
        echo_base: Where browsers reach the echo server behind a proxy (``--public-echo-url``), else None.
    """
    scripts = script_tags(sources.client)
    scheme = 'wss' if uses_tls else 'ws'
    where = f'at {echo_base} (through the proxy)' if echo_base else f'{scheme}:// on port {echo_port}'

    @ui.page('/demo')
    def demo_page(presenter: str = '') -> None:
        if presenter:  # ?presenter=1: large type, high contrast, the four lanes side by side on a projector
            presenter_on()
        setup = DemoSetup(echo_port=echo_port, session=issue_session(), may_restart=may_restart, echo_base=echo_base)
        # Quasar's default primary (#5898d4) gives white button text a 3:1 contrast; WCAG AA asks for 4.5:1.
        ui.colors(primary=PRIMARY_COLOR)
        ui.add_css(_CODE_CONTRAST_CSS + _DEMO_CSS)
        ui.add_head_html(scripts)
        with page_frame(content.title, '/demo'):
            ui.html(content.title, tag='h1').classes('text-3xl font-bold mt-2')
            ui.markdown(content.lead).classes('lesson-prose w-full demo-intro')
            ui.label(f'Echo server: {where}.').classes('text-sm opacity-80 demo-intro').props(
                'data-echo-scheme=' + scheme
            )
            _contents(content)
            _panels(content, setup, sources, snippet)


def _contents(content: DemoContent) -> None:
    with (
        ui.element('nav').props('aria-label="Demos on this page"').classes('lesson-toc demo-intro'),
        ui.element('ol').classes('flex flex-wrap gap-x-4 gap-y-1 pl-0 list-none'),
    ):
        for anchor in PANEL_ANCHORS:
            with ui.element('li'):
                ui.link(content.section(anchor).title, f'#{anchor}')


#: The client files shown under the lanes panel, in the order they are read.
LANES_SOURCES = (
    'poller.js',
    'sse_client.js',
    'pusher.js',
    'clock_sync.js',
    'lanes.js',
    'figures.js',
    'link_reading.js',
    'delay_chart.js',
)


def _panels(content: DemoContent, setup: DemoSetup, sources: DemoPageSources, snippet: str) -> None:
    """Each demo in its section, with the code that runs it beside it."""
    texts = content.panels
    client = sources.client
    with _section(content, 'polling-vs-push'):
        LanesPanel(setup, content.lanes, texts['lanes_panel'], on_run=keep_run).classes('w-full')
        show_sources([client[name] for name in LANES_SOURCES])
    _section(content, 'on-a-real-link')  # the lanes panel's Link control: what it does, in words
    with _section(content, 'echo-console'):
        EchoConsolePanel(setup, texts['console']).classes('w-full')
        show_sources([client['echo_console.js']])
    with _section(content, 'frame-anatomy'):
        FramesPanel(setup, texts['frames']).classes('w-full')
        show_sources([sources.parse_header])
    with _section(content, 'handshake-computed'):
        HandshakePanel(setup, texts['handshake']).classes('w-full')
        show_sources([sources.check_handshake])
    with _section(content, 'break-it'):
        BreakItPanel(setup, texts['break_it']).classes('w-full')
        show_sources([client['break_it.js']])
    with _section(content, 'run-the-lesson-code'):
        LessonCodePanel(setup, texts['lesson_code'], snippet=snippet).classes('w-full')
        show_sources([client['lesson_runner.js']])
    with _section(content, 'server-goes-away'):
        RestartPanel(setup, texts['restart']).classes('w-full')
        show_sources([client['echo_link.js']])
    with _section(content, 'how-measured'):
        show_sources([client['demo_hub.js'], client['live_log.js']])
