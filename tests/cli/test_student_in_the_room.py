"""Issue 18: a bored student on the same network, as scripted clients against the app as a subprocess (plain HTTP
with httpx, socket.io speaking NiceGUI's page protocol with :class:`demos.bench.page_client.PageTab`). Loopback
source addresses such as 127.0.0.2 stand for other machines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from demos.bench.page_client import PageTab

from ..support.app_process import RunningApp

HUGE = 'x' * 900_000


@pytest.fixture(scope='module')
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    running = RunningApp(data_dir=tmp_path_factory.mktemp('student'))
    running.start()
    yield running
    running.stop()


def user_files(app: RunningApp) -> list[Path]:
    return sorted((app.data_dir / 'storage').glob('storage-user-*'))


async def toggle_dark(app: RunningApp, value: object) -> None:
    """One fresh cookie jar opens the lesson and sets the header's Dark switch to ``value``."""
    async with httpx.AsyncClient(base_url=app.url, timeout=20) as http:
        tab = PageTab(http)
        await tab.open('/')
        switch = next(key for key, element in tab.elements.items() if element.get('text') == 'Dark')
        await tab.emit(switch, 'update:modelValue', value)
        await tab.expect('dark')  # the page's own update: the event was run
        await tab.close()


def test_the_dark_switch_stores_a_boolean_and_nothing_else(app: RunningApp) -> None:
    """Finding 2: a 900 KB string through the Dark switch from 40 fresh cookie jars wrote 40 files of 900 KB."""

    async def attack() -> None:
        await asyncio.gather(*(toggle_dark(app, HUGE) for _ in range(10)))
        await toggle_dark(app, True)

    asyncio.run(attack())
    files = user_files(app)
    sizes = [path.stat().st_size for path in files]
    assert sizes and max(sizes) < 1000, sizes
    assert [json.loads(path.read_text()).get('dark_mode') for path in files] == [True]
    warnings = [line for line in app.log.splitlines() if 'learner storage: refused a write' in line]
    assert len(warnings) == 1, app.log[-3000:]
    assert HUGE[:100] not in app.log
