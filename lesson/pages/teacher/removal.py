"""Under the names on the board: how many joins were refused, and removing a learner (the teacher's answer to a
student who joins under a rude name or a script filling the class).

Removing frees the learner's place and blocks that browser (its learner id) from joining this class again; a new
class (Reset) forgets it. Three elements, changed in place when people come and go.
"""

from __future__ import annotations

from nicegui import ui

from lesson.pages.teacher.style import BUTTON_COLOR, tagged
from lesson.rules.classroom import Class, ClassroomRejected
from lesson.teaching.store import ClassStore


def refused_text(klass: Class | None) -> str:
    n = 0 if klass is None else klass.refused_joins
    return f'{n} join{"s" if n != 1 else ""} refused (class full, too many from one address, or removed)'


class RemovalControls:
    def __init__(self, store: ClassStore, presenting: bool) -> None:
        self.store = store
        self.presenting = presenting
        self.klass: Class | None = None
        self._refused: ui.label | None = None
        self._choice: ui.select | None = None

    def draw(self, klass: Class) -> None:
        with ui.row().classes('gap-3 items-center flex-wrap my-1'):
            self._refused = tagged(ui.label().classes('text-sm opacity-80'), 'board-refused')
            self._choice = tagged(ui.select({}, label='Learner').classes('w-56'), 'board-remove-choice')
            button = ui.button('Remove from the class', icon='person_remove', on_click=self._remove)
            # outlined as a lesser action; solid in presenter mode, where indigo on black would be unreadable
            look = f'color={BUTTON_COLOR}' if self.presenting else f'outline color={BUTTON_COLOR}'
            tagged(button.props(look), 'board-remove')
        self.update(klass)

    def update(self, klass: Class | None) -> None:
        self.klass = klass
        if self._refused is None or self._choice is None:
            return
        self._refused.set_text(refused_text(klass))
        present = () if klass is None else klass.present
        self._choice.set_options({learner.id: learner.name for learner in present})

    async def _remove(self) -> None:
        if self._choice is None or self.klass is None or not self._choice.value:
            ui.notify('Choose a learner first.')
            return
        learner = self.klass.learner(str(self._choice.value))
        try:
            await self.store.remove(self.klass.id, str(self._choice.value))
        except ClassroomRejected as refused:
            ui.notify(str(refused), type='negative')
            return
        self._choice.set_value(None)
        ui.notify(f'{learner.name if learner else "The learner"} was removed and cannot join this class again.')
