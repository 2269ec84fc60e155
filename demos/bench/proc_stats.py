"""CPU time and resident memory of a process and its children, read from /proc (Linux), without psutil.

The app is more than one process (the page server starts the echo server as its child), so what a class costs it
is the sum over the process tree: every benchmark reads it here, the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

#: Clock ticks per second, the unit of utime and stime in /proc/PID/stat.
CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


def rss_kib(pid: int | str = 'self') -> int:
    """Resident memory of one process in KiB (VmRSS of /proc/PID/status)."""
    with open(f'/proc/{pid}/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise RuntimeError(f'no VmRSS in /proc/{pid}/status')


def children(pid: int) -> list[int]:
    """The direct children of ``pid``, over all its threads (a child belongs to the thread that started it)."""
    found: list[int] = []
    try:
        tasks = list(Path(f'/proc/{pid}/task').iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(child) for child in (task / 'children').read_text().split()]
        except OSError:
            continue  # the thread ended meanwhile
    return found


def process_tree(pid: int) -> Iterator[int]:
    """``pid`` and all its descendants that are alive now, parents first."""
    pending = [pid]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        yield current
        pending += children(current)


def cpu_seconds(pid: int) -> float:
    """CPU time of one process, user + system, including its children it has waited for (cutime + cstime).

    Counting the waited-for children keeps a sum over a tree steady when a child ends between two readings:
    its time moves from its own line to its parent's.
    """
    with open(f'/proc/{pid}/stat') as stat:
        text = stat.read()
    # The command name (field 2) is in parentheses and may hold spaces: the fields after its last ')' are fixed.
    fields = text[text.rindex(')') + 2 :].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and every descendant alive now (see :func:`cpu_seconds`)."""
    total = 0.0
    for member in process_tree(pid):
        try:
            total += cpu_seconds(member)
        except (OSError, ValueError):
            continue  # ended between listing and reading: its time is now in its parent's cutime
    return total


def tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and every descendant alive now, in KiB (shared pages counted in each)."""
    total = 0
    for member in process_tree(pid):
        try:
            total += rss_kib(member)
        except (OSError, RuntimeError):
            continue
    return total
