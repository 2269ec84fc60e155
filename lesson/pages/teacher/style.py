"""How the teacher's pages look: their stylesheet, colours, and the names the tests find elements by."""

from __future__ import annotations

from typing import TypeVar

from nicegui import ui

from lesson.rules.classroom import Class, ClassInfo

T = TypeVar('T', bound=ui.element)

# white text at 4.5:1 or better (WCAG AA), as on the quiz page
BUTTON_COLOR = 'indigo-8'
# links at 4.5:1 or better on white (presenter mode recolours every link)
LINK = 'text-indigo-800 underline'

CSS = """
.board-bar { height: 1.6rem; background: #3949ab; border-radius: .2rem; min-width: 2px; }
.board-bar-right { background: #15803d; }
.board-row { display: grid; grid-template-columns: minmax(8rem, 22rem) 1fr 3rem 8.5rem; gap: .5rem;
             align-items: center; }
.board-lanes { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .75rem; }
.join-address { font-size: clamp(2rem, 6vw, 4.5rem); font-weight: 700; word-break: break-all; line-height: 1.1; }
.join-count { font-size: clamp(1.5rem, 4vw, 3rem); font-weight: 600; }
.join-qr svg { display: block; width: min(52vh, 45vw); height: auto; background: #fff; }
"""


def tagged(element: T, name: str) -> T:
    """Named for the tests: a marker for NiceGUI's user fixture, ``data-testid`` for the browser tests."""
    return element.mark(name).props(f'data-testid={name}')


def when(klass: Class | ClassInfo) -> str:
    return f'{klass.started_at:%Y-%m-%d %H:%M} UTC'
