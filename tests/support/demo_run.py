"""One demo run's figures, as the lanes panel sends them at Stop: the run the quiz tests quote, in every layer."""

from __future__ import annotations

RUN: dict[str, float] = {
    'poll_requests': 48,
    'poll_updates': 12,
    'poll_empty': 36,
    'poll_interval_ms': 500,
    'poll_delay_p50_ms': 251.4,
    'push_updates': 12,
    'push_delay_p50_ms': 1.8,
}
