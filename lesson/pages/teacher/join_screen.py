"""The join screen for the projector (``/teacher/join``): the address to open, its QR code, and how many joined."""

from __future__ import annotations

import segno
from nicegui import APIRouter, background_tasks, ui

from lesson.pages.class_store_wait import FOR_THE_TEACHER, StoreUnreachable, read_class, unreachable
from lesson.pages.layout import page_frame
from lesson.pages.presenter import presenter_on
from lesson.pages.teacher.guard import socket_is_the_teachers
from lesson.pages.teacher.setup import TeacherSetup
from lesson.pages.teacher.style import CSS, tagged
from lesson.rules.classroom import Class
from lesson.web import socket_events


def qr_svg(url: str) -> str:
    """The address as a QR code, made here (no web service), as inline SVG."""
    # omitsize: a viewBox instead of a fixed size, so CSS can make it as large as the projector allows
    return segno.make_qr(url, error='m').svg_inline(scale=10, border=2, dark='#000', light='#fff', omitsize=True)


def joined_text(klass: Class | None) -> str:
    n = 0 if klass is None else len(klass.present)
    return f'{n} learner{"s" if n != 1 else ""} joined'


def add_join_screen(router: APIRouter, setup: TeacherSetup) -> None:
    @router.page('/join')
    async def join_screen(presenter: str = '') -> None:
        socket_events.require(ui.context.client, socket_is_the_teachers(setup.token))
        ui.add_css(CSS)
        if presenter:
            presenter_on()
        urls = list(setup.join_urls())
        try:
            klass = await read_class(setup.store.current())
        except StoreUnreachable:
            with page_frame('Join the class', '/teacher/join'):
                ui.html('Join the class', tag='h1').classes('text-3xl font-bold mt-2')
                unreachable(FOR_THE_TEACHER)
            return
        with page_frame('Join the class', '/teacher/join'):
            ui.html('Join the class', tag='h1').classes('text-3xl font-bold mt-2')
            if klass is None:
                ui.label('No class is running yet: start one on the class board first.').classes('text-xl')
            ui.label('Open this address on your phone or laptop:').classes('text-xl')
            for url in urls:
                tagged(ui.label(url).classes('join-address'), 'join-address')
            # the code and the count side by side: both fit a 1280 x 720 projector under the address
            with ui.row().classes('items-center gap-8 flex-nowrap'):
                if urls:
                    tagged(ui.html(qr_svg(urls[0])).classes('join-qr'), 'join-qr').props(
                        f'role=img aria-label="QR code of {urls[0]}"'
                    )
                count = tagged(
                    ui.label(joined_text(klass)).classes('join-count').props('aria-live=polite'), 'join-count'
                )
        client = ui.context.client

        async def follow() -> None:
            async for _event in setup.store.subscribe():
                current = await setup.store.current()
                if client.is_deleted:
                    return
                with client:
                    count.set_text(joined_text(current))

        task = background_tasks.create(follow(), name='join screen count')
        client.on_delete(task.cancel)
