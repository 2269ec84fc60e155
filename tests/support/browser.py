"""Helpers for driving the app in Debian's Chromium through Playwright (imported only by browser tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Browser, Playwright

from .app_process import CHROMIUM, CHROMIUM_ARGS

LOOPBACK_HOSTS = frozenset({'127.0.0.1', 'localhost', '::1'})


class ChromiumMissing(RuntimeError):
    """Debian's Chromium is not installed, so there is no browser to drive."""


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Debian Chromium with the flags that keep it off the network."""
    if not Path(CHROMIUM).exists():
        raise ChromiumMissing(f'{CHROMIUM} is missing: apt-get install chromium')
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@dataclass
class OffsiteRequests:
    """Every request the page made to a host other than loopback (there must be none: no CDN, no tracking)."""

    urls: list[str] = field(default_factory=list)

    def record(self, url: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme in {'http', 'https', 'ws', 'wss'} and parsed.hostname not in LOOPBACK_HOSTS:
            self.urls.append(url)
