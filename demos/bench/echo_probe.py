"""A dedicated echo round-trip probe in a process of its own, for benchmarks.

A benchmark that times echo round trips from the same event loop (or the same interpreter) as thirty simulated
learners measures its own queueing as much as the server: a reply that arrived on time waits for the loop. The probe
runs alone in a child process (own interpreter, own GIL, own loop): one WebSocket to ``/echo``, one small message
every ``interval_s``, each round trip timed with ``perf_counter`` and stamped with the epoch time it was sent, so
the caller can sort the samples into its phases.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from websockets.asyncio.client import connect


@dataclass(frozen=True)
class ProbeSample:
    sent_at_ms: float  # epoch ms
    round_trip_ms: float


async def _probe(url: str, interval_s: float, stop_at: float) -> list[tuple[float, float]]:
    samples: list[tuple[float, float]] = []
    async with connect(url, max_queue=4) as echo:
        index = 0
        next_at = time.monotonic()
        while time.monotonic() < stop_at:
            sent_at = time.time() * 1000
            started = time.perf_counter()
            await echo.send(f'probe {index}')
            await echo.recv()
            samples.append((sent_at, (time.perf_counter() - started) * 1000))
            index += 1
            next_at += interval_s
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    return samples


def _run(url: str, interval_s: float, duration_s: float, results: Connection) -> None:
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        samples = runner.run(_probe(url, interval_s, time.monotonic() + duration_s))
    results.send(samples)
    results.close()


class EchoProbe:
    """Start with :meth:`start`, read the samples with :meth:`finish` (which waits for the probe's end)."""

    def __init__(self, url: str, duration_s: float, interval_s: float = 0.05) -> None:
        self.url = url
        self.duration_s = duration_s
        self.interval_s = interval_s
        context = multiprocessing.get_context('spawn')
        self._results, child_end = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_run, args=(url, interval_s, duration_s, child_end), name='echo-probe', daemon=True
        )

    def start(self) -> None:
        self._process.start()

    def finish(self, timeout_s: float = 30.0) -> list[ProbeSample]:
        if not self._results.poll(self.duration_s + timeout_s):
            self._process.kill()
            raise TimeoutError('the echo probe did not report')
        samples = self._results.recv()
        self._process.join(5)
        return [ProbeSample(sent_at, rtt) for sent_at, rtt in samples]
