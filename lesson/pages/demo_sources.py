"""The code that runs, shown beside the panel it drives: an expansion that renders the file only when opened.

The text was read once at start-up (:mod:`lesson.web.client_files`), so what a learner reads is what their browser
runs. Rendering it only on demand keeps the page small: a dozen highlighted files are most of a page's weight,
and most learners open one or two.
"""

from __future__ import annotations

from collections.abc import Sequence

from nicegui import ui

from lesson.web.client_files import ClientSource, ServerSource


def code_block(text: str, name: str, language: str = 'javascript') -> ui.code:
    """ui.code that keyboard and screen-reader users can use: a named copy button (NiceGUI's has only an icon)
    and a scrolling area that takes focus, so long lines can be scrolled without a mouse."""
    code = ui.code(text, language=language).classes('w-full')
    code.copy_button.props(f'aria-label="Copy {name}"')
    code.markdown.props(f'tabindex=0 role=region aria-label="{name}"')
    return code


def show_sources(sources: Sequence[ClientSource | ServerSource]) -> None:
    """One expansion for the code behind a panel, titled with the file (or function) names; the full texts appear
    when it is opened."""
    names = ', '.join(source.name for source in sources)
    expansion = (
        ui.expansion(f'The code that runs: {names}', icon='code')
        .classes('w-full')
        # dotted module paths are long unbroken words: let them wrap on a phone instead of widening the page
        .style('overflow-wrap: anywhere')
        .props(f'data-source="{names}"')
    )

    def fill(_: object) -> None:
        if expansion.value and not expansion.default_slot.children:
            with expansion:
                for source in sources:
                    language = 'python' if isinstance(source, ServerSource) else 'javascript'
                    if len(sources) > 1:
                        ui.label(source.name).classes('font-mono font-semibold mt-2')
                    code_block(source.text, source.name, language).props(f'data-code="{source.name}"')

    expansion.on_value_change(fill)
