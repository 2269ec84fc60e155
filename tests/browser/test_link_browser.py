"""The lanes on a link profile, in Chromium against the real app: switching from the same room to a satellite link
slows push by half its 600 ms round trip and polling by more than a whole round trip, and the page shows each lane's
measured median beside the link model's, with what the link does to each lane in words."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import RunningApp
from .test_demo_browser import SLOW, choose, figure, open_demo, wait_for_figure_at_least

SATELLITE_RTT_MS = 600
#: Polls each run waits for: on a 600 ms link each takes 1.2 s. The first answers of a run carry updates that waited
#: less than a whole cycle (the feed started with the first poll under way), so a median needs a few cycles.
POLLS = 10


def run_once(page: Page) -> dict[str, float]:
    """Start, wait for ``POLLS`` polls and updates on every lane, stop; the measured and model medians."""
    page.get_by_role('button', name='Start').click()
    wait_for_figure_at_least(page, 'poll-requests', POLLS, timeout=30_000)
    for lane in ('poll', 'longpoll', 'sse', 'push'):
        wait_for_figure_at_least(page, f'{lane}-updates', 5, timeout=30_000)
    page.get_by_role('button', name='Stop').click()
    expect(page.get_by_role('button', name='Start')).to_be_enabled(timeout=SLOW)
    figures = {}
    for lane in ('poll', 'push'):
        figures[f'{lane}-measured'] = figure(page, f'{lane}-delay-p50')
        figures[f'{lane}-model'] = figure(page, f'{lane}-delay-model')
    return figures


def test_a_satellite_link_slows_each_lane_as_the_model_says(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    choose(page, 'poll-interval', '250 ms')
    choose(page, 'update-rate', '10 per second')
    # Loopback first: the model's column is there from the start.
    expect(page.locator('[data-figure=poll-delay-model]')).to_have_attribute('data-value', '125.000', timeout=SLOW)
    loopback = run_once(page)
    page.get_by_role('button', name='Reset').click()
    expect(page.locator('[data-figure=poll-updates]')).to_have_attribute('data-value', '0')

    choose(page, 'link', 'Satellite (600 ms, 10 Mbit/s)')
    reading = page.locator('[data-link-reading]')
    expect(reading).to_have_attribute('data-profile', 'satellite', timeout=SLOW)
    expect(reading.locator('[data-link-lane=poll]')).to_contain_text('before any news can travel')
    expect(reading.locator('[data-link-lane=push]')).to_contain_text('pays its round trip once')
    expect(page.locator('[data-control=link]')).to_be_enabled()
    satellite = run_once(page)

    assert satellite['push-measured'] > 250, satellite
    assert satellite['poll-measured'] >= loopback['poll-measured'] + SATELLITE_RTT_MS, (loopback, satellite)
    # Measured beside the model, each lane: the medians of a short run within a generous margin of the model's.
    assert abs(satellite['push-measured'] - satellite['push-model']) <= 45, satellite
    assert abs(satellite['poll-measured'] - satellite['poll-model']) <= 0.3 * satellite['poll-model'], satellite
    assert loopback['push-model'] == 0 and satellite['push-model'] > 300
    for lane in ('poll', 'longpoll', 'sse', 'push'):
        expect(page.locator(f'[data-figure={lane}-delay-p50]')).not_to_have_attribute('data-value', '')
        expect(page.locator(f'[data-figure={lane}-delay-model]')).not_to_have_attribute('data-value', '')
    # The model's p95 beside the measured one: polling's spreads over a cycle, push's is its median.
    assert figure(page, 'poll-delay-model-p95') > satellite['poll-model']
    assert figure(page, 'push-delay-model-p95') == satellite['push-model']


def test_a_custom_link_out_of_bounds_is_answered_in_words(lesson_app: RunningApp, page: Page) -> None:
    open_demo(page, lesson_app)
    choose(page, 'link', 'Custom')
    rtt = page.locator('[data-control=link-rtt_ms]')
    rtt.fill('9000')
    rtt.dispatch_event('change')
    expect(page.locator('[data-link-error]')).to_contain_text('round trip must be 0 to 1500 ms', timeout=SLOW)
    rtt.fill('300')
    rtt.dispatch_event('change')
    expect(page.locator('[data-link-error]')).to_have_count(0, timeout=SLOW)
    expect(page.locator('[data-link-reading]')).to_have_attribute('data-profile', 'custom')
    expect(page.locator('[data-figure=push-delay-model]')).to_have_attribute('data-value', '150.000')
