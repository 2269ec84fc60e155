"""A demo session's link profile, and the echo server's connections that travel it.

The page picks a profile for its session over the inspection stream (``{"do": "link", "profile": "3g",
"poll_interval_ms": 500}``); from then on every new connection of that session to a lane or the echo console (the
lesson code's runs included) is shaped by the session's one :class:`demos.protocol.link.Link`, so its connections
share the learner's bandwidth as a phone's would. The inspection stream and the app's control channel are the
instruments, and are never shaped. The reply carries the model's forecast per lane (:mod:`demos.protocol.lane_forecast`)
for the page to show beside what it measures.

:class:`ShapedConnection` is the echo server's :class:`~demos.server.counting.CountingConnection` with the shaping
layer (:mod:`demos.server.shaping`) slid in under it once the request line names a shaped session: the bytes are
counted exactly as unshaped, only later.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from demos.protocol.feed import MAX_RATE_PER_S, MIN_RATE_PER_S
from demos.protocol.lane_forecast import forecast
from demos.protocol.link import CUSTOM_ID, Link, LinkConnection, LinkProfile, custom_profile, profile_named
from demos.server.counting import CountingConnection, CountingTransport
from demos.server.shaping import ShapedSocket, demo_session_of

#: The endpoints whose connections a session's link shapes: the four lanes and the echo console. Not ``/inspect``
#: (the page's instrument), ``/control`` (the app's) or ``/clock`` (no session).
SHAPED_ENDPOINTS = frozenset({'/poll', '/longpoll', '/sse', '/push', '/echo'})
#: The polling intervals a page may ask a forecast for (ms): the panel's choices lie well inside.
MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS = 10.0, 60_000.0
#: A custom profile's figures and their defaults (the round trip has none: it must be given).
_CUSTOM_FIELDS: dict[str, float | None] = {
    'rtt_ms': float('nan'),
    'jitter_ms': 0.0,
    'down_kbit_s': None,
    'up_kbit_s': None,
    'loss_percent': 0.0,
}


class SessionLink:
    """A session's link: the profile its page picked and the one model all the session's connections share."""

    def __init__(self, profile: LinkProfile, seed: int | None = None) -> None:
        self.profile = profile
        self.model = Link(profile, random.Random(seed))


class LinkedSession(Protocol):
    """What this module needs of a demo session: its link, and its feed's rate for the forecast."""

    link: SessionLink | None
    class_link: str | None

    @property
    def rate_per_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class LinkChoice:
    """A page's ``link`` command, checked: the profile, and the polling interval (and the feed rate, when the page
    gives one; else the session's) its forecast is for."""

    profile: LinkProfile
    poll_interval_ms: float
    rate_per_s: float | None = None


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValueError(f'"{name}" is a number')
    return float(value)


def parse_link_command(command: Mapping[str, Any]) -> LinkChoice:
    """``profile`` (a named one, or ``custom`` with ``rtt_ms``, ``jitter_ms``, ``down_kbit_s``, ``up_kbit_s`` (null:
    unlimited), ``loss_percent``), ``poll_interval_ms`` and optionally ``rate_per_s``; ``ValueError`` with a reason
    for anything else."""
    profile_id = command.get('profile')
    if not isinstance(profile_id, str):
        raise ValueError('"profile" is a profile id')
    if profile_id == CUSTOM_ID:
        figures: dict[str, float | None] = {}
        for name, default in _CUSTOM_FIELDS.items():
            value = command.get(name, default)
            nullable = name in ('down_kbit_s', 'up_kbit_s')  # no limit
            figures[name] = None if value is None and nullable else _number(value, name)
        profile = custom_profile(**figures)  # type: ignore[arg-type]
    else:
        profile = profile_named(profile_id)
    interval = _number(command.get('poll_interval_ms', 500), 'poll_interval_ms')
    if not MIN_POLL_INTERVAL_MS <= interval <= MAX_POLL_INTERVAL_MS:
        raise ValueError(f'"poll_interval_ms" is from {MIN_POLL_INTERVAL_MS:g} to {MAX_POLL_INTERVAL_MS:g}')
    rate = command.get('rate_per_s')
    if rate is not None and not MIN_RATE_PER_S <= _number(rate, 'rate_per_s') <= MAX_RATE_PER_S:
        raise ValueError(f'"rate_per_s" is from {MIN_RATE_PER_S:g} to {MAX_RATE_PER_S:g}')
    return LinkChoice(profile, interval, None if rate is None else float(rate))


def choose_link(session: LinkedSession, choice: LinkChoice) -> dict[str, Any]:
    """Put ``session`` on the chosen link (connections opened from now on), answering with the model's forecast.

    The same profile again keeps the session's model (and its queues): asking for a new forecast is not a new link.
    While the teacher has the class on one profile, the page's choice gives way: the answer is the class's.
    """
    if session.class_link is not None:
        return link_reply(
            replace(choice, profile=profile_named(session.class_link)), choice.rate_per_s or session.rate_per_s
        )
    current = session.link
    if not choice.profile.shaped:
        session.link = None
    elif current is None or current.profile != choice.profile:
        session.link = SessionLink(choice.profile)
    return link_reply(choice, choice.rate_per_s or session.rate_per_s)


def link_reply(choice: LinkChoice, rate_per_s: float) -> dict[str, Any]:
    forecasts = forecast(choice.profile, poll_interval_ms=choice.poll_interval_ms, rate_per_s=rate_per_s)
    return {
        'profile': choice.profile.as_props(),
        'rto_ms': choice.profile.rto_ms,
        'poll_interval_ms': choice.poll_interval_ms,
        'rate_per_s': rate_per_s,
        'forecast': {f.lane: f.as_dict() for f in forecasts},
    }


class _Underneath:
    """The counting connection's own handling of its socket's events: the shaped socket calls it when they arrive."""

    def __init__(self, connection: CountingConnection) -> None:
        self._connection = connection

    def data_received(self, data: bytes) -> None:
        CountingConnection.data_received(self._connection, data)

    def eof_received(self) -> bool | None:
        return CountingConnection.eof_received(self._connection)

    def connection_lost(self, exc: Exception | None) -> None:
        CountingConnection.connection_lost(self._connection, exc)

    def pause_writing(self) -> None:
        CountingConnection.pause_writing(self._connection)

    def resume_writing(self) -> None:
        CountingConnection.resume_writing(self._connection)


class ShapedConnection(CountingConnection):
    """A counting connection whose socket travels its demo session's link, when the session has one.

    Args:
        find_session: The session of an id, or None (never creates one: the request is still to be checked).
    """

    def __init__(self, *args: Any, find_session: Callable[[str], LinkedSession | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._find_session = find_session
        self._socket_transport: Any = None
        self._first_data = True
        self.shaped: ShapedSocket | None = None

    def connection_made(self, transport: Any) -> None:
        self._socket_transport = transport
        super().connection_made(transport)

    def _shape_if_linked(self, head: bytes) -> None:
        named = demo_session_of(head)
        if named is None or named[0] not in SHAPED_ENDPOINTS:
            return
        session = self._find_session(named[1])
        link = session.link if session is not None else None
        if link is None or self.transport.is_closing():
            return
        tls = self._socket_transport.get_extra_info('ssl_object') is not None
        connection: LinkConnection = link.model.connect(self.opened_at * 1000, tls=tls)
        self.shaped = ShapedSocket(connection, self._socket_transport, _Underneath(self))
        # websockets writes through self.transport: from now on that is the counting layer over the shaped socket.
        self.transport = CountingTransport(self.shaped, self)  # type: ignore[arg-type,assignment]

    def data_received(self, data: bytes) -> None:
        if self._first_data:
            self._first_data = False
            self._shape_if_linked(data)
        if self.shaped is not None:
            self.shaped.received(data)
        else:
            super().data_received(data)

    def eof_received(self) -> bool | None:  # type: ignore[override]
        if self.shaped is not None:
            return self.shaped.received_eof()
        return super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.shaped is not None:
            self.shaped.lost(exc)
        else:
            super().connection_lost(exc)

    def pause_writing(self) -> None:
        if self.shaped is not None:
            self.shaped.socket_writing(paused=True)
        else:
            super().pause_writing()

    def resume_writing(self) -> None:
        if self.shaped is not None:
            self.shaped.socket_writing(paused=False)
        else:
            super().resume_writing()
