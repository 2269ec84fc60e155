import re

from playwright.sync_api import BrowserContext, Page, expect

from lesson.content_files import bundled_content_dir, load_lesson

from .accessibility import serious_violations
from .conftest import OffsiteRequests, RunningApp

DARK = re.compile(r'\bbody--dark\b')
SNIPPET = load_lesson(bundled_content_dir()).code('first-socket').source


def test_lesson_loads_without_leaving_loopback(lesson_app: RunningApp, page: Page,
                                               offsite_requests: OffsiteRequests) -> None:
    page.goto(lesson_app.url + '/', wait_until='networkidle')
    expect(page.get_by_role('heading', level=1)).to_be_visible()
    expect(page.get_by_role('heading', name='HTTP and WebSocket compared')).to_be_visible()
    assert offsite_requests.urls == []


def test_sequence_diagram_renders_as_svg(lesson_app: RunningApp, page: Page) -> None:
    page.goto(lesson_app.url + '/')
    svg = page.locator('#handshake-diagram svg')
    expect(svg.first).to_be_visible()
    expect(svg.first).to_contain_text('Accepts and confirms the connection')


def test_copy_button_puts_the_snippet_on_the_clipboard(lesson_app: RunningApp, context: BrowserContext,
                                                       page: Page) -> None:
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
