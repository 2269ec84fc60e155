"""A live log a screen-reader or keyboard user can follow: entries keep coming, announcements do not flood.

The entries go into a ``role="log"`` region that does not speak each entry itself (``aria-live=off``): a log that
gets ten entries a second would read nothing else. Instead a polite live region says, at most every
:data:`ANNOUNCE_EVERY_S` seconds, how many entries came and what the latest one was. A pause button (a toggle with
``aria-pressed``) holds new entries back, so the log can be read in peace, and shows them all on resume. The log
itself takes keyboard focus, so its scrolled-away entries can be reached with the arrow keys.
"""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

ANNOUNCE_EVERY_S = 3.0
HELD_WHILE_PAUSED = 200  # entries kept back while paused; older ones are dropped, as the log would drop them


class LiveLog:
    """A titled log with pause/resume and throttled announcements; ``add`` an entry with a builder and a summary."""

    def __init__(self, title: str, name: str, *, max_entries: int = 200, classes: str = '') -> None:
        self.title = title
        self.max_entries = max_entries
        self.paused = False
        self._held: list[tuple[Callable[[], None], str]] = []
        self._unannounced = 0
        self._latest = ''
        with ui.row().classes('items-center justify-between w-full gap-2 flex-nowrap'):
            ui.label(title).classes('font-semibold')
            self.pause_button = ui.button('Pause', icon='pause', on_click=self.toggle_pause) \
                .props(f'flat dense no-caps aria-pressed=false aria-label="Pause the {title.lower()}" '
                       f'data-log-pause={name}').classes('demo-flat shrink-0').mark(f'{name}-log-pause')
        self.container = ui.column().classes(f'w-full gap-0 text-sm overflow-y-auto {classes}') \
            .props(f'role=log aria-live=off aria-label="{title}" tabindex=0 data-log={name}')
        # Polite and separate from the log: one short summary now and then, never an entry at a time.
        self.announcer = ui.label('').classes('sr-only').props(f'aria-live=polite data-log-announcer={name}')
        self.held_note = ui.label('').classes('text-sm opacity-80').props(f'data-log-held={name}')
        self.held_note.set_visibility(False)
        ui.timer(ANNOUNCE_EVERY_S, self._announce)

    def add(self, build: Callable[[], None], summary: str) -> None:
        """Show an entry (``build`` makes its elements inside the log), or hold it back while paused."""
        if self.paused:
            self._held = [*self._held, (build, summary)][-HELD_WHILE_PAUSED:]
            self.held_note.set_text(f'Paused: {len(self._held)} new entries waiting.')
            return
        self._show(build, summary)

    def clear(self) -> None:
        self.container.clear()
        self._held = []
        self._unannounced = 0

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self.pause_button.set_text('Resume' if self.paused else 'Pause')
        self.pause_button.props(f'icon={"play_arrow" if self.paused else "pause"} '
                                f'aria-pressed={"true" if self.paused else "false"}')
        self.held_note.set_visibility(self.paused)
        self.held_note.set_text('Paused: new entries wait here.')
        if not self.paused:
            held, self._held = self._held, []
            for build, summary in held:
                self._show(build, summary)

    def _show(self, build: Callable[[], None], summary: str) -> None:
        with self.container:
            build()
        children = self.container.default_slot.children
        while len(children) > self.max_entries:
            self.container.remove(children[0])
        self._unannounced += 1
        self._latest = summary

    def _announce(self) -> None:
        if not self._unannounced:
            return
        count, self._unannounced = self._unannounced, 0
        entries = 'entry' if count == 1 else 'entries'
        self.announcer.set_text(f'{self.title}: {count} new {entries}. Latest: {self._latest}')
