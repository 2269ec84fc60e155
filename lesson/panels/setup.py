"""What every live panel of one demo page is given: where the echo server is and which session is the page's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DemoSetup:
    """One page's way to its demo session.

    Args:
        echo_port: The echo server's port; the browser reaches it at the host the page came from.
        session: The page's demo session id, issued by the app (:mod:`demos.protocol.session_ids`).
        may_restart: Whether the page may take the echo server down (off when a class shares it).
        echo_base: Behind a proxy (``--public-echo-url``), where browsers reach the echo server instead: a path on
            the page's origin (``/echo-server``) or an absolute ``ws://``/``wss://`` URL.
    """

    echo_port: int
    session: str
    may_restart: bool = True
    echo_base: str | None = None

    def as_props(self) -> dict[str, Any]:
        # The names the browser code uses (demos/static/demo_hub.js: wsDemo.hubFor). The hub hands `echoPort` to
        # wsDemo.echoUrl unchanged, which takes a port or a public address, so a public address travels in it.
        echo: int | str = self.echo_base or self.echo_port
        return {'echoPort': echo, 'session': self.session, 'mayRestart': self.may_restart}
