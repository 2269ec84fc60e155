"""The teacher's pages: the class board (`/teacher`), the join screen for the projector (`/teacher/join`), the CSV
exports, and the shared moments. Every one of them answers 403 without the teacher token (``?token=``).

NiceGUI rendering only: the class's rules are :mod:`lesson.rules.classroom`'s, its state the store's
(:mod:`lesson.teaching.store`). The board is itself a WebSocket demo: it subscribes to the store's events and redraws
over the page's own socket.io connection when an answer is recorded, and says how long that took
(:mod:`lesson.panels.board_delay`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

import segno
from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from nicegui import app, background_tasks, ui
from nicegui.client import Client

from lesson.config import Config
from lesson.pages.layout import page_frame
from lesson.pages.presenter import presenter_on
from lesson.panels.board_delay import BoardDelay
from lesson.rules import classroom
from lesson.rules.classroom import Class, ClassInfo
from lesson.rules.quiz import Quiz
from lesson.teaching.access import EchoControl, teacher_token, token_matches
from lesson.teaching.membership import use_store
from lesson.teaching.store import (
    AttemptRecorded,
    ClassEvent,
    ClassStarted,
    ClassStore,
    DemoRunRecorded,
    LearnerJoined,
    LearnerLeft,
)
from lesson.teaching.store_redis import open_class_store
from lesson.web.addresses import WILDCARD_HOSTS, machine_ipv4_addresses, url_host
from lesson.web.client_files import keep_components

log = logging.getLogger(__name__)
T = TypeVar('T', bound=ui.element)

FORBIDDEN = '403 Forbidden: the teacher pages need the teacher address printed when the app started.\n'
#: Seconds the echo server stays down when the teacher takes it down for everyone.
OUTAGE_S = 4.0
CLASS_FEED_RATES = (1.0, 2.0, 5.0, 10.0)
# white text at 4.5:1 or better (WCAG AA), as on the quiz page
BUTTON_COLOR = 'indigo-8'
# links at 4.5:1 or better on white (presenter mode recolours every link)
LINK = 'text-indigo-800 underline'

_CSS = """
.board-bar { height: 1.6rem; background: #3949ab; border-radius: .2rem; min-width: 2px; }
.board-bar-right { background: #15803d; }
.board-row { display: grid; grid-template-columns: minmax(8rem, 22rem) 1fr 3rem; gap: .5rem; align-items: center; }
.board-lanes { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .75rem; }
.join-address { font-size: clamp(2rem, 6vw, 4.5rem); font-weight: 700; word-break: break-all; line-height: 1.1; }
.join-count { font-size: clamp(1.5rem, 4vw, 3rem); font-weight: 600; }
.join-qr svg { display: block; width: min(52vh, 45vw); height: auto; background: #fff; }
"""


def forbidden() -> PlainTextResponse:
    return PlainTextResponse(FORBIDDEN, status_code=403, headers={'Cache-Control': 'no-store'})


@dataclass(frozen=True)
class TeacherSetup:
    store: ClassStore
    quiz: Quiz
    token: str
    control: EchoControl
    #: Where learners go: one ``scheme://address:port/join`` per address they can use.
    join_urls: Callable[[], Sequence[str]]


def qr_svg(url: str) -> str:
    """The address as a QR code, made here (no web service), as inline SVG."""
    # omitsize: a viewBox instead of a fixed size, so CSS can make it as large as the projector allows
    return segno.make_qr(url, error='m').svg_inline(scale=10, border=2, dark='#000', light='#fff', omitsize=True)


def _when(klass: Class | ClassInfo) -> str:
    return f'{klass.started_at:%Y-%m-%d %H:%M} UTC'


def _tagged(element: T, name: str) -> T:
    """Named for the tests: a marker for NiceGUI's user fixture, ``data-testid`` for the browser tests."""
    return element.mark(name).props(f'data-testid={name}')


class _Bar:
    """One option's bar and count on the board, changed in place (only when its figures change)."""

    def __init__(self, bar: ui.element | None, count: ui.label) -> None:
        self.bar = bar
        self.count = count
        self._width: str | None = None

    def show(self, count: int, percent: float) -> None:
        self.count.set_text(str(count))
        width = f'{percent:.0f}%'
        if self.bar is not None and width != self._width:
            self._width = width
            self.bar.style(f'width: {width}')


class Board:
    """One teacher page's view of the running class, redrawn when the store says something changed."""

    def __init__(self, setup: TeacherSetup, token: str, presenting: bool) -> None:
        self.setup = setup
        self.token = token  # for the export links it draws; never logged
        self.presenting = presenting
        self.klass: Class | None = None
        self.listing: list[ClassInfo] = []
        self.delay: BoardDelay | None = None
        self._dirty = asyncio.Event()
        self._answers_at: list[float] = []
        self._changed: set[type[ClassEvent]] = set()
        self._drawn_class: str | None = None
        self._bars: dict[tuple[str, str], _Bar] = {}

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
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            changed, self._changed = self._changed, set()
            await self.load(listing=ClassStarted in changed)
            answers, self._answers_at = self._answers_at, []
            if client.is_deleted:
                return
            with client:
                self._redraw(changed)
                if self.delay is not None and answers:
                    self.delay.stamp(answers, sent_ms=time.time() * 1000)

    def _redraw(self, changed: set[type[ClassEvent]]) -> None:
        """Redraw only what the events changed: a class of 30 answering at once must not rebuild the page 30 times
        (each rebuild re-sends every element to the board's browser)."""
        if ClassStarted in changed or self.klass is None or self.klass.id != self._drawn_class:
            self.show.refresh()
            return
        if LearnerJoined in changed or LearnerLeft in changed:
            self._people.refresh()
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
            _tagged(start.props(f'color={BUTTON_COLOR}'), 'board-start')
            self._classes()
            return
        ui.label(f'Class of {_when(klass)}').classes('text-xl font-semibold')
        self._people()
        self._scores()
        self._questions(klass)
        self._demo()
        self._classes()

    @ui.refreshable_method
    def _people(self) -> None:
        present = () if self.klass is None else self.klass.present
        _tagged(ui.label(f'{len(present)} here').classes('text-xl'), 'board-here')
        with _tagged(ui.row().classes('gap-2 flex-wrap'), 'board-names'):
            for learner in present:
                ui.label(learner.name).classes('px-2 py-1 rounded bg-indigo-100 text-indigo-950')  # text, never HTML

    @ui.refreshable_method
    def _scores(self) -> None:
        if self.klass is None:
            return
        klass = self.klass
        scores = classroom.scores(klass)
        total = len(self.setup.quiz.questions)

        def percent(value: float | None) -> str:
            return 'none yet' if value is None else f'{value:g} %'

        with _tagged(ui.row().classes('gap-6 flex-wrap text-lg my-2'), 'board-scores'):
            _tagged(ui.label(f'Submitted: {scores.submitted} of {len(klass.learners)}'), 'board-submitted')
            _tagged(ui.label(f'First attempts: average {percent(scores.first_average_percent)}'), 'board-first-average')
            ui.label(f'Retries: {scores.attempts - scores.submitted}, average {percent(scores.retry_average_percent)}')
            if scores.best_percent is not None:
                best = scores.best_percent * total // 100
                names = ', '.join(scores.best_names[:5]) + ('…' if len(scores.best_names) > 5 else '')
                _tagged(ui.label(f'Best: {best} / {total} ({scores.best_percent} %), {names}'), 'board-best')

    def _questions(self, klass: Class) -> None:
        """The bars, built once per class; :meth:`_update_bars` then changes only widths and counts."""
        ui.label('Answers, first attempts (retries below each)').classes('text-xl font-semibold mt-4')
        for index, question in enumerate(self.setup.quiz.questions, 1):
            with _tagged(ui.card().classes('w-full my-2'), f'board-question-{question.id}'):
                ui.label(f'{index}. {question.prompt}').classes('font-semibold')
                for option in question.options:
                    with ui.element('div').classes('board-row w-full'):
                        label = f'{"✓ " if option.correct else ""}{option.text}'
                        ui.label(label).classes('font-semibold' if option.correct else '')
                        with ui.element('div').classes('w-full'):
                            bar = ui.element('div').classes(f'board-bar {"board-bar-right" if option.correct else ""}')
                        count = _tagged(
                            ui.label().classes('text-right tabular-nums'), f'board-count-{question.id}-{option.id}'
                        )
                    self._bars[question.id, option.id] = _Bar(bar, count)
                self._bars[question.id, ''] = _Bar(None, ui.label().classes('text-sm opacity-80'))
        self._update_bars()

    def _update_bars(self) -> None:
        if self.klass is None:
            return
        firsts = classroom.tallies(self.setup.quiz, classroom.first_attempts(self.klass))
        retried = classroom.tallies(self.setup.quiz, classroom.retries(self.klass))
        for tally, again in zip(firsts, retried, strict=True):
            most = max((option.count for option in tally.options), default=0) or 1
            for option in tally.options:
                if (bar := self._bars.get((tally.question_id, option.option_id))) is not None:
                    bar.show(option.count, 100 * option.count / most)
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
        _tagged(ui.label(classroom.demo_sentence(totals)).classes('text-lg'), 'board-demo')
        with ui.element('div').classes('board-lanes w-full'):
            with ui.card():
                ui.label('Polling').classes('font-semibold')
                ui.label(f'{totals.poll_requests:,} requests, each a new connection')
                ui.label(f'{totals.poll_empty:,} came back empty')
                ui.label(f'{totals.poll_updates:,} updates received')
            with ui.card():
                ui.label('Push (WebSocket)').classes('font-semibold')
                ui.label(f'{totals.runs:,} connections, 1 per run')
                ui.label('0 requests: the server sends when it has news')
                ui.label(f'{totals.push_updates:,} updates received')

    @ui.refreshable_method
    def _classes(self) -> None:
        _class_list(self, self.token)

    # -- the teacher's actions ---------------------------------------------------------------------------------

    async def _start_class(self) -> None:
        await self.setup.store.start_class()  # the event redraws every board

    async def reset(self) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(
                'Start a new class? The current one ends: its results stay listed and can be exported, '
                'and learners must join the new one.'
            )
            with ui.row():
                ui.button('Start a new class', color='negative', on_click=lambda: dialog.submit(True)).mark(
                    'board-reset-confirm'
                ).props('data-testid=board-reset-confirm')
                ui.button('Cancel', on_click=lambda: dialog.submit(False))
        if await dialog:
            await self.setup.store.start_class()
            ui.notify('A new class has started.')

    async def outage(self) -> None:
        try:
            reply = await self.setup.control.command({'do': 'restart', 'seconds': OUTAGE_S})
        except (OSError, TimeoutError) as error:
            ui.notify(f'The echo server could not be reached: {error}', type='negative')
            return
        if reply.get('ok'):
            ui.notify(f'The echo server is down for {OUTAGE_S:g} s: watch every page reconnect.')
        else:
            ui.notify(f'Refused: {reply.get("error")}', type='negative')

    async def class_feed(self, start: bool, rate: float) -> None:
        command = {'do': 'class_feed', 'action': 'start' if start else 'stop', 'rate_per_s': rate, 'session_ids': None}
        try:
            reply = await self.setup.control.command(command)
        except (OSError, TimeoutError) as error:
            ui.notify(f'The echo server could not be reached: {error}', type='negative')
            return
        if not reply.get('ok'):
            ui.notify(f'Refused: {reply.get("error")}', type='negative')
        elif start:
            ui.notify(
                f'Class feed started at {rate:g}/s for {reply.get("followers")} open demo pages and any that open.'
            )
        else:
            ui.notify('Class feed stopped: each page has its own feed again.')


def _token_link(path: str, token: str, **query: str) -> str:
    return f'{path}?{urlencode({"token": token, **query})}'


def join_urls_for(config: Config, app_port: int) -> Callable[[], list[str]]:
    """Where learners go: every non-loopback address of this machine when serving on all of them (asked again at
    each showing: a laptop may change networks), else the configured host."""
    scheme = 'https' if config.uses_tls else 'http'

    def urls() -> list[str]:
        wildcard = config.host in WILDCARD_HOSTS
        hosts = (machine_ipv4_addresses() or ['127.0.0.1']) if wildcard else [config.host]
        return [f'{scheme}://{url_host(host)}:{app_port}/join' for host in hosts]

    return urls


def setup_for(config: Config, quiz: Quiz, *, echo_port: int, session_key: bytes, app_port: int) -> TeacherSetup:
    """The teacher pages' parts for this app: the class store (files in the data directory, or Redis with
    ``--redis-url``: :func:`lesson.teaching.store_redis.open_class_store`), the token, the echo process's control
    channel, the join addresses."""
    store = open_class_store(config, quiz)
    app.on_shutdown(store.close)
    return TeacherSetup(
        store=store,
        quiz=quiz,
        token=teacher_token(config.teacher_token, config.data_dir),
        control=EchoControl(echo_port, session_key, uses_tls=config.uses_tls),
        join_urls=join_urls_for(config, app_port),
    )


def register(setup: TeacherSetup) -> None:
    """Register the teacher pages, the exports and the clock the board synchronises with."""
    use_store(setup.store)
    keep_components((BoardDelay,))

    def allowed(token: object) -> bool:
        return token_matches(setup.token, token)

    @app.get('/teacher/clock', include_in_schema=False)
    def clock() -> JSONResponse:
        return JSONResponse({'server_time': time.time() * 1000}, headers={'Cache-Control': 'no-store'})

    async def export(token: str, class_id: str, make: Callable[[Class, Quiz], str], kind: str) -> Response:
        if not allowed(token):
            return forbidden()
        klass = await setup.store.read(class_id)
        if klass is None:
            return PlainTextResponse('404 Not Found: no such class\n', status_code=404)
        # the BOM makes spreadsheets (Excel) read UTF-8; the rest is RFC 4180 (lesson.rules.classroom)
        body = '\ufeff' + make(klass, setup.quiz)
        return Response(
            body.encode('utf-8'),
            media_type='text/csv; charset=utf-8',
            headers={
                'Content-Disposition': f'attachment; filename="class-{klass.id}-{kind}.csv"',
                'Cache-Control': 'no-store',
            },
        )

    @app.get('/teacher/export.csv', include_in_schema=False)
    async def export_attempts(request: Request) -> Response:
        query = request.query_params
        return await export(query.get('token', ''), query.get('class', ''), classroom.attempts_csv, 'attempts')

    @app.get('/teacher/questions.csv', include_in_schema=False)
    async def export_questions(request: Request) -> Response:
        query = request.query_params
        return await export(query.get('token', ''), query.get('class', ''), classroom.questions_csv, 'questions')

    @ui.page('/teacher')
    async def board_page(token: str = '', presenter: str = '') -> Response | None:
        if not allowed(token):
            return forbidden()
        presenting = bool(presenter)
        board = Board(setup, token, presenting)
        await board.load()
        ui.add_css(_CSS)
        if presenting:
            presenter_on()
        with page_frame('Class board', '/teacher'):
            ui.html('Class board', tag='h1').classes('text-3xl font-bold mt-2')
            board.delay = BoardDelay('/teacher/clock').mark('board-delay').props('data-testid=board-delay')
            with ui.row().classes('gap-2 flex-wrap items-center my-2'):
                ui.link('Join screen', _token_link('/teacher/join', token, presenter='1')).classes(LINK).mark(
                    'board-join-link'
                ).props('data-testid=board-join-link')
                ui.link('Presenter mode', _token_link('/teacher', token, presenter='1')).classes(LINK).mark(
                    'board-presenter-link'
                ).props('data-testid=board-presenter-link')
                ui.link('Demo page, presenter mode', '/demo?presenter=1').classes(LINK)
            if presenting:  # on the projector the class comes first; the teacher's buttons wait below
                board.show()
                _controls(board)
            else:
                _controls(board)
                board.show()
        client = ui.context.client
        task = background_tasks.create(board.follow(client), name='class board')
        client.on_delete(task.cancel)
        return None

    @ui.page('/teacher/join')
    async def join_screen(token: str = '', presenter: str = '') -> Response | None:
        if not allowed(token):
            return forbidden()
        ui.add_css(_CSS)
        if presenter:
            presenter_on()
        urls = list(setup.join_urls())
        klass = await setup.store.current()
        with page_frame('Join the class', '/teacher/join'):
            ui.html('Join the class', tag='h1').classes('text-3xl font-bold mt-2')
            if klass is None:
                ui.label('No class is running yet: start one on the class board first.').classes('text-xl')
            ui.label('Open this address on your phone or laptop:').classes('text-xl')
            for url in urls:
                ui.label(url).classes('join-address').mark('join-address').props('data-testid=join-address')
            # the code and the count side by side: both fit a 1280 x 720 projector under the address
            with ui.row().classes('items-center gap-8 flex-nowrap'):
                if urls:
                    _tagged(ui.html(qr_svg(urls[0])).classes('join-qr'), 'join-qr').props(
                        f'role=img aria-label="QR code of {urls[0]}"'
                    )
                count = _tagged(ui.label().classes('join-count').props('aria-live=polite'), 'join-count')

        def show_count(value: Class | None) -> None:
            n = 0 if value is None else len(value.present)
            count.set_text(f'{n} learner{"s" if n != 1 else ""} joined')

        show_count(klass)
        client = ui.context.client

        async def follow() -> None:
            async for _event in setup.store.subscribe():
                current = await setup.store.current()
                if client.is_deleted:
                    return
                with client:
                    show_count(current)

        task = background_tasks.create(follow(), name='join screen count')
        client.on_delete(task.cancel)
        return None


def _controls(board: Board) -> None:
    with ui.card().classes('w-full my-4').mark('board-controls').props('data-testid=board-controls'):
        ui.label('Shared moments').classes('text-xl font-semibold')
        with ui.row().classes('gap-2 flex-wrap items-center'):
            ui.button(
                f'Take the echo server down for everyone ({OUTAGE_S:g} s)',
                icon='power_settings_new',
                color='negative',
                on_click=board.outage,
            ).mark('board-outage').props('data-testid=board-outage')
            rate = ui.select({r: f'{r:g} updates/s' for r in CLASS_FEED_RATES}, value=2.0, label='Class feed rate')
            start = ui.button(
                'Start the class feed', icon='podcasts', on_click=lambda: board.class_feed(True, rate.value)
            )
            _tagged(start.props(f'color={BUTTON_COLOR}'), 'board-feed-start')
            stop = ui.button('Stop the class feed', icon='stop', on_click=lambda: board.class_feed(False, rate.value))
            _tagged(stop.props(f'color={BUTTON_COLOR}'), 'board-feed-stop')
        ui.label(
            "The class feed sends the same updates to every student's lanes; students press Start on the demo page "
            'to follow it.'
        ).classes('text-sm opacity-80')
        # outlined as the lesser action; solid in presenter mode, where indigo on black would be unreadable
        ui.button('Reset: start a new class…', icon='restart_alt', on_click=board.reset).props(
            f'color={BUTTON_COLOR}' if board.presenting else f'outline color={BUTTON_COLOR}'
        ).mark('board-reset').props('data-testid=board-reset')


def _class_list(board: Board, token: str) -> None:
    ui.label('Classes').classes('text-xl font-semibold mt-4')
    with ui.element('ul').classes('list-disc pl-6').mark('board-classes').props('data-testid=board-classes'):
        for info in board.listing:
            klass = board.klass
            if klass is not None and info.id == klass.id:  # the running class's counts as of now
                info = ClassInfo(klass.id, klass.started_at, len(klass.learners), len(klass.attempts), True)
            with ui.element('li'), ui.row().classes('gap-3 items-baseline'):
                ui.label(
                    f'{_when(info)}{" (running)" if info.current else ""}: {info.learners} learners, '
                    f'{info.attempts} attempts'
                )
                ui.link('results CSV', _token_link('/teacher/export.csv', token, **{'class': info.id})).classes(
                    LINK
                ).mark(f'board-export-{info.id}').props(f'data-testid=board-export-{info.id}')
                ui.link('per-question CSV', _token_link('/teacher/questions.csv', token, **{'class': info.id})).classes(
                    LINK
                )
