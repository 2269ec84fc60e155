"""The lanes of the comparison: one list, used by the server's counters, the page's panels and the benchmark.

Each lane is one way for a browser to hear about the same feed. The learner-facing names and explanations live in
``content/demo.md``; this is what the code needs: the id, the endpoint and how the browser's client uses it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

ClientKind = Literal['poll', 'longpoll', 'sse', 'websocket']


@dataclass(frozen=True, slots=True)
class Lane:
    """One lane: its id (``poll``), the echo server's endpoint (``/poll``) and the kind of client it takes."""

    id: str
    endpoint: str
    client: ClientKind

    def as_props(self) -> dict[str, object]:
        return asdict(self)


#: The four lanes the page compares, in the order of its panels, its chart and its reports.
COMPARED_LANES: tuple[Lane, ...] = (
    Lane('poll', '/poll', 'poll'),
    Lane('longpoll', '/longpoll', 'longpoll'),
    Lane('sse', '/sse', 'sse'),
    Lane('push', '/push', 'websocket'),
)
#: Every lane the server counts: the four compared ones and the echo console's.
COUNTED_LANE_IDS: tuple[str, ...] = (*(lane.id for lane in COMPARED_LANES), 'echo')
