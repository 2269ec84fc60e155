"""The phases of a class run and what happens during them: the CPU clock per phase, the newcomers' page loads,
and the app's memory sampled once a second."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from demos.bench.clients import now_ms
from demos.bench.learner import load_page

#: Page loads in flight at most; beyond, a load is skipped and counted (the benchmark must not queue without end).
MAX_PAGE_LOADS_IN_FLIGHT = 50
PAGE_LOAD_TIMEOUT_S = 30.0


@dataclass
class Phase:
    name: str
    started_ms: float = 0.0
    ended_ms: float = 0.0
    app_cpu_s: float = 0.0
    bench_cpu_s: float = 0.0

    @property
    def wall_s(self) -> float:
        return (self.ended_ms - self.started_ms) / 1000

    def holds(self, at_ms: float) -> bool:
        return self.started_ms <= at_ms < self.ended_ms


class PhaseClock:
    """Measures a phase: wall time, the app's CPU time (its whole process tree) and this process's."""

    def __init__(self, app_cpu_seconds: Callable[[], float]) -> None:
        self.app_cpu_seconds = app_cpu_seconds

    @contextlib.asynccontextmanager
    async def measure(self, phase: Phase) -> Any:
        app_before, bench_before = self.app_cpu_seconds(), time.process_time()
        phase.started_ms = now_ms()
        try:
            yield phase
        finally:
            phase.ended_ms = now_ms()
            phase.app_cpu_s = self.app_cpu_seconds() - app_before
            phase.bench_cpu_s = time.process_time() - bench_before


@dataclass
class PageLoads:
    """The newcomers' page loads of the second phase."""

    timings_ms: list[float] = field(default_factory=list)
    html_bytes: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: int = 0


async def load_pages(port: int, per_s: float, duration_s: float, loads: PageLoads) -> None:
    """Start a ``/demo`` load every ``1 / per_s`` seconds for ``duration_s`` (an open loop: a slow answer does not
    slow the arrivals), at most :data:`MAX_PAGE_LOADS_IN_FLIGHT` at once."""
    loop = asyncio.get_running_loop()
    in_flight: set[asyncio.Task[None]] = set()

    async def one() -> None:
        try:
            page = await asyncio.wait_for(load_page(port), PAGE_LOAD_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            loads.failed.append(f'{type(error).__name__}: {error}')
            return
        if page.status != 200:
            loads.failed.append(f'HTTP {page.status}')
            return
        loads.timings_ms.append(page.elapsed_ms)
        loads.html_bytes.append(len(page.html.encode()))

    started = loop.time()
    count = int(per_s * duration_s)
    for k in range(count):
        await asyncio.sleep(max(0.0, started + k / per_s - loop.time()))
        if len(in_flight) >= MAX_PAGE_LOADS_IN_FLIGHT:
            loads.skipped += 1
            continue
        task = loop.create_task(one())
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.sleep(max(0.0, started + duration_s - loop.time()))
    if in_flight:
        await asyncio.wait(in_flight, timeout=PAGE_LOAD_TIMEOUT_S)


async def sample_rss(read_rss: Callable[[], int], stop: asyncio.Event, peaks: list[int]) -> None:
    """The app's resident memory, once a second until ``stop``; its peak is what a teacher's laptop must hold."""
    while not stop.is_set():
        peaks.append(read_rss())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
