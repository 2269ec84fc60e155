"""Issue 18: a bored student on the same network, as scripted clients against the app as a subprocess (plain HTTP
with httpx, socket.io speaking NiceGUI's page protocol with :class:`demos.bench.page_client.PageTab`). Loopback
source addresses such as 127.0.0.2 stand for other machines."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from demos.bench.page_client import PageTab, browser_at, press

from ..support.app_process import RunningApp
from ..support.waiting import wait_until_async

HUGE = 'x' * 900_000


@pytest.fixture(scope='module')
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    running = RunningApp(data_dir=tmp_path_factory.mktemp('student'))
    running.start()
    yield running
    running.stop()


def user_files(app: RunningApp) -> list[Path]:
    return sorted((app.data_dir / 'storage').glob('storage-user-*'))


async def toggle_dark(app: RunningApp, value: object) -> None:
    """One fresh cookie jar opens the lesson and sets the header's Dark switch to ``value``."""
    async with httpx.AsyncClient(base_url=app.url, timeout=20) as http:
        tab = PageTab(http)
        await tab.open('/')
        switch = next(key for key, element in tab.elements.items() if element.get('text') == 'Dark')
        await tab.emit(switch, 'update:modelValue', value)
        await tab.expect('dark')  # the page's own update: the event was run
        await tab.close()


def test_the_dark_switch_stores_a_boolean_and_nothing_else(app: RunningApp) -> None:
    """Finding 2: a 900 KB string through the Dark switch from 40 fresh cookie jars wrote 40 files of 900 KB."""

    async def attack() -> None:
        await asyncio.gather(*(toggle_dark(app, HUGE) for _ in range(10)))
        await toggle_dark(app, True)

    asyncio.run(attack())
    files = user_files(app)
    sizes = [path.stat().st_size for path in files]
    assert sizes and max(sizes) < 1000, sizes
    assert [json.loads(path.read_text()).get('dark_mode') for path in files] == [True]
    warnings = [line for line in app.log.splitlines() if 'learner storage: refused a write' in line]
    assert len(warnings) == 1, app.log[-3000:]
    assert HUGE[:100] not in app.log


# -- the teacher's token: exchanged for a cookie, never in an address again (findings 5 and 12) ----------------

TOKEN = 'teacher-token-for-the-student-tests'


@pytest.fixture(scope='module')
def teacher_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    running = RunningApp(data_dir=tmp_path_factory.mktemp('teacher'), extra_args=['--teacher-token', TOKEN])
    running.start()
    yield running
    running.stop()


def test_the_token_is_exchanged_for_a_strict_http_only_cookie_and_leaves_the_address(teacher_app: RunningApp) -> None:
    with httpx.Client(base_url=teacher_app.url, timeout=20) as http:
        first = http.get(f'/teacher?token={TOKEN}&presenter=1')
        assert first.status_code == 303 and first.headers['location'] == '/teacher?presenter=1'
        cookie = first.headers['set-cookie'].lower()
        assert 'httponly' in cookie and 'samesite=strict' in cookie and 'path=/' in cookie
        assert TOKEN.lower() not in cookie
        for path in ('/teacher?presenter=1', '/teacher', '/teacher/join?presenter=1'):
            page = http.get(path)
            assert page.status_code == 200 and TOKEN not in page.text, path
        assert (
            '/teacher/export.csv?class=' in http.get('/teacher').text
            or 'No class is running' in http.get('/teacher').text
        )
        http.cookies.clear()
        assert http.get('/teacher').status_code == 403  # the cookie, not the address, is the credential now
        assert http.get('/teacher?token=wrong-token-of-some-length').status_code == 403
        assert http.get(f'/teacher/typo?token={TOKEN}').status_code == 404
    assert teacher_app.log.count(TOKEN) == 1, teacher_app.log[-3000:]  # the start-up block's line only


def test_a_cookie_of_another_token_is_refused(teacher_app: RunningApp) -> None:
    from lesson.teaching.access import COOKIE_NAME, teacher_cookie

    with httpx.Client(base_url=teacher_app.url, timeout=20) as http:
        http.cookies.set(COOKIE_NAME, teacher_cookie('an-older-token-of-this-app'))
        assert http.get('/teacher').status_code == 403
        http.cookies.set(COOKIE_NAME, teacher_cookie(TOKEN))
        assert http.get('/teacher').status_code == 200


def test_a_board_button_pressed_under_a_borrowed_client_id_does_nothing(teacher_app: RunningApp) -> None:
    """Finding 12: NiceGUI runs an event for the client id a message names. A student who learned the board's
    client id sends 'Start a class' from their own page's socket: no class starts. The teacher's own click does."""

    async def class_running(http: httpx.AsyncClient) -> bool:
        return 'No class is running' not in (await http.get('/join')).text

    async def scene() -> tuple[bool, bool]:
        async with (
            httpx.AsyncClient(base_url=teacher_app.url, timeout=20, follow_redirects=True) as teacher,
            httpx.AsyncClient(base_url=teacher_app.url, timeout=20) as student,
        ):
            board = PageTab(teacher)
            await board.open(f'/teacher?token={TOKEN}')  # as the teacher's browser: the redirect followed
            start = board.find(label='Start a class')
            intruder = PageTab(student)
            await intruder.open('/join')
            intruder.elements, intruder.client_id = board.elements, board.client_id  # the borrowed id
            await intruder.emit(start, 'click')
            await wait_until_async(
                lambda: 'dropped 1 socket.io event message' in teacher_app.log, 10, "the intruder's event was not seen"
            )
            after_intruder = await class_running(student)
            await board.emit(start, 'click')
            await wait_until_async(lambda: class_running(student), 10, "the teacher's click started no class", 0.1)
            await asyncio.gather(board.close(), intruder.close())
            return after_intruder, await class_running(student)

    assert asyncio.run(scene()) == (False, True)
    assert 'dropped 1 socket.io event message' in teacher_app.log, teacher_app.log[-2000:]


def test_rotating_the_token_ends_the_old_address_and_every_old_cookie(tmp_path: Path) -> None:
    running = RunningApp(data_dir=tmp_path)
    running.start()
    try:
        old = re.search(r'/teacher\?token=([\w-]+)', running.log)
        assert old is not None
        with httpx.Client(base_url=running.url, timeout=20) as http:
            assert http.get(f'/teacher?token={old.group(1)}').status_code == 303
            assert http.get('/teacher').status_code == 200
            running.extra_args = ['--rotate-teacher-token']
            running.restart()
            new = re.findall(r'/teacher\?token=([\w-]+)', running.log)
            assert len(new) == 1 and new[0] != old.group(1)
            assert http.get('/teacher').status_code == 403  # the old cookie
            assert http.get(f'/teacher?token={old.group(1)}').status_code == 403
            assert http.get(f'/teacher?token={new[0]}').status_code == 303
    finally:
        running.stop()


# -- joining: one address cannot take the class; leaving frees a place; the teacher removes (finding 1) ------


JOINED = 'You are in the class as [^"]*'
REFUSED = '|'.join(
    ('This class is full[^"]*', '[0-9]+ learners have joined from your network[^"]*', 'Too many joins[^"]*')
)


def test_one_address_cannot_take_the_class_and_the_teacher_removes_a_learner(tmp_path: Path) -> None:
    limits = ['--max-learners', '5', '--learners-per-address', '3', '--joins-per-minute-per-address', '4']
    running = RunningApp(data_dir=tmp_path, extra_args=['--teacher-token', TOKEN, *limits])
    running.start()

    async def scene() -> list[str]:
        said = []
        async with browser_at(running.url, '127.0.0.1') as teacher:
            await press(teacher, 'Start a class', 'Class of', f'/teacher?token={TOKEN}')
        jars = [browser_at(running.url, '127.0.0.2') for _ in range(5)] + [
            browser_at(running.url, '127.0.0.3'),
            browser_at(running.url, '127.0.0.4'),
        ]
        for jar in jars[:4]:  # three join from .2; the fourth finds the address's places taken
            said.append(await press(jar, 'Join the class', f'{JOINED}|{REFUSED}'))
        said.append(await press(jars[5], 'Join the class', f'{JOINED}|{REFUSED}'))  # .3: another machine
        said.append(await press(jars[0], 'Leave the class', 'Choose a nickname'))  # a place on .2 is free
        said.append(await press(jars[4], 'Join the class', f'{JOINED}|{REFUSED}'))  # but .2 joined 4 times a minute
        said.append(await press(jars[6], 'Join the class', f'{JOINED}|{REFUSED}'))  # .4
        async with browser_at(running.url, '127.0.0.1') as teacher:
            board = PageTab(teacher)
            await board.open(f'/teacher?token={TOKEN}')
            removed = board.expect('was removed')
            await board.emit(board.find(label='Learner'), 'update:modelValue', {'value': 3, 'label': 'Learner 6'})
            await board.emit(board.find(label='Remove from the class'), 'click')
            said.append((await asyncio.wait_for(removed, 10))[1].group(0))
            await board.close()
        said.append(re.search('removed you[^"]*', (await jars[6].get('/join')).text).group(0))  # type: ignore[union-attr]
        async with browser_at(running.url, '127.0.0.1') as teacher:
            board_page = (await teacher.get(f'/teacher?token={TOKEN}')).text
        said.append(re.search(r'\d+ joins? refused', board_page).group(0))  # type: ignore[union-attr]
        for jar in jars:
            await jar.aclose()
        return said

    try:
        said = asyncio.run(scene())
    finally:
        running.stop()
    assert said == [
        'You are in the class as Learner 1.',
        'You are in the class as Learner 2.',
        'You are in the class as Learner 3.',
        '3 learners have joined from your network already; ask your teacher to allow more.',
        'You are in the class as Learner 4.',
        'Choose a nickname',
        'Too many joins from your network in the last minute; wait a moment and press Join again.',
        'You are in the class as Learner 5.',
        'was removed',
        'removed you from this class.',
        '2 joins refused',
    ], said


def test_the_one_click_rejoin_page_keeps_the_per_address_limits(tmp_path: Path) -> None:
    """/join/again joins on a plain GET: without the browser's address it let one address take every place."""
    limits = ['--joins-per-minute-per-address', '3']
    running = RunningApp(data_dir=tmp_path, extra_args=['--teacher-token', TOKEN, *limits])
    running.start()

    async def scene() -> list[bool]:
        async with browser_at(running.url, '127.0.0.1') as teacher:
            await press(teacher, 'Start a class', 'Class of', f'/teacher?token={TOKEN}')
        joined = []
        for address in ['127.0.0.2'] * 6 + ['127.0.0.3']:
            async with browser_at(running.url, address) as jar:
                joined.append('You are in the new class' in (await jar.get('/join/again')).text)
        return joined

    try:
        assert asyncio.run(scene()) == [True, True, True, False, False, False, True]
    finally:
        running.stop()
