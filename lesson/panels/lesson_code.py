"""Run the lesson's code: the lesson's own snippet, executed in the learner's page against the echo server.

``lesson_code_panel.js`` runs it with ``demos/static/lesson_runner.js`` (only the address changes), shows the text
that ran and the snippet's ``console.log`` lines. The snippet is read from ``content/lesson.md`` at start-up and
given here; the page server only builds the panel.
"""

from __future__ import annotations

from collections.abc import Mapping

from nicegui import ui

from lesson.panels.panel_texts import checked_texts
from lesson.panels.setup import DemoSetup

TEXT_KEYS: tuple[str, ...] = (
    'snippet_heading',
    'run',
    'message',
    'ran_heading',
    'log_title',
    'log_empty',
    'pause',
    'resume',
    'pause_label',
    'resume_label',
    'paused_empty',
    'held',
    'newer_below',
    'error',
    'done',
)


class LessonCodePanel(ui.element, component='lesson_code_panel.js'):
    TEXT_KEYS = TEXT_KEYS

    def __init__(self, setup: DemoSetup, texts: Mapping[str, str], *, snippet: str) -> None:
        super().__init__()
        self._props['setup'] = setup.as_props()
        self._props['texts'] = checked_texts('lesson_code', TEXT_KEYS, texts)
        self._props['snippet'] = snippet
