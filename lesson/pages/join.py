"""The learner's join page (`/join`): an optional nickname, then the quiz and the demos count for the class.

No account and no other personal data: the nickname (or "Learner 7") is all the class sees, and it is shown as
text everywhere. The membership lives in the learner's own storage (:mod:`lesson.teaching.membership`).
"""

from __future__ import annotations

from nicegui import ui

from lesson.pages.class_store_wait import FOR_LEARNERS, StoreUnreachable, read_class, unreachable
from lesson.pages.layout import page_frame
from lesson.rules.classroom import CLASS_ENDED, REMOVED, ClassroomRejected
from lesson.rules.nicknames import NICKNAME_MAX_CHARS
from lesson.storage.learner_store import learner_store
from lesson.teaching import membership as class_membership

BUTTON_COLOR = 'indigo-8'


class JoinView:
    def __init__(self) -> None:
        self.error: ui.label | None = None

    @ui.refreshable_method
    async def show(self) -> None:
        store = class_membership.active_store()
        try:
            current = None if store is None else await read_class(store.current())
        except StoreUnreachable:
            unreachable(FOR_LEARNERS)
            return
        member = class_membership.membership(learner_store())
        if current is None:
            ui.label(
                'No class is running right now. You can still read the lesson, run the demos and take the quiz '
                'on your own.'
            ).classes('text-lg').mark('join-none').props('data-testid=join-none')
            return
        known = None if member is None else current.learner(member.learner_id)
        if known is not None and known.removed:
            ui.label(REMOVED).classes('text-lg').mark('join-removed').props('data-testid=join-removed')
            return
        if member is not None and member.class_id == current.id and known is not None and known.present:
            ui.label(f'You are in the class as {member.name}.').classes('text-xl font-semibold').mark(
                'join-joined'
            ).props('data-testid=join-joined')
            ui.label('Your quiz attempts and demo runs now count for the class; you see only your own answers.')
            with ui.row().classes('gap-3 my-2'):
                ui.link('Take the quiz', '/quiz').classes('text-lg underline').mark('join-quiz-link').props(
                    'data-testid=join-quiz-link'
                ).props('data-testid=join-quiz-link')
                ui.link('Run the demos', '/demo').classes('text-lg underline')
            ui.button('Leave the class', on_click=self._leave).props('outline no-caps').mark('join-leave').props(
                'data-testid=join-leave'
            ).props('data-testid=join-leave')
            return
        if member is not None:
            ui.label(CLASS_ENDED).classes('text-lg').mark('join-ended').props('data-testid=join-ended')
        ui.label('Choose a nickname the class will see, or leave it empty to be shown as "Learner" and a number.')
        nickname = (
            ui.input('Nickname (optional)', validation={f'At most {NICKNAME_MAX_CHARS} characters': _short_enough})
            .props(f'maxlength={NICKNAME_MAX_CHARS} counter autocomplete=off')
            .classes('w-80')
            .mark('join-nickname')
            .props('data-testid=join-nickname')
            .props('data-testid=join-nickname')
        )
        self.error = (
            ui.label()
            .classes('text-red-800 font-medium')
            .props('role=alert')
            .mark('join-error')
            .props('data-testid=join-error')
            .props('data-testid=join-error')
        )
        ui.button('Join the class', icon='login', on_click=lambda: self._join(nickname.value)).props(
            f'color={BUTTON_COLOR}'
        ).mark('join-button').props('data-testid=join-button')

    async def _join(self, nickname: str | None) -> None:
        try:
            await class_membership.join(learner_store(), nickname, _address())
        except ClassroomRejected as refused:
            if self.error is not None:
                self.error.set_text(str(refused))
            return
        await self.show.refresh()

    async def _leave(self) -> None:
        await class_membership.leave(learner_store())
        await self.show.refresh()


def _address() -> str:
    """The browser's address as the page server saw it (behind a trusted proxy, the one the proxy wrote)."""
    request = ui.context.client.request
    return request.client.host if request is not None and request.client is not None else ''


def _short_enough(value: str | None) -> bool:
    return len((value or '').strip()) <= NICKNAME_MAX_CHARS


def register() -> None:
    @ui.page('/join')
    async def join_page() -> None:
        with page_frame('Join the class', '/join'):
            ui.html('Join the class', tag='h1').classes('text-3xl font-bold mt-2')
            await JoinView().show()
