"""The demo sessions one echo server keeps: created on first use, bounded in number and in creation rate.

Every demo page load gets a session of its own (:mod:`demos.server.sessions`); a class of thirty holds thirty. The
table keeps at most :attr:`~demos.server.settings.EchoSettings.max_sessions`, forgets the least recently used one
with no open connection to make room, and sweeps out those idle for longer than the idle timeout.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

from websockets.frames import CloseCode

from demos.protocol.feed import PriceFeed
from demos.protocol.limits import AddressRateLimiter
from demos.protocol.session_ids import is_genuine
from demos.server.sessions import DEFAULT_SESSION_ID, DemoSession, check_session_id
from demos.server.settings import EchoSettings

log = logging.getLogger(__name__)


class UnknownSession(ValueError):
    """A session id the app did not issue (answered 404)."""


class TooManySessions(ValueError):
    """Every session slot holds a session with open connections (answered 503)."""


class AddressHoldsTooMany(TooManySessions):
    """The client address holds its share of sessions and every one has open connections (answered 503)."""


class SessionRateExceeded(ValueError):
    """A client address created its allowance of sessions this minute (answered 429)."""


class SessionTable:
    """The server's demo sessions, least recently used first.

    Args:
        settings: The server's settings (session key, limits, the new feeds' rate and history).
        new_sessions: How many sessions each client address may create a minute.
    """

    def __init__(self, settings: EchoSettings, new_sessions: AddressRateLimiter) -> None:
        self.settings = settings
        self.new_sessions = new_sessions
        self._sessions: OrderedDict[str, DemoSession] = OrderedDict()
        # Who created each session (a client address), for the per-address cap; the page's own calls name nobody.
        self._owners: dict[str, str] = {}
        #: Called with each new session (the class link puts it on the class's profile).
        self.on_new: Callable[[DemoSession], None] = lambda session: None

    def all(self) -> list[DemoSession]:
        return list(self._sessions.values())

    def find(self, session_id: str) -> DemoSession | None:
        """The session ``session_id`` if the table has it; never creates one."""
        return self._sessions.get(session_id)

    def get(self, session_id: str, *, client: str | None = None) -> DemoSession:
        """The demo session ``session_id``, created on first use (:meth:`demos.server.echo_server.EchoServer.session`).

        Raises:
            ValueError: if ``session_id`` is not 1 to 64 letters, digits, ``.``, ``-`` or ``_``.
            UnknownSession: if there is a session key and ``session_id`` was not issued with it.
            TooManySessions: if ``max_sessions`` sessions all have open connections.
            AddressHoldsTooMany: if ``client`` holds its share of sessions and all have open connections.
            SessionRateExceeded: if ``client`` created its allowance of sessions this minute.
        """
        existing = self._sessions.get(session_id)
        if existing is not None:
            self._sessions.move_to_end(session_id)
            existing.touch()
            return existing
        settings = self.settings
        check_session_id(session_id)
        key = settings.session_key
        if key is not None and session_id != DEFAULT_SESSION_ID and not is_genuine(key, session_id):
            raise UnknownSession('no such demo session: load the demo page to get one')
        if client is not None and not self.new_sessions.allow(client):
            raise SessionRateExceeded(
                f'at most {settings.sessions_per_minute_per_address} new demo sessions a minute from one address'
            )
        if client is not None:
            self._make_room_for(client)
        if len(self._sessions) >= settings.max_sessions and not self._make_room():
            raise TooManySessions(f'all {settings.max_sessions} demo sessions are in use')
        feed = PriceFeed(history_limit=settings.history_limit, rate_per_s=settings.default_rate_per_s)
        session = DemoSession(
            session_id,
            feed,
            push_backlog_limit_bytes=settings.push_backlog_limit_bytes,
            permessage_deflate=settings.permessage_deflate,
        )
        self._sessions[session_id] = session
        if client is not None:
            self._owners[session_id] = client
        self.on_new(session)
        return session

    def held_by(self, client: str) -> list[DemoSession]:
        """The sessions ``client`` created that are still kept, least recently used first."""
        return [s for s in self._sessions.values() if self._owners.get(s.id) == client]

    def _make_room_for(self, client: str) -> None:
        """Keep ``client`` under its share: forget its least recently used session without an open connection."""
        cap = self.settings.sessions_cap_per_address
        if cap is None:
            return
        held = self.held_by(client)
        if len(held) < cap:
            return
        idle = next((session for session in held if not session.in_use), None)
        if idle is None:
            raise AddressHoldsTooMany(f'this address holds {len(held)} demo sessions in use, its most')
        self._drop(idle, 'its address holds its most demo sessions')

    def sweep_idle(self) -> None:
        """Forget the sessions with no open connection that nobody used for longer than the idle timeout."""
        timeout = self.settings.session_idle_timeout_s
        for session in [s for s in self._sessions.values() if not s.in_use and s.idle_for_s > timeout]:
            self._drop(session, 'idle')

    def _make_room(self) -> bool:
        """Forget the least recently used session with no open connection; False when every session has one."""
        for session in self._sessions.values():
            if not session.in_use:
                self._drop(session, 'too many demo sessions')
                return True
        return False

    def _drop(self, session: DemoSession, why: str) -> None:
        del self._sessions[session.id]
        self._owners.pop(session.id, None)
        _forget(session, why)


def _forget(session: DemoSession, why: str) -> None:
    log.info('echo server: forgetting demo session %s (%s)', session.id, why)
    session.stop()
    session.close_subscribers(CloseCode.GOING_AWAY, 'demo session ended')
