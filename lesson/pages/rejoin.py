"""``/join/again``: the one click from the class-ended notice (:mod:`lesson.pages.class_notice`) into the new class,
under the learner's name, with the attempts they submitted since their class ended counted there."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from lesson.pages.class_notice import JOIN_AGAIN, REJOIN_PATH
from lesson.pages.layout import page_frame
from lesson.rules.classroom import ClassroomRejected
from lesson.storage.learner_store import learner_store
from lesson.teaching import membership as class_membership


def register() -> None:
    @ui.page(REJOIN_PATH)
    async def join_again(request: Request) -> None:
        with page_frame('Join the new class', REJOIN_PATH):
            ui.html(JOIN_AGAIN, tag='h1').classes('text-3xl font-bold mt-2')
            try:
                # the browser's address: the per-address join limits hold for this one-click join too
                address = request.client.host if request.client is not None else ''
                member, counted = await class_membership.rejoin(learner_store(), address)
            except ClassroomRejected as refused:
                ui.label(str(refused)).classes('text-lg').props('data-testid=rejoin-refused role=alert')
                ui.link('Go to the Join page', '/join').classes('underline')
                return
            ui.label(f'You are in the new class as {member.name}.').classes('text-xl font-semibold').props(
                'data-testid=rejoin-joined'
            )
            if counted:
                attempts = 'attempt' if counted == 1 else 'attempts'
                ui.label(f'{counted} quiz {attempts} you submitted after your class ended now count for it.').props(
                    f'data-testid=rejoin-counted data-count={counted}'
                )
            with ui.row().classes('gap-3 my-2'):
                ui.link('Back to the quiz', '/quiz').classes('text-lg underline')
                ui.link('Run the demos', '/demo').classes('text-lg underline')
