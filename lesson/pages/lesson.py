"""The lesson page (`/`): renders the parsed lesson; no lesson text lives here."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from nicegui import ui

from lesson.pages.layout import page_frame
from lesson.rules.content import Code, Diagram, Lesson, Prose, Section

# Called inside the page to add e.g. the learner's best quiz score; the quiz module registers it.
LessonExtras = Callable[[], None]

# A sequence diagram laid out narrow (labels wrapped within the actors' width) and shrunk to the column only when
# wider: at 375 px its text stays above 11 px and its Server side in view (drawn at its own size, one line per
# label, it was 601 px wide and scrolled sideways; shrunk whole, its text was 6 px).
DIAGRAM_CONFIG = {
    'sequence': {'useMaxWidth': True, 'wrap': True, 'width': 120, 'actorMargin': 80, 'diagramMarginX': 4},
    'flowchart': {'useMaxWidth': False},
}


def _attribute(text: str) -> str:
    return text.replace('"', "'")  # inside a double-quoted props value


def _render_diagram(diagram: Diagram, section: Section) -> None:
    """The diagram with its text alternative (Mermaid's accTitle/accDescr inside the SVG) and the same description
    as a visible caption, so sighted readers who cannot follow a sequence diagram get every step in words too."""
    label = _attribute(diagram.title or f'Diagram: {section.title}')
    with ui.element('figure').classes('w-full my-4'):
        # it may scroll sideways on a phone: keyboard users must be able to focus and scroll it too
        ui.mermaid(diagram.source, config=DIAGRAM_CONFIG).classes('lesson-diagram w-full').props(
            f'tabindex=0 role=region aria-label="{label}"'
        ).mark('lesson-diagram')
        if diagram.description:
            caption = f'<strong>{escape(diagram.title or section.title)}.</strong> {escape(diagram.description)}'
            ui.html(caption, tag='figcaption').classes('lesson-prose mt-2').mark('lesson-diagram-caption')


def render_section(section: Section) -> None:
    """One ``## Section {#anchor}`` of a page in the lesson's format: prose, diagrams and code."""
    with ui.element('section').classes('lesson-section w-full').props(f'id={section.anchor}'):
        with ui.element('h2').classes('text-2xl font-semibold mt-8 mb-3'):
            ui.link(section.title, f'#{section.anchor}').classes('text-inherit no-underline').props(
                f'aria-label="{section.title} (link to this section)"'
            )
        for block in section.blocks:
            match block:
                case Prose(markdown=text):
                    ui.markdown(text).classes('lesson-prose w-full')
                case Diagram() as diagram:
                    _render_diagram(diagram, section)
                case Code(language=language, source=source, id=code_id):
                    code = ui.code(source, language=language).classes('w-full my-4')
                    code.copy_button.props('aria-label="Copy the code"')
                    # on a phone the code scrolls sideways: keyboard users must be able to focus and scroll it
                    code.markdown.props('tabindex=0 role=region aria-label="Code sample"')
                    if code_id:
                        code.mark(f'code-{code_id}')


def render_toc(lesson: Lesson) -> None:
    with ui.element('nav').props('aria-label="Table of contents"').classes('lesson-toc my-4'):
        ui.label('On this page').classes('font-semibold')
        with ui.element('ol').classes('list-decimal pl-6'):
            for section in lesson.sections:
                with ui.element('li'):
                    ui.link(section.title, f'#{section.anchor}')


def register(lesson: Lesson, extras: list[LessonExtras]) -> None:
    @ui.page('/')
    def lesson_page() -> None:
        with page_frame(lesson.title, '/'):
            with ui.row().classes('gap-1 flex-wrap').props('aria-label="Topics"'):
                for tag in lesson.tags:
                    ui.chip(tag, icon='sell', color='indigo-1', text_color='indigo-10').props('dense').classes(
                        'text-sm'
                    )
            ui.html(escape(lesson.title), tag='h1').classes('text-3xl font-bold mt-2')
            if lesson.subtitle:
                ui.label(lesson.subtitle).classes('text-lg opacity-80')
            for extra in extras:
                extra()
            render_toc(lesson)
            for section in lesson.sections:
                render_section(section)
