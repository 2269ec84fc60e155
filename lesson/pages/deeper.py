"""The "Going deeper" page (`/deeper`): a glossary and short sourced notes, linked from the lesson's end.

It reads ``content/deeper.md``, written in the lesson's own format, and draws it with the lesson page's section
renderer, so a writer adds a note or a term there without touching Python.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from nicegui import ui

from lesson.pages.layout import page_frame
from lesson.pages.lesson import render_section, render_toc
from lesson.rules.content import Lesson, parse_lesson
from lesson.storage.content_files import read_content_file

DEEPER_FILE = 'deeper.md'
PATH = '/deeper'


def load(content_dir: Path) -> Lesson:
    """Read and check the page's text; a mistake stops start-up with the file and the line, as for the lesson."""
    text, shown_path = read_content_file(content_dir, DEEPER_FILE)
    return parse_lesson(text, shown_path)


def register(page: Lesson) -> None:
    @ui.page(PATH)
    def deeper_page() -> None:
        with page_frame(page.title, PATH):
            ui.html(escape(page.title), tag='h1').classes('text-3xl font-bold mt-2')
            if page.subtitle:
                ui.label(page.subtitle).classes('text-lg opacity-80')
            render_toc(page)
            for section in page.sections:
                render_section(section)
