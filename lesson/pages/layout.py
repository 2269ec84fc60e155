"""The frame every page shares: header with navigation, a remembered dark-mode switch, a readable column.

Importing it also sets the one button style of the app: sentence case (Quasar's default is ALL CAPS), since every
page imports this module before it makes a button.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import app, ui

from lesson.pages.class_notice import class_notice
from lesson.storage.learner_store import DARK_MODE_KEY

# One button style everywhere: labels as written ("Submit answers"), not Quasar's upper case.
ui.button.default_props('no-caps')

NAV_LINKS = (('Lesson', '/'), ('Live demos', '/demo'), ('Quiz', '/quiz'))

_CSS = """
.lesson-column { width: 100%; max-width: 60rem; margin: 0 auto; padding: 1rem; box-sizing: border-box; }
.lesson-prose { font-size: 1.05rem; line-height: 1.65; overflow-wrap: anywhere; }
.lesson-prose table { border-collapse: collapse; width: 100%; }
.lesson-prose th, .lesson-prose td { border: 1px solid rgba(127,127,127,.45); padding: .5rem; vertical-align: top; }
.lesson-prose a, .lesson-toc a { color: #1d4ed8; text-decoration: underline; }
.body--dark .lesson-prose a, .body--dark .lesson-toc a { color: #93c5fd; }
.lesson-section { scroll-margin-top: 4.5rem; }
.nicegui-code { max-width: 100%; }
/* the copy button sits in a strip of its own above the code, so it never covers the first line on a phone */
.nicegui-code { padding-top: 2.25rem; }
.nicegui-code .nicegui-code-copy { top: .25rem; opacity: .7; }
/* the bundled highlighter's keyword-operator colour (e.g. `new`) is too faint on its light background */
.nicegui-code .codehilite .ow { color: #7e22ce; }
.body--dark .nicegui-code .codehilite .ow { color: #d8b4fe; }
/* diagrams keep their drawn size (readable text) and scroll sideways inside their own box on a narrow screen */
.lesson-diagram { max-width: 100%; overflow-x: auto; overflow-y: hidden; }
.lesson-diagram svg { display: block; margin: 0 auto; max-width: none; }
"""


@contextmanager
def page_frame(title: str, current_path: str) -> Iterator[None]:
    """Render the shared header and yield inside the main content column."""
    ui.page_title(f'{title} · WebSocket lesson')
    ui.add_css(_CSS)
    dark = ui.dark_mode()
    dark.bind_value(app.storage.user, DARK_MODE_KEY)
    with ui.header().classes('items-center justify-between flex-wrap gap-2 px-4 py-2 bg-indigo-900'):
        ui.link('WebSocket lesson', '/').classes('text-white text-lg font-bold no-underline')
        with ui.element('nav').props('aria-label="Main"').classes('flex items-center gap-1 flex-wrap'):
            for label, path in NAV_LINKS:
                link = ui.link(label, path).classes('text-white px-2 py-1 rounded no-underline')
                if path == current_path:
                    link.classes('bg-indigo-700').props('aria-current="page"')
            ui.switch('Dark').bind_value(dark, 'value').props('color=white keep-color dark').classes('text-white').mark(
                'dark-mode-switch'
            )
    # NiceGUI's page is already the <main> landmark; a second one would confuse screen readers
    with ui.element('div').classes('lesson-column'):
        class_notice(current_path)  # hidden until the learner's class ends; the reset is pushed to it
        yield
