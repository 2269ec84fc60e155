"""Presenter mode (``?presenter=1``): large type and high contrast for a projector, the demo's four lanes side by
side at 1280 x 720. One stylesheet for the class board, the join screen and ``/demo``; pages add it with the
``presenter`` class on ``<body>``."""

from __future__ import annotations

from nicegui import ui

CSS = """
body.presenter { font-size: 20px; background: #000; color: #fff; }
/* the utility sizes are rem (16 px); on the projector each a step larger, in proportion */
body.presenter .text-sm { font-size: 1.05rem; }
body.presenter .text-lg { font-size: 1.4rem; }
body.presenter .text-xl { font-size: 1.6rem; }
body.presenter .text-3xl { font-size: 2.4rem; }
body.presenter .board-delay { font-size: 1.4rem; }
body.presenter .q-page, body.presenter .q-card, body.presenter .q-layout { background: #000; color: #fff; }
body.presenter .q-card { border: 2px solid #fff; }
body.presenter .lesson-column { max-width: none; padding: .75rem 1.25rem; }
body.presenter .lesson-prose { font-size: 1.2rem; }
body.presenter .opacity-80 { opacity: 1; }
body.presenter a, body.presenter .lesson-prose a { color: #ffd54f; }
body.presenter .board-bar { background: #90caf9; }
body.presenter .board-bar-right { background: #69f0ae; }
body.presenter .join-address { font-size: clamp(2.5rem, 7vw, 5.5rem); color: #ffd54f; }
/* the four lanes side by side from 1000 px (a 1280 x 720 projector), not only from Tailwind's xl (1280 px) */
@media (min-width: 1000px) {
  body.presenter .demo-lanes { grid-template-columns: repeat(4, minmax(0, 1fr)); }
}
body.presenter .demo-lanes .text-sm { font-size: 1rem; }
/* on a projector the lanes table is what the class looks at: the page's introductions make way (above the fold) */
body.presenter .demo-intro, body.presenter #polling-vs-push > .nicegui-markdown { display: none; }
body.presenter [data-panel=lanes] table, body.presenter [data-panel=lanes] table .text-sm { font-size: 1.2rem; }
/* Quasar's fields draw dark text for a light page */
body.presenter .q-field__native, body.presenter .q-field__label, body.presenter .q-select__dropdown-icon,
body.presenter .q-field__marginal { color: #fff; }
body.presenter .q-field--standard .q-field__control:before { border-color: #fff; }
"""


def presenter_on() -> None:
    """Switch the page being built to presenter mode."""
    ui.add_css(CSS)
    ui.query('body').classes('presenter')
