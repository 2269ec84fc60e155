"""The browser code behind each demo, read from demos/static when the app starts, so the page shows the files
the browser really runs (not a copy that could drift)."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nicegui import ui

from demos import static as demos_static

# The package directory, in a checkout and once installed alike (pyproject ships *.js as package data).
STATIC_DIR = Path(demos_static.__file__).resolve().parent

# Load order matters: later files use what earlier ones put on window.wsDemo.
CLIENT_FILES = ('echo_link.js', 'clock_sync.js', 'poller.js', 'pusher.js', 'sse_client.js', 'lanes.js',
                'echo_console.js', 'break_it.js', 'lesson_runner.js', 'demo_page.js')


@dataclass(frozen=True)
class ClientSource:
    name: str
    text: str

    @property
    def version(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]


def read_client_sources(static_dir: Path = STATIC_DIR) -> dict[str, ClientSource]:
    return {name: ClientSource(name, (static_dir / name).read_text(encoding='utf-8')) for name in CLIENT_FILES}


def script_tags(static_url: str, sources: dict[str, ClientSource]) -> str:
    # A content hash in the URL: a browser never runs yesterday's file next to today's page.
    return '\n'.join(f'<script src="{static_url}/{source.name}?v={source.version}"></script>'
                     for source in sources.values())


def code_block(text: str, name: str, language: str = 'javascript') -> ui.code:
    """ui.code that keyboard and screen-reader users can use: a named copy button (NiceGUI's has only an icon)
    and a scrolling area that takes focus, so long lines can be scrolled without a mouse."""
    code = ui.code(text, language=language).classes('w-full')
    code.copy_button.props(f'aria-label="Copy {name}"')
    code.markdown.props(f'tabindex=0 role=region aria-label="{name}"')
    return code


def show_source(source: ClientSource, why: str) -> None:
    """An expansion with the file's full text, as the browser runs it."""
    with ui.expansion(f'The code that runs: {source.name}', icon='code').classes('w-full') \
            .props(f'data-source="{source.name}"').mark(f'source-{source.name}'):
        ui.label(why).classes('text-sm opacity-80')
        code_block(source.text, source.name).mark(f'code-{source.name}')


def show_python(function: Callable[..., Any], why: str) -> None:
    """An expansion with a server-side function's source, read from the module the server runs."""
    name = f'{function.__module__}.{function.__qualname__}'
    with ui.expansion(f'The code that runs: {name}', icon='code').classes('w-full') \
            .props(f'data-source="{name}"').mark(f'source-{name}'):
        ui.label(why).classes('text-sm opacity-80')
        code_block(inspect.getsource(function).rstrip('\n'), name, language='python').mark(f'code-{name}')
