"""Browser tests: the real console script as a subprocess, driven by Playwright in Debian's Chromium.

The helpers live in `tests.support`; the names other test files import from here are re-exported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from ..support.app_process import (
    CHROMIUM,
    CHROMIUM_ARGS,
    STARTUP_TIMEOUT_S,
    ConsoleScriptMissing,
    RunningApp,
    app_environment,
    free_port,
    insecure_context,
    lesson_command,
)
from ..support.browser import ChromiumMissing, OffsiteRequests, launch_chromium

__all__ = [
    'CHROMIUM',
    'CHROMIUM_ARGS',
    'STARTUP_TIMEOUT_S',
    'OffsiteRequests',
    'RunningApp',
    'app_environment',
    'free_port',
    'insecure_context',
    'lesson_command',
]


@pytest.fixture(scope='session')
def start_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., RunningApp]]:
    """Factory: start an app process with extra flags; every process is stopped at the end of the session."""
    started: list[RunningApp] = []

    def start(*extra_args: str, scheme: str = 'http') -> RunningApp:
        running = RunningApp(data_dir=tmp_path_factory.mktemp('app'), extra_args=list(extra_args), scheme=scheme)
        try:
            running.start()
        except ConsoleScriptMissing as missing:
            pytest.fail(str(missing))
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture(scope='session')
def lesson_app(start_app: Callable[..., RunningApp]) -> RunningApp:
    """One shared app for the tests that do not need their own."""
    return start_app()


# Module scope on purpose: a live sync Playwright keeps an event loop running in this thread, which
# would break every asyncio test (NiceGUI's `user` fixture) collected after it.
@pytest.fixture(scope='module')
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope='module')
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    try:
        browser = launch_chromium(playwright_instance)
    except ChromiumMissing as missing:
        pytest.fail(str(missing))
    yield browser
    browser.close()


@pytest.fixture
def offsite_requests() -> OffsiteRequests:
    return OffsiteRequests()


@pytest.fixture
def context(browser: Browser, offsite_requests: OffsiteRequests) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={'width': 1280, 'height': 900}, ignore_https_errors=True)
    context.on('request', lambda request: offsite_requests.record(request.url))
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Factory: a browser context of its own (a teacher, a learner) at a laptop's size; all closed after the test."""
    made: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(viewport={'width': 1280, 'height': 720})
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
