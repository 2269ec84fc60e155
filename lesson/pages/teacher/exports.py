"""The class's results as CSV (``/teacher/export.csv``, ``/teacher/questions.csv``), for a spreadsheet."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response
from nicegui import APIRouter

from lesson.pages.teacher.setup import TeacherSetup
from lesson.rules import class_csv
from lesson.rules.classroom import Class
from lesson.rules.quiz import Quiz

Export = Callable[[Class, Quiz], str]


async def _csv(setup: TeacherSetup, class_id: str, make: Export, kind: str) -> Response:
    klass = await setup.store.read(class_id)
    if klass is None:
        return PlainTextResponse('404 Not Found: no such class\n', status_code=404)
    # the BOM makes spreadsheets (Excel) read UTF-8; the rest is RFC 4180 (lesson.rules.class_csv)
    body = '\ufeff' + make(klass, setup.quiz)
    return Response(
        body.encode('utf-8'),
        media_type='text/csv; charset=utf-8',
        headers={
            'Content-Disposition': f'attachment; filename="class-{klass.id}-{kind}.csv"',
            'Cache-Control': 'no-store',
        },
    )


def add_exports(router: APIRouter, setup: TeacherSetup) -> None:
    @router.get('/export.csv', include_in_schema=False)
    async def export_attempts(request: Request) -> Response:
        return await _csv(setup, request.query_params.get('class', ''), class_csv.attempts_csv, 'attempts')

    @router.get('/questions.csv', include_in_schema=False)
    async def export_questions(request: Request) -> Response:
        return await _csv(setup, request.query_params.get('class', ''), class_csv.questions_csv, 'questions')
