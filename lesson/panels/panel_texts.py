"""A panel's learner texts, as given to its browser code (one table of ``content/demo_panels.toml``)."""

from __future__ import annotations

from collections.abc import Mapping


def checked_texts(panel: str, keys: tuple[str, ...], texts: Mapping[str, str]) -> dict[str, str]:
    """The panel's texts, or a ``KeyError`` naming the missing keys (start-up checks them; this catches a caller
    that passed another panel's table)."""
    missing = [key for key in keys if key not in texts]
    if missing:
        raise KeyError(f'{panel} needs the texts {", ".join(missing)}')
    return dict(texts)
