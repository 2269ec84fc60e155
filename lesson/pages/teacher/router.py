"""Every teacher page under one ``/teacher`` router, behind one guard (as in NiceGUI's ``modularization``
example: the pages are created explicitly, then the router is included once)."""

from __future__ import annotations

from fastapi import Depends
from nicegui import APIRouter, app

from lesson.pages.teacher import guard
from lesson.pages.teacher.board import add_board
from lesson.pages.teacher.exports import add_exports
from lesson.pages.teacher.join_screen import add_join_screen
from lesson.pages.teacher.setup import TeacherSetup
from lesson.teaching.membership import use_store


def register(setup: TeacherSetup) -> None:
    """Register the board, the join screen and the exports; every one answers 403 without the teacher's cookie."""
    use_store(setup.store, setup.join_limits)
    router = APIRouter(prefix='/teacher', dependencies=[Depends(guard.teacher_guard(setup.token))])
    add_board(router, setup)
    add_join_screen(router, setup)
    add_exports(router, setup)
    guard.install(setup.token)
    app.include_router(router)
