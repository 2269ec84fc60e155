import json
import math
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from demos.protocol.metrics import (
    ClockExchange,
    bytes_per_update,
    delivery_delay,
    delivery_delays,
    estimate_clock_offset,
    mean,
    percentile,
    summarize,
)


def test_percentile_interpolates_linearly_between_closest_ranks() -> None:
    values = [15, 20, 35, 40, 50]
    assert percentile(values, 0) == 15 and percentile(values, 100) == 50
    assert percentile(values, 50) == 35
    assert percentile(values, 40) == pytest.approx(29)  # rank 1.6: 20 + 0.6 * 15
    assert percentile([3, 1, 2], 50) == 2  # order does not matter
    assert percentile([7], 99) == 7
    assert percentile(list(range(101)), 95) == pytest.approx(95)
    assert percentile([1, 2], 95) == pytest.approx(1.95)


def test_percentile_refuses_nothing_and_out_of_range() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    for q in (101, -1, 99.9, True, float('nan')):
        with pytest.raises(ValueError):
            percentile([1, 2], q)
    with pytest.raises(ValueError):
        mean([])


def test_percentile_of_one_value_and_whole_float_q() -> None:
    assert percentile([7], 0) == percentile([7], 50) == percentile([7], 100) == 7
    assert percentile([1, 2, 3], 50.0) == 2
    assert mean([0.1] * 10) == 0.1  # exactly rounded: a plain sum would give 0.09999999999999999
    one = summarize([2.5])
    assert one is not None and (one.count, one.mean, one.p50, one.p99, one.min, one.max) == (1, 2.5, 2.5, 2.5, 2.5, 2.5)


def test_summary() -> None:
    assert summarize([]) is None
    summary = summarize([4.0, 1.0, 3.0, 2.0])
    assert summary is not None
    assert (summary.count, summary.mean, summary.p50, summary.min, summary.max) == (4, 2.5, 2.5, 1.0, 4.0)
    assert summary.p95 == pytest.approx(3.85) and summary.p99 == pytest.approx(3.97)
    assert summary.as_dict()['p50'] == 2.5


def test_delivery_delay_corrects_for_the_clock_offset() -> None:
    # The server's clock is 1,000 ms ahead of the browser's: made at 5,000 server time, received at
    # 4,010 browser time = 5,010 server time: 10 ms on the way.
    assert delivery_delay(5_000, 4_010, clock_offset_ms=1_000) == 10
    assert delivery_delay(5_000, 5_010) == 10
    assert delivery_delays([[1, 5_000, 4_010], (2, 5_100, 4_130)], 1_000) == [10, 30]


def test_bytes_per_update() -> None:
    assert bytes_per_update(1_000, 4) == 250
    assert bytes_per_update(1_000, 0) is None


def test_clock_offset_comes_from_the_fastest_exchange() -> None:
    # Server 500 ms ahead; the slow exchange's legs are lopsided, the fast one's barely.
    slow = ClockExchange(client_sent=0, server_time=590, client_received=100)  # offset 540, rtt 100
    fast = ClockExchange(client_sent=1_000, server_time=1_503, client_received=1_004)  # offset 501, rtt 4
    estimate = estimate_clock_offset([slow, fast, (2_000, 2_600, 2_050)])
    assert estimate is not None
    assert estimate.offset_ms == 501 and estimate.round_trip_ms == 4 and estimate.exchanges == 3
    assert estimate.max_error_ms == 2
    assert abs(estimate.offset_ms - 500) <= estimate.max_error_ms


def test_clock_offset_without_usable_exchanges() -> None:
    assert estimate_clock_offset([]) is None
    assert estimate_clock_offset([(10, 0, 5)]) is None  # negative round trip: the clock jumped
    assert math.isclose(estimate_clock_offset([(0, 0, 0)]).offset_ms, 0)  # type: ignore[union-attr]


def test_clock_exchanges_with_a_negative_round_trip_are_left_out_however_small() -> None:
    jumped = (1_000, 1_500, 999.999)  # received a microsecond "before" it was sent: the client clock jumped
    kept = (2_000, 2_503, 2_006)  # offset 500, round trip 6
    estimate = estimate_clock_offset([jumped, kept, (3_000, 3_600, 3_050)])
    assert estimate is not None
    # the jumped one would be the "fastest" exchange if it were kept, and would be counted
    assert (estimate.offset_ms, estimate.round_trip_ms, estimate.exchanges) == (500, 6, 2)
    instant = estimate_clock_offset([(5_000, 5_400, 5_000), kept])  # a round trip of 0 is possible and kept
    assert instant is not None and (instant.offset_ms, instant.round_trip_ms, instant.exchanges) == (400, 0, 2)


FIGURES_JS = Path(__file__).resolve().parents[2] / 'demos' / 'static' / 'figures.js'


def run_figures_js(calls: list[list[object]]) -> list[object]:
    """Run ``demos/static/figures.js`` in node and apply ``[function name, argument]`` calls to it."""
    node = shutil.which('node')
    if node is None:
        pytest.fail("node is not installed: apt-get install -y nodejs (the page's figures are checked in it)")
    script = (
        "const vm = require('vm'); globalThis.window = globalThis;"
        f'vm.runInThisContext({json.dumps(FIGURES_JS.read_text(encoding="utf-8"))});'
        f'const calls = {json.dumps(calls)};'
        'console.log(JSON.stringify(calls.map(([name, arg]) => wsDemo[name](arg))));'
    )
    done = subprocess.run([node, '-e', script], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_page_computes_its_figures_by_the_same_definitions_as_the_benchmark() -> None:
    """figures.js (the learner's browser) against this module (the benchmark), on the same samples."""
    rng = random.Random(17)
    samples = [[rng.uniform(0, 500) for _ in range(n)] for n in (1, 2, 3, 7, 20, 101, 1000)]
    samples.append([5.0] * 10)
    exchanges = [
        [[t, t + rng.uniform(-100, 100), t + rng.uniform(0, 50)] for t in range(0, 10_000, 1_000)] for _ in range(5)
    ]
    exchanges.append([[1_000, 1_500, 999.999], [2_000, 2_503, 2_006]])  # a clock jump is left out by both
    calls: list[list[object]] = [['summarize', s] for s in samples]
    calls += [['estimateClockOffset', e] for e in exchanges]
    *results, no_values, no_exchanges = run_figures_js([*calls, ['summarize', []], ['estimateClockOffset', []]])
    assert no_values is None and no_exchanges is None
    for values, page in zip(samples, results, strict=False):
        ours = summarize(values)
        assert ours is not None and isinstance(page, dict)
        assert page == pytest.approx(ours.as_dict(), rel=1e-12), values
    for made, page in zip(exchanges, results[len(samples) :], strict=True):
        ours_offset = estimate_clock_offset(made)
        assert ours_offset is not None and isinstance(page, dict)
        # Compared: the offset and its bounds. ``exchanges`` differs by design of each side's display: the page
        # counts the exchanges it made, this module those it used.
        assert (page['offsetMs'], page['roundTripMs'], page['maxErrorMs']) == pytest.approx(
            (ours_offset.offset_ms, ours_offset.round_trip_ms, ours_offset.max_error_ms), rel=1e-12
        )
