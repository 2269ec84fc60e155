"""The demo page under NiceGUI's `user` fixture: no JavaScript runs, so this checks what the page server builds
(sections, panels with their set-up and texts, the code shown) and what it keeps of a run (one summary)."""

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from nicegui import app, ui
from nicegui.events import GenericEventArguments
from nicegui.testing import User

from demos.protocol.lanes import COMPARED_LANES
from lesson.pages.demo import PANEL_ANCHORS
from lesson.panels.lanes import LanesPanel, run_from_event
from lesson.rules.progress import DEMO_RUN_KEY, DemoRun
from lesson.storage.content_files import bundled_content_dir, load_lesson
from lesson.web.client_files import CLIENT_FILES, STATIC_DIR, read_client_sources, serve_client_files

SNIPPET = load_lesson(bundled_content_dir()).code('first-socket').source
SESSION_ID = re.compile(r'[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}')


async def test_demo_page_shows_every_section_and_its_panel(user: User) -> None:
    await user.open('/demo')
    for heading in (
        'Live demos',
        'Polling or push',
        'Echo console',
        'Inside the frames',
        'The handshake, computed',
        'Break it and watch',
        "Run the lesson's code",
        'When the server goes away',
    ):
        await user.should_see(heading)
    anchors = {element.props.get('id') for element in user.find(kind=ui.element).elements}
    assert set(PANEL_ANCHORS) <= anchors
    kinds = {type(element).__name__ for element in user.find(kind=ui.element).elements}
    assert {
        'LanesPanel',
        'EchoConsolePanel',
        'FramesPanel',
        'HandshakePanel',
        'BreakItPanel',
        'LessonCodePanel',
        'RestartPanel',
    } <= kinds


async def test_each_page_load_gets_its_own_issued_session(user: User) -> None:
    sessions = []
    for _ in range(2):
        await user.open('/demo')
        panel = user.find(kind=LanesPanel).elements.pop()
        sessions.append(panel.props['setup']['session'])
    assert all(SESSION_ID.fullmatch(session) for session in sessions)
    assert sessions[0] != sessions[1]


async def test_the_lanes_get_the_one_list_of_lanes_with_their_text(user: User) -> None:
    await user.open('/demo')
    lanes = user.find(kind=LanesPanel).elements.pop().props['lanes']
    assert [lane['id'] for lane in lanes] == [lane.id for lane in COMPARED_LANES]
    assert [lane['title'] for lane in lanes] == [
        'HTTP polling',
        'HTTP long polling',
        'Server-Sent Events',
        'WebSocket push',
    ]


async def test_the_code_shown_is_the_code_served_and_rendered_only_when_opened(user: User) -> None:
    client = await user.open('/demo')
    for name in CLIENT_FILES:
        assert f'/demos-static/{name}?v=' in client.head_html
    expansions = user.find(kind=ui.expansion).elements
    shown = {name for element in expansions for name in str(element.props.get('data-source', '')).split(', ')}
    assert set(CLIENT_FILES) <= shown, set(CLIENT_FILES) - shown  # every file the page loads is shown somewhere
    expansion = next(element for element in expansions if 'lanes.js' in str(element.props.get('data-source')))
    assert not expansion.default_slot.children  # nothing rendered until a learner opens it
    expansion.set_value(True)
    codes = {
        element.props.get('data-code'): element for element in expansion.descendants() if isinstance(element, ui.code)
    }
    # ui.code drops the file's final newline, nothing else
    assert codes['lanes.js'].content == (STATIC_DIR / 'lanes.js').read_text(encoding='utf-8').rstrip('\n')


def test_only_the_listed_client_files_are_served() -> None:
    web_app = FastAPI()
    serve_client_files(read_client_sources(), web_app)
    with TestClient(web_app) as http:
        served = http.get('/demos-static/lanes.js')
        assert served.status_code == 200 and served.text == (STATIC_DIR / 'lanes.js').read_text(encoding='utf-8')
        assert served.headers['content-type'].startswith('text/javascript')
        for name in ('__init__.py', '__pycache__', '..%2Fpages%2Fdemo.py', 'nope.js'):
            assert http.get(f'/demos-static/{name}').status_code == 404, name


async def test_a_run_summary_is_kept_once_for_the_quiz(user: User) -> None:
    await user.open('/demo')
    panel = user.find(kind=LanesPanel).elements.pop()
    run = {
        'poll_requests': 12,
        'poll_updates': 30,
        'poll_empty': 2,
        'poll_interval_ms': 500,
        'poll_delay_p50_ms': 241.3,
        'push_updates': 31,
        'push_delay_p50_ms': 1.4,
        'link_profile': '3g',  # kept with the run: the quiz can quote it
    }
    listeners = [listener for listener in panel._event_listeners.values() if listener.type == 'run']
    assert len(listeners) == 1
    handler = listeners[0].handler
    assert handler is not None
    handler(GenericEventArguments(sender=panel, client=panel.client, args=run))
    assert app.storage.user[DEMO_RUN_KEY] == run


def test_a_run_summary_from_the_browser_is_checked_field_by_field() -> None:
    good = {
        'poll_requests': 12,
        'poll_updates': 30,
        'poll_empty': 2,
        'poll_interval_ms': 500,
        'poll_delay_p50_ms': 241.33,
        'push_updates': 31,
        'push_delay_p50_ms': None,
    }
    assert run_from_event(good) == DemoRun(12, 30, 2, 500, 241.3, 31, None)
    bad: object
    for bad in (
        {**good, 'poll_requests': -1},
        {**good, 'poll_empty': 13},
        {**good, 'push_updates': '31'},
        {**good, 'poll_delay_p50_ms': True},
        {**good, 'push_updates': 10**9},
        [],
        None,
        'run',
    ):
        assert run_from_event(bad) is None, bad
