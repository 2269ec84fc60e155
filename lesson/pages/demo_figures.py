"""A figure on the demo page: a label for the learner, a value as text, and the raw number in `data-value`
(with the name in `data-figure`) so browser tests read what the learner reads without parsing prose."""

from __future__ import annotations

from nicegui import ui


class Figure:
    def __init__(self, name: str, label: str, unit: str = '') -> None:
        self.unit = unit
        ui.label(label).classes('text-sm opacity-80')
        self.value = ui.label('—').classes('font-mono text-right tabular-nums') \
            .props(f'data-figure="{name}" data-value=""').mark(f'figure-{name}')

    def show(self, number: float | None, decimals: int = 0, suffix: str = '') -> None:
        if number is None:
            self.value.set_text('—')
            self.value.props('data-value=""')
            return
        text = f'{number:,.{decimals}f}{f" {self.unit}" if self.unit else ""}{suffix}'
        if self.value.text != text:
            self.value.set_text(text)
            self.value.props(f'data-value="{number:.3f}"' if decimals else f'data-value="{int(number)}"')


def figure_grid() -> ui.element:
    """Two columns, label and value, that stay inside a 375 px phone screen."""
    return ui.element('div').classes('grid gap-x-3 gap-y-1 w-full').style('grid-template-columns: 1fr auto')
