"""The class link: one link profile for every demo session at once, the teacher's shared moment.

While it is on, every session the server has (and every one that opens later) travels the class's profile: its new
lane and echo connections are shaped by it, its page's own ``link`` command is answered with the class's profile
(:func:`demos.server.session_links.choose_link`), and its snapshot names the profile so the page shows it and greys
its own choice out. Ending it puts every session back on loopback; each page then asks for its own choice again.
Connections already open keep the link they started with, as they do when a page changes its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from demos.protocol.link import LinkProfile, profile_named
from demos.server.session_links import SessionLink
from demos.server.sessions import DemoSession


class ClassLink:
    """One named profile for the class, or none.

    Args:
        sessions: The sessions the server has now.
    """

    def __init__(self, sessions: Callable[[], Iterable[DemoSession]]) -> None:
        self.sessions = sessions
        self.profile: LinkProfile | None = None

    def put(self, profile_id: str) -> int:
        """Every session on the named profile (``ValueError`` for an unknown or custom one); how many there are."""
        self.profile = profile_named(profile_id)
        count = 0
        for session in self.sessions():
            self.join(session)
            count += 1
        return count

    def join(self, session: DemoSession) -> None:
        """``session`` on the class's profile, if there is one (the server calls this for each new session)."""
        profile = self.profile
        if profile is None or session.class_link == profile.id:
            return
        session.class_link = profile.id
        session.link = SessionLink(profile) if profile.shaped else None

    def end(self) -> int:
        """Every session that was on the class's profile back on loopback; how many were."""
        self.profile = None
        returned = 0
        for session in self.sessions():
            if session.class_link is not None:
                session.class_link = None
                session.link = None
                returned += 1
        return returned
