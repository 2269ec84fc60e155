"""The browser code of the demos (``demos/static/*.js``): read once at start-up, served from memory, shown as it runs.

Reading once means the page keeps working when the installed package changes under a running app (a reinstall
replaces the files; a page built from a request-time read would fail or show a different file than it serves), and
the code a learner reads is byte for byte the code their browser runs. Only the files listed here are served:
nothing else of the package (``__init__.py``, caches) is reachable over HTTP.
"""

from __future__ import annotations

import atexit
import hashlib
import inspect
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import Response
from nicegui import app, ui

from demos import static as demos_static

STATIC_URL = '/demos-static'
# The package directory, in a checkout and once installed alike (pyproject ships *.js as package data).
STATIC_DIR = Path(demos_static.__file__).resolve().parent
# Load order matters: later files use what earlier ones put on window.wsDemo.
CLIENT_FILES = (
    'echo_link.js',
    'figures.js',
    'clock_sync.js',
    'poller.js',
    'pusher.js',
    'sse_client.js',
    'lanes.js',
    'link_reading.js',
    'delay_chart.js',
    'echo_console.js',
    'break_it.js',
    'lesson_runner.js',
    'live_log.js',
    'demo_hub.js',
)


@dataclass(frozen=True)
class ClientSource:
    """One file as it was read at start-up."""

    name: str
    text: str

    @property
    def version(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class ServerSource:
    """A server-side function's source, read at start-up, for the page to show beside the panel it drives."""

    name: str
    text: str

    @classmethod
    def of(cls, function: Callable[..., Any]) -> ServerSource:
        return cls(f'{function.__module__}.{function.__qualname__}', inspect.getsource(function).rstrip('\n'))


def read_client_sources(static_dir: Path = STATIC_DIR) -> dict[str, ClientSource]:
    return {name: ClientSource(name, (static_dir / name).read_text(encoding='utf-8')) for name in CLIENT_FILES}


def script_tags(sources: dict[str, ClientSource]) -> str:
    # A content hash in the URL: a browser never runs yesterday's file next to today's page.
    return '\n'.join(
        f'<script src="{STATIC_URL}/{source.name}?v={source.version}"></script>' for source in sources.values()
    )


def serve_client_files(sources: dict[str, ClientSource], web_app: FastAPI = app) -> None:
    """Answer ``GET /demos-static/NAME`` with the text read at start-up; any other name is a 404."""

    @web_app.get(STATIC_URL + '/{name}', include_in_schema=False)
    def client_file(name: str, v: str = '') -> Response:
        source = sources.get(name)
        if source is None:
            raise HTTPException(status_code=404)
        # The versioned URL never changes content: cache it for good. An unversioned one is checked each time.
        caching = 'public, max-age=31536000, immutable' if v == source.version else 'no-cache'
        return Response(
            source.text,
            media_type='text/javascript; charset=utf-8',
            headers={'Cache-Control': caching, 'ETag': f'"{source.version}"'},
        )


def keep_components(element_classes: Iterable[type[ui.element]]) -> Path:
    """Serve these custom components' ``.js`` from a copy made now, not from the installed package.

    NiceGUI reads a component's file on every request, from where the package is installed; a reinstall under a
    running app (say, from a regular install to an editable one) removes that file and the panels would 404. The
    copy lives in a private folder until the app exits. Returns the folder.
    """
    folder = Path(tempfile.mkdtemp(prefix='websocket-lesson-panels-'))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for element_class in element_classes:
        component = element_class.component
        if component is None:
            continue
        copy = folder / component.path.name
        shutil.copyfile(component.path, copy)
        component.path = copy
    return folder
