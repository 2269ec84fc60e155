"""The benchmarks' targets and their Markdown: each one a measured figure against a limit, lower is better."""

from __future__ import annotations

from typing import Any


def target(name: str, measured: float, limit: float, unit: str = 'ms') -> dict[str, Any]:
    """One target as plain data; ``met`` when ``measured`` is at most ``limit``."""
    return {'target': name, 'measured': measured, 'limit': limit, 'unit': unit, 'met': measured <= limit}


def fmt(value: float | None, digits: int = 1) -> str:
    """A figure for a Markdown table: thousands separated, ``n/a`` for None or NaN."""
    if value is None or value != value:  # None or NaN
        return 'n/a'
    return f'{value:,.{digits}f}'


def targets_markdown(targets: list[dict[str, Any]]) -> list[str]:
    """The lines of a Markdown table of ``targets``."""
    lines = ['| target | measured | met |', '| --- | ---: | :---: |']
    for t in targets:
        lines.append(f'| {t["target"]} | {fmt(t["measured"], 2)} {t["unit"]} | {"yes" if t["met"] else "NO"} |')
    return lines
