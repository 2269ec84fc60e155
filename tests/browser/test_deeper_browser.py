"""The "Going deeper" page and the lesson diagram's text alternative, in a real browser."""

from playwright.sync_api import Page, expect

from lesson.pages.deeper import load
from lesson.rules.content import Diagram
from lesson.storage.content_files import bundled_content_dir, load_lesson

from .accessibility import serious_violations
from .conftest import RunningApp

DEEPER = load(bundled_content_dir())
(DIAGRAM,) = [
    block for section in load_lesson(bundled_content_dir()).sections for block in section.blocks
    if isinstance(block, Diagram)
]  # fmt: skip


def test_going_deeper_is_reached_from_the_lesson_and_has_no_serious_violation(
    lesson_app: RunningApp, page: Page
) -> None:
    page.goto(lesson_app.url + '/#check-yourself', wait_until='networkidle')
    page.locator('#check-yourself').get_by_role('link', name='Going deeper').click()
    expect(page.get_by_role('heading', level=1)).to_have_text(DEEPER.title)
    expect(page.locator('#security')).to_contain_text('cross-site WebSocket hijacking')
    assert serious_violations(page) == []


def test_the_diagram_svg_carries_its_title_and_description(lesson_app: RunningApp, page: Page) -> None:
    page.goto(lesson_app.url + '/#handshake-diagram', wait_until='networkidle')
    svg = page.locator('#handshake-diagram svg').first
    expect(svg).to_be_visible()
    # Mermaid turns accTitle/accDescr into the SVG's <title> and <desc>, which screen readers announce
    expect(svg.locator('title').first).to_have_text(DIAGRAM.title)
    assert ' '.join(svg.locator('desc').first.text_content().split()) == DIAGRAM.description  # type: ignore[union-attr]
    expect(page.locator('#handshake-diagram figcaption')).to_contain_text(DIAGRAM.description)
