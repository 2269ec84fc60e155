"""Figures that fit a phone: at 375 px the lesson's sequence diagram and the demo's delay chart fit the column (no
sideways scrolling, the Server side and the newest updates in view) with their text at 11 px or more."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from .conftest import RunningApp

PHONE: ViewportSize = {'width': 375, 'height': 812}
MIN_TEXT_PX = 11

#: The figure's box, its SVG's box, whether it scrolls sideways, and the smallest text as drawn (CSS px on screen).
MEASURE = """(selector) => {
  const box = document.querySelector(selector);
  const svg = box.tagName === 'svg' ? box : box.querySelector('svg');
  const drawn = svg.getBoundingClientRect();
  const scale = drawn.width / (svg.viewBox.baseVal.width || drawn.width);
  const texts = [...svg.querySelectorAll('text, foreignObject div, foreignObject span')]
    .filter((t) => t.textContent.trim() && t.getClientRects().length);
  return {
    box: box.getBoundingClientRect().toJSON(), svg: drawn.toJSON(), page: document.documentElement.clientWidth,
    scrolls: box.scrollWidth > box.clientWidth + 1, texts: texts.length,
    min_text_px: Math.min(...texts.map((t) => parseFloat(getComputedStyle(t).fontSize) * scale)),
  };
}"""


@pytest.fixture
def phone(browser: Browser) -> Page:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def fits(page: Page, selector: str) -> dict[str, Any]:
    figure: dict[str, Any] = page.evaluate(MEASURE, selector)
    assert not figure['scrolls'], figure
    assert figure['svg']['left'] >= 0 and figure['svg']['right'] <= figure['page'], figure
    assert figure['svg']['right'] <= figure['box']['right'] + 0.5, figure
    assert figure['texts'] >= 3 and figure['min_text_px'] >= MIN_TEXT_PX, figure
    return figure


def test_the_sequence_diagram_fits_a_phone_with_readable_text(lesson_app: RunningApp, phone: Page) -> None:
    phone.goto(lesson_app.url + '/')
    diagram = phone.locator('.lesson-diagram svg').first
    expect(diagram).to_be_visible()
    figure = fits(phone, '.lesson-diagram')
    server = phone.locator('.lesson-diagram svg text', has_text='Server').first
    right = server.evaluate('(t) => t.getBoundingClientRect().right')
    assert right <= figure['page'], 'the Server side is cut off'


def test_the_delay_chart_fits_a_phone_with_readable_text(lesson_app: RunningApp, phone: Page) -> None:
    phone.goto(lesson_app.url + '/demo')
    expect(phone.get_by_role('button', name='Start')).to_be_enabled()
    phone.get_by_role('button', name='Start').click()
    # enough updates that the newest sits at the chart's right end (the check below is about that end)
    phone.wait_for_function("() => Number(document.querySelector('[data-series=push]')?.dataset.points) >= 6")
    fits(phone, '.demo-chart-box')
    # the newest update is drawn inside the visible box, not past its right edge
    newest = phone.evaluate(
        """() => { const line = document.querySelector('[data-series=push]');
                   const box = line.ownerSVGElement.getBoundingClientRect();
                   return [line.getBoundingClientRect().right, box.right]; }"""
    )
    assert newest[0] <= newest[1] + 0.5, newest
    # the axis unit sits above every tick label, whatever their width (the issue read "ms6000": the unit was drawn
    # on the top tick's line, over a four-digit label)
    below = phone.evaluate(
        """() => { const texts = [...document.querySelectorAll('[data-chart=delays] .demo-axis text')];
                   const unit = texts.find((t) => t.textContent.trim() === 'ms').getBoundingClientRect();
                   return texts.filter((t) => t.textContent.trim() !== 'ms')
                     .every((t) => t.getBoundingClientRect().top >= unit.bottom - 0.5); }"""
    )
    assert below
