import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from lesson.storage.content_files import bundled_content_dir, load_lesson

from .accessibility import serious_violations
from .conftest import OffsiteRequests, RunningApp

DARK = re.compile(r'\bbody--dark\b')
SNIPPET = load_lesson(bundled_content_dir()).code('first-socket').source


def test_lesson_loads_without_leaving_loopback(
    lesson_app: RunningApp, page: Page, offsite_requests: OffsiteRequests
) -> None:
    page.goto(lesson_app.url + '/', wait_until='networkidle')
    expect(page.get_by_role('heading', level=1)).to_be_visible()
    expect(page.get_by_role('heading', name='HTTP and WebSocket compared')).to_be_visible()
    assert offsite_requests.urls == []


def test_sequence_diagram_renders_as_svg(lesson_app: RunningApp, page: Page) -> None:
    page.goto(lesson_app.url + '/')
    svg = page.locator('#handshake-diagram svg')
    expect(svg.first).to_be_visible()
    # labels wrap to fit a phone (one <tspan> a line): the words, whatever the line breaks
    expect(svg.first).to_contain_text(re.compile(r'Accepts\s*and\s*confirms\s*the\s*connection'))


def test_copy_button_puts_the_snippet_on_the_clipboard(
    lesson_app: RunningApp, context: BrowserContext, page: Page
) -> None:
    context.grant_permissions(['clipboard-read', 'clipboard-write'], origin=lesson_app.url)
    page.goto(lesson_app.url + '/')
    block = page.locator('#opening-a-connection .nicegui-code')
    block.hover()
    block.get_by_role('button').click()
    assert page.evaluate('navigator.clipboard.readText()') == SNIPPET


def test_dark_mode_choice_survives_a_reload(lesson_app: RunningApp, page: Page) -> None:
    page.goto(lesson_app.url + '/')
    body = page.locator('body')
    expect(body).not_to_have_class(DARK)
    page.get_by_role('switch', name='Dark').click()
    expect(body).to_have_class(DARK)
    page.reload()
    expect(body).to_have_class(DARK)


def test_phone_width_does_not_scroll_sideways(lesson_app: RunningApp, page: Page) -> None:
    page.set_viewport_size({'width': 375, 'height': 812})
    page.goto(lesson_app.url + '/', wait_until='networkidle')
    expect(page.locator('#handshake-diagram svg').first).to_be_visible()
    overflow = page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
    assert overflow <= 0
    assert serious_violations(page) == []  # e.g. a code block that scrolls sideways must take keyboard focus


def test_lesson_has_no_serious_accessibility_violation(lesson_app: RunningApp, page: Page) -> None:
    page.goto(lesson_app.url + '/', wait_until='networkidle')
    expect(page.locator('#handshake-diagram svg').first).to_be_visible()
    assert serious_violations(page) == []


# The size the diagram's text is drawn at: its font size times the SVG's scale (a diagram shrunk to the column
# keeps font-size: 16px in the computed style while drawing 6 px letters, so the scale must be counted).
DIAGRAM_TEXT = """box => {
  const svg = box.querySelector('svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  return {smallest: Math.min(...sizes), count: sizes.length, clientWidth: box.clientWidth,
          scrollWidth: box.scrollWidth};
}"""
PAGE_OVERFLOW = 'document.documentElement.scrollWidth - document.documentElement.clientWidth'
MIN_READABLE_PX = 11


def test_on_a_phone_the_diagram_keeps_readable_text_and_fits_the_column(lesson_app: RunningApp, page: Page) -> None:
    page.set_viewport_size({'width': 375, 'height': 812})
    page.goto(lesson_app.url + '/#handshake-diagram', wait_until='networkidle')
    box = page.locator('#handshake-diagram .lesson-diagram')
    expect(box.locator('svg text').first).to_be_visible()
    drawn = box.evaluate(DIAGRAM_TEXT)
    assert drawn['count'] > 0 and drawn['smallest'] >= MIN_READABLE_PX, drawn
    # laid out narrow (issue 19): the Server side in view, nothing to scroll sideways (test_phone_figures_browser)
    assert drawn['scrollWidth'] <= drawn['clientWidth'], drawn
    assert page.evaluate(PAGE_OVERFLOW) <= 0


@pytest.mark.parametrize('width', [375, 1280])
def test_the_copy_button_does_not_cover_the_code(lesson_app: RunningApp, page: Page, width: int) -> None:
    page.set_viewport_size({'width': width, 'height': 812})
    page.goto(lesson_app.url + '/', wait_until='networkidle')
    block = page.locator('#opening-a-connection .nicegui-code')
    button = block.locator('.nicegui-code-copy').bounding_box()
    code = block.locator('pre').bounding_box()
    assert button is not None and code is not None
    overlaps = (
        button['x'] < code['x'] + code['width']
        and code['x'] < button['x'] + button['width']
        and button['y'] < code['y'] + code['height']
        and code['y'] < button['y'] + button['height']
    )
    assert not overlaps, (button, code)


def test_every_button_is_in_sentence_case(lesson_app: RunningApp, page: Page) -> None:
    for path in ('/', '/quiz'):
        page.goto(lesson_app.url + path, wait_until='networkidle')
        buttons = page.locator('button')
        expect(buttons.first).to_be_attached()
        transforms = buttons.evaluate_all('buttons => buttons.map(b => getComputedStyle(b).textTransform)')
        assert set(transforms) == {'none'}, (path, transforms)
