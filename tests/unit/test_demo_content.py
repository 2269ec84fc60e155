"""content/demo.md and demo_panels.toml: the bundled files parse; a mistake names the file and the line."""

import pytest

from lesson.rules.content import ContentError, Section
from lesson.rules.demo_content import LaneText, parse_demo, parse_panel_texts
from lesson.storage.content_files import bundled_content_dir

DEMO = (bundled_content_dir() / 'demo.md').read_text(encoding='utf-8')
ANCHORS = ('polling-vs-push', 'echo-console')


Parsed = tuple[str, str, tuple[Section, ...], dict[str, LaneText], dict[str, dict[str, str]]]


def parse(text: str, panel_keys: dict[str, tuple[str, ...]] | None = None) -> Parsed:
    return parse_demo(text, 'demo.md', panel_keys=panel_keys or {'console': ('connect',)}, anchors=ANCHORS)


def test_the_bundled_page_text_parses_with_every_lane() -> None:
    title, lead, sections, lanes, panels = parse(DEMO)
    assert title == 'Live demos' and 'Start' in lead
    assert list(lanes) == ['poll', 'longpoll', 'sse', 'push']
    assert lanes['push'].title == 'WebSocket push'
    assert panels['console']['connect'] == 'Connect'
    assert {section.anchor for section in sections} >= set(ANCHORS)


def test_a_missing_panel_text_names_its_table_and_line() -> None:
    with pytest.raises(ContentError) as error:
        parse(DEMO, {'console': ('connect', 'no_such_text')})
    assert error.value.line == DEMO.splitlines().index('[console]') + 1
    assert 'no_such_text' in str(error.value) and str(error.value).startswith('demo.md:')


def test_an_unknown_lane_stops_start_up_at_its_line() -> None:
    broken = DEMO.replace('[lanes.sse]', '[lanes.carrier-pigeon]')
    with pytest.raises(ContentError) as error:
        parse(broken)
    assert error.value.line == broken.splitlines().index('[lanes.carrier-pigeon]') + 1
    assert 'carrier-pigeon' in error.value.message


def test_a_missing_section_is_named() -> None:
    with pytest.raises(ContentError) as error:
        parse(DEMO.replace('{#echo-console}', '{#echo-room}'))
    assert '#echo-console' in error.value.message


def test_panel_texts_report_bad_toml_with_its_line() -> None:
    with pytest.raises(ContentError) as error:
        parse_panel_texts('[frames]\ntitle = "ok"\nbroken = \n', 'demo_panels.toml', {'frames': ('title',)})
    assert error.value.line == 3
    with pytest.raises(ContentError) as error:
        parse_panel_texts('[frames]\ntitle = "ok"\n', 'demo_panels.toml', {'frames': ('title', 'send')})
    assert 'send' in error.value.message and error.value.line == 1
