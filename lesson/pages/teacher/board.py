"""The class board (``/teacher``): who is here, the scores, each question's answers, the class's demo runs and
the list of classes, redrawn live.

The board is itself a WebSocket demo: it subscribes to the store's events and redraws over the page's own
socket.io connection when an answer is recorded, and says how long that took (:mod:`lesson.panels.board_delay`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from html import escape

from fastapi.responses import JSONResponse
from nicegui import APIRouter, app, background_tasks, ui
from nicegui.client import Client

from lesson.pages.class_store_wait import FOR_THE_TEACHER, StoreUnreachable, read_class, unreachable
from lesson.pages.layout import page_frame
from lesson.pages.presenter import presenter_on
from lesson.pages.teacher import moments
from lesson.pages.teacher.guard import socket_is_the_teachers, teacher_link
from lesson.pages.teacher.removal import RemovalControls
from lesson.pages.teacher.setup import TeacherSetup
from lesson.pages.teacher.style import BUTTON_COLOR, CSS, LINK, tagged, when
from lesson.panels.board_delay import BoardDelay
from lesson.rules import classroom
from lesson.rules.classroom import Class, ClassInfo
from lesson.teaching.store import (
    AttemptRecorded,
    ClassEvent,
    ClassStarted,
    DemoRunRecorded,
    JoinRefused,
    LearnerJoined,
    LearnerLeft,
)
from lesson.web import socket_events
from lesson.web.client_files import keep_components

CLOCK = '/teacher/clock'
#: Seconds between two redraws of a board at the least (the issue asks for 100-200 ms): a class's changes within it
#: are one update to the teacher's browser.
BATCH_S = 0.15
NAME_CLASSES = 'px-2 py-1 rounded bg-indigo-100 text-indigo-950'


async def draw_in_batches(dirty: asyncio.Event, draw: Callable[[], Awaitable[bool]], batch_s: float) -> None:
    """Call ``draw`` when ``dirty`` is set, at most once per ``batch_s``, until it returns False: 200 learners
    submitting in the same second cost a board a handful of redraws, not 200. A change after a quiet spell is drawn
    at once; what arrives within ``batch_s`` of a redraw waits for the next one and is drawn with everything else
    that arrived meanwhile."""
    loop = asyncio.get_running_loop()
    drawn_at = -math.inf
    while True:
        await dirty.wait()
        if (wait := drawn_at + batch_s - loop.time()) > 0:
            await asyncio.sleep(wait)
        drawn_at = loop.time()
        dirty.clear()
        if not await draw():
            return


class _Bar:
    """One option's bar and count on the board, changed in place (only when its figures change)."""

    def __init__(self, bar: ui.element | None, count: ui.label, retries: ui.label | None = None) -> None:
        self.bar = bar
        self.count = count
        self.retries = retries
        self._width: str | None = None

    def show(self, count: int, percent: float, retries: int = 0) -> None:
        self.count.set_text(str(count))
        if self.retries is not None:
            self.retries.set_text(f'+{retries} on retries' if retries else '')
        width = f'{percent:.0f}%'
        if self.bar is not None and width != self._width:
            self._width = width
            self.bar.style(f'width: {width}')


class Board:
    """One teacher page's view of the running class, redrawn when the store says something changed."""

    def __init__(self, setup: TeacherSetup, presenting: bool) -> None:
        self.setup = setup
        self.presenting = presenting
        self.klass: Class | None = None
        self.listing: list[ClassInfo] = []
        self.delay: BoardDelay | None = None
        self._dirty = asyncio.Event()
        self._answers_at: list[float] = []
        self._changed: set[type[ClassEvent]] = set()
        self._drawn_class: str | None = None
        self._bars: dict[tuple[str, str], _Bar] = {}
        self._here: ui.label | None = None
        self._names: ui.html | None = None
        self._removal = RemovalControls(setup.store, presenting)

    async def load(self, *, listing: bool = True) -> None:
        self.klass = await self.setup.store.current()
        if listing:  # reads every class file: only when a class started, not on each answer
            self.listing = await self.setup.store.classes()

    # -- live --------------------------------------------------------------------------------------------------

    async def follow(self, client: Client) -> None:
        """Redraw on each change; changes that arrive while a redraw is made are drawn together next."""
        events = self.setup.store.subscribe()
        drawer = background_tasks.create(self._draw_when_dirty(client), name='class board redraw')
        try:
            async for event in events:
                self._note(event)
        finally:
            drawer.cancel()

    def _note(self, event: ClassEvent) -> None:
        if isinstance(event, AttemptRecorded):
            self._answers_at.append(event.at_ms)
        self._changed.add(type(event))
        self._dirty.set()

    async def _draw_when_dirty(self, client: Client) -> None:
        await draw_in_batches(self._dirty, lambda: self._draw(client), BATCH_S)

    async def _draw(self, client: Client) -> bool:
        """Draw what changed since the last time; False once the page is gone."""
        changed, self._changed = self._changed, set()
        await self.load(listing=ClassStarted in changed)
        answers, self._answers_at = self._answers_at, []
        if client.is_deleted:
            return False
        with client:
            self._redraw(changed)
            if self.delay is not None and answers:
                self.delay.stamp(answers, sent_ms=time.time() * 1000)
        return True

    def _redraw(self, changed: set[type[ClassEvent]]) -> None:
        """Redraw only what the events changed: a class of 30 answering at once must not rebuild the page 30 times
        (each rebuild re-sends every element to the board's browser)."""
        # a plain ClassEvent is the store's "read the class again" (events were missed during a Redis outage, e.g.
        # an attempt written back meanwhile): anything may have changed, so everything is drawn again
        if ClassStarted in changed or ClassEvent in changed or self.klass is None or self.klass.id != self._drawn_class:
            self.show.refresh()
            return
        if changed & {LearnerJoined, LearnerLeft, JoinRefused}:
            self._show_people()
        if changed & {LearnerJoined, LearnerLeft, AttemptRecorded}:
            self._scores.refresh()
            self._classes.refresh()
        if AttemptRecorded in changed:
            self._update_bars()
        if DemoRunRecorded in changed:
            self._demo.refresh()

    # -- drawing -----------------------------------------------------------------------------------------------

    @ui.refreshable_method
    def show(self) -> None:
        klass = self.klass
        self._drawn_class = None if klass is None else klass.id
        self._bars.clear()
        if klass is None:
            ui.label('No class is running. Start one, then show the join screen on the projector.').classes('text-lg')
            start = ui.button('Start a class', icon='play_arrow', on_click=self._start_class)
            tagged(start.props(f'color={BUTTON_COLOR}'), 'board-start')
            self._classes()
            return
        ui.label(f'Class of {when(klass)}').classes('text-xl font-semibold')
        self._people()
        self._scores()
        self._questions(klass)
        self._demo()
        self._classes()

    def _people(self) -> None:
        self._here = tagged(ui.label().classes('text-xl'), 'board-here')
        self._names = tagged(ui.html('').classes('flex flex-wrap gap-2'), 'board-names')
        if self.klass is not None:
            self._removal.draw(self.klass)
        self._show_people()

    def _show_people(self) -> None:
        """Who is here, as one element: a class of 200 joining changes one string per redraw, not 200 elements."""
        if self._here is None or self._names is None:
            return  # no class drawn yet
        present = () if self.klass is None else self.klass.present
        self._removal.update(self.klass)
        self._here.set_text(f'{len(present)} here')
        self._names.set_content(
            ''.join(f'<span class="{NAME_CLASSES}">{escape(learner.name)}</span>' for learner in present)
        )  # escaped: a nickname is text, never HTML

    @ui.refreshable_method
    def _scores(self) -> None:
        if self.klass is None:
            return
        klass = self.klass
        scores = classroom.scores(klass)
        total = len(self.setup.quiz.questions)

        def percent(value: float | None) -> str:
            return 'none yet' if value is None else f'{value:g} %'

        with tagged(ui.row().classes('gap-6 flex-wrap text-lg my-2'), 'board-scores'):
            tagged(ui.label(f'Submitted: {scores.submitted} of {len(klass.learners)}'), 'board-submitted')
            tagged(ui.label(f'First attempts: average {percent(scores.first_average_percent)}'), 'board-first-average')
            ui.label(f'Retries: {scores.attempts - scores.submitted}, average {percent(scores.retry_average_percent)}')
            if scores.best_percent is not None:
                best = scores.best_percent * total // 100
                names = ', '.join(scores.best_names[:5]) + ('…' if len(scores.best_names) > 5 else '')
                tagged(ui.label(f'Best: {best} / {total} ({scores.best_percent} %), {names}'), 'board-best')

    def _questions(self, klass: Class) -> None:
        """The bars, built once per class; :meth:`_update_bars` then changes only widths and counts."""
        ui.label('Answers: first attempts, with retries beside each option').classes('text-xl font-semibold mt-4')
        # one scale for every question: a full bar is the same number of answers everywhere on the board
        self._bars['', ''] = _Bar(None, tagged(ui.label().classes('text-sm opacity-80'), 'board-scale'))
        for index, question in enumerate(self.setup.quiz.questions, 1):
            with tagged(ui.card().classes('w-full my-2'), f'board-question-{question.id}'):
                ui.label(f'{index}. {question.prompt}').classes('font-semibold')
                for option in question.options:
                    with ui.element('div').classes('board-row w-full'):
                        label = f'{"✓ " if option.correct else ""}{option.text}'
                        ui.label(label).classes('font-semibold' if option.correct else '')
                        with ui.element('div').classes('w-full'):
                            bar = ui.element('div').classes(f'board-bar {"board-bar-right" if option.correct else ""}')
                        count = tagged(
                            ui.label().classes('text-right tabular-nums'), f'board-count-{question.id}-{option.id}'
                        )
                        retries = tagged(
                            ui.label().classes('text-sm opacity-80 tabular-nums'),
                            f'board-retries-{question.id}-{option.id}',
                        )
                    self._bars[question.id, option.id] = _Bar(bar, count, retries)
                self._bars[question.id, ''] = _Bar(None, ui.label().classes('text-sm opacity-80'))
        self._update_bars()

    def _update_bars(self) -> None:
        if self.klass is None:
            return
        firsts = classroom.tallies(self.setup.quiz, classroom.first_attempts(self.klass))
        retried = classroom.tallies(self.setup.quiz, classroom.retries(self.klass))
        most = max((option.count for tally in firsts for option in tally.options), default=0) or 1
        if (scale := self._bars.get(('', ''))) is not None:
            scale.count.set_text(f'Every bar on one scale: a full bar is {most} answer{"s" if most != 1 else ""}.')
        for tally, again in zip(firsts, retried, strict=True):
            retry_counts = {option.option_id: option.count for option in again.options}
            for option in tally.options:
                if (bar := self._bars.get((tally.question_id, option.option_id))) is not None:
                    bar.show(option.count, 100 * option.count / most, retry_counts.get(option.option_id, 0))
            summary = f'{tally.right} of {tally.answered} right on a first attempt'
            if again.answered:
                summary += f'; retries: {again.right} of {again.answered} right'
            if (line := self._bars.get((tally.question_id, ''))) is not None:
                line.count.set_text(summary)

    @ui.refreshable_method
    def _demo(self) -> None:
        if self.klass is None:
            return
        totals = self.klass.demo_totals
        ui.label("The class's demo runs").classes('text-xl font-semibold mt-4')
        tagged(ui.label(classroom.demo_sentence(totals)).classes('text-lg'), 'board-demo')
        if links := classroom.demo_links_sentence(self.klass.learners):  # the figures mean little without the link
            tagged(ui.label(links), 'board-demo-links')
        with ui.element('div').classes('board-lanes w-full'):
            with ui.card():
                ui.label('Polling').classes('font-semibold')
                ui.label(f'{totals.poll_requests:,} requests, each a new connection')
                ui.label(f'{totals.poll_empty:,} came back empty')
                ui.label(f'{totals.poll_updates:,} updates received')
            with ui.card():
                ui.label('Push (WebSocket)').classes('font-semibold')
                ui.label(f'{totals.runs:,} connections, 1 per run')
                # the students' tables count the browser's clock checks on the socket as its requests: never for news
                tagged(
                    ui.label('No request for news: the server sends each update the moment it has it'),
                    'board-demo-push',
                )
                ui.label(f'{totals.push_updates:,} updates received')

    @ui.refreshable_method
    def _classes(self) -> None:
        _class_list(self)

    async def _start_class(self) -> None:
        await self.setup.store.start_class()  # the event redraws every board


def _class_list(board: Board) -> None:
    ui.label('Classes').classes('text-xl font-semibold mt-4')
    with ui.element('ul').classes('list-disc pl-6').mark('board-classes').props('data-testid=board-classes'):
        for info in board.listing:
            klass = board.klass
            if klass is not None and info.id == klass.id:  # the running class's counts as of now
                info = ClassInfo(klass.id, klass.started_at, len(klass.learners), len(klass.attempts), True)
            with ui.element('li'), ui.row().classes('gap-3 items-baseline'):
                ui.label(
                    f'{when(info)}{" (running)" if info.current else ""}: {info.learners} learners, '
                    f'{info.attempts} attempts'
                )
                ui.link('results CSV', teacher_link('/teacher/export.csv', **{'class': info.id})).classes(LINK).mark(
                    f'board-export-{info.id}'
                ).props(f'data-testid=board-export-{info.id}')
                ui.link('per-question CSV', teacher_link('/teacher/questions.csv', **{'class': info.id})).classes(LINK)


def add_board(router: APIRouter, setup: TeacherSetup) -> None:
    """The board page, and the clock its delay panel synchronises with (public: the time is no secret, and the
    panel fetches it without the teacher's credential)."""
    keep_components((BoardDelay,))

    @app.get(CLOCK, include_in_schema=False)
    def clock() -> JSONResponse:
        return JSONResponse({'server_time': time.time() * 1000}, headers={'Cache-Control': 'no-store'})

    @router.page('')
    async def board_page(presenter: str = '') -> None:
        # the board's buttons run only from a socket carrying the teacher's cookie, not under a borrowed client id
        socket_events.require(ui.context.client, socket_is_the_teachers(setup.token))
        presenting = bool(presenter)
        board = Board(setup, presenting)
        try:
            await read_class(board.load())
        except StoreUnreachable:
            with page_frame('Class board', '/teacher'):
                ui.html('Class board', tag='h1').classes('text-3xl font-bold mt-2')
                unreachable(FOR_THE_TEACHER)
            return
        ui.add_css(CSS)
        if presenting:
            presenter_on()
        with page_frame('Class board', '/teacher'):
            ui.html('Class board', tag='h1').classes('text-3xl font-bold mt-2')
            board.delay = tagged(BoardDelay(CLOCK), 'board-delay')
            _links()
            if presenting:  # on the projector the class comes first; the teacher's buttons wait below
                board.show()
                moments.controls(setup, presenting)
            else:
                moments.controls(setup, presenting)
                board.show()
        client = ui.context.client
        task = background_tasks.create(board.follow(client), name='class board')
        client.on_delete(task.cancel)


def _links() -> None:
    with ui.row().classes('gap-2 flex-wrap items-center my-2'):
        tagged(ui.link('Join screen', teacher_link('/teacher/join', presenter='1')).classes(LINK), 'board-join-link')
        presenting = teacher_link('/teacher', presenter='1')
        tagged(ui.link('Presenter mode', presenting).classes(LINK), 'board-presenter-link')
        ui.link('Demo page, presenter mode', '/demo?presenter=1').classes(LINK)
