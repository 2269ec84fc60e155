"""The protocol panels as the page server builds them (NiceGUI's `user` fixture: no JavaScript runs): each gets the
page's set-up and exactly its table of content/demo_panels.toml, and what its browser code needs besides."""

import tomllib

from nicegui import ui
from nicegui.testing import User

from demos.protocol.handshake import GUID
from demos.server.break_it import CLOSE_CODES
from demos.server.echo_server import EchoSettings
from lesson.panels.break_it import COMPRESSION_MESSAGES, BreakItPanel
from lesson.panels.frames import FramesPanel
from lesson.panels.handshake import HandshakePanel
from lesson.panels.lesson_code import LessonCodePanel
from lesson.panels.restart import DOWNTIME_S, RestartPanel
from lesson.storage.content_files import bundled_content_dir, load_lesson

TEXTS = tomllib.loads((bundled_content_dir() / 'demo_panels.toml').read_text(encoding='utf-8'))
SNIPPET = load_lesson(bundled_content_dir()).code('first-socket').source
PANELS = {
    'frames': FramesPanel,
    'handshake': HandshakePanel,
    'break_it': BreakItPanel,
    'lesson_code': LessonCodePanel,
    'restart': RestartPanel,
}


async def test_each_panel_gets_the_pages_setup_and_its_own_texts(user: User) -> None:
    await user.open('/demo')
    setups = []
    for table, kind in PANELS.items():
        panel: ui.element = user.find(kind=kind).elements.pop()
        assert panel.props['texts'] == TEXTS[table]
        setups.append(panel.props['setup'])
    assert all(setup == setups[0] for setup in setups)  # one session per page, shared by every panel
    assert setups[0]['mayRestart'] is True  # the test app serves only this machine


async def test_the_panels_get_what_their_browser_code_needs(user: User) -> None:
    await user.open('/demo')
    assert user.find(kind=HandshakePanel).elements.pop().props['guid'] == GUID
    assert user.find(kind=LessonCodePanel).elements.pop().props['snippet'] == SNIPPET
    assert user.find(kind=RestartPanel).elements.pop().props['seconds'] == DOWNTIME_S
    break_it = user.find(kind=BreakItPanel).elements.pop()
    assert break_it.props['compressionMessages'] == list(COMPRESSION_MESSAGES)
    assert break_it.props['closeCodes'] == sorted(set(CLOSE_CODES) - {1000})  # 1000 has its own button
    plan = break_it.props['burstPlan']
    # The burst must show back-pressure, not be refused: within the server's burst allowance and message size.
    assert plan['count'] <= EchoSettings.message_burst and plan['size'] <= EchoSettings.max_message_bytes
    assert plan['count'] * plan['size'] > 1_000_000  # more than loopback's kernel buffers comfortably take in
