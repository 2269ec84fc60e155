"""What the echo server turns away: each refusal counted by reason and logged at WARNING with the client's address.

Anything an outsider can make the server refuse, a script can repeat: every refusal gets one log line per address and
kind a minute, with the count of the others (:class:`demos.protocol.limits.OncePerMinute`, the app's pages use the
same one), and the counts left unsaid when a minute ends are logged then. Behind a trusted proxy the address is the
browser's, as the proxy forwarded it.
"""

from __future__ import annotations

import http
import logging
from collections import defaultdict

from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from demos.protocol import http_answers
from demos.protocol.limits import OncePerMinute
from demos.server.counting import CountingConnection

log = logging.getLogger(__name__)


class Refused(Exception):
    """A request turned down in ``process_request``: the server answers ``status`` with ``reason``.

    Attributes:
        allow_origin: The page origin allowed to read the answer (CORS), once the origin check passed.
        flood: The kind of refusal its log line is counted under (once a minute per address); None: by status.
    """

    def __init__(self, status: http.HTTPStatus, reason: str, *, flood: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.flood = flood
        self.allow_origin: str | None = None


class Refusals:
    """The server's refusals: counts by reason for a teacher's overview, and the log lines."""

    def __init__(self) -> None:
        #: Refusals so far, by reason (e.g. ``'403 Forbidden'``, ``'1008 message rate'``).
        self.counts: defaultdict[str, int] = defaultdict(int)
        self.flood_log = OncePerMinute()

    def answer(
        self,
        connection: CountingConnection,
        request: Request,
        status: http.HTTPStatus,
        reason: str,
        *,
        allow_origin: str | None = None,
        flood: str | None = None,
    ) -> Response:
        """Count, log and answer a refusal in ``process_request``; ``flood`` names its kind (default: the status)."""
        counted = f'{status.value} {status.phrase}'
        self._tell(
            counted,
            connection.client_host,
            flood or counted,
            'echo server: refused %s %s %r: %s (%d %s)',
            connection.client,
            request.method,
            request.path.partition('?')[0][:200],  # the query may carry a session id or a token
            reason,
            status.value,
            status.phrase,
        )
        return http_answers.refusal(status, reason, allow_origin=allow_origin)

    def before_request(self, connection: CountingConnection, status: int, kind: str, reason: str) -> None:
        """A connection turned away before ``process_request`` (see :class:`demos.server.counting.ConnectionGuards`)."""
        phrase = http.HTTPStatus(status).phrase if status else 'closed'
        answer = f' ({status} {phrase})' if status else ' (closed without an answer)'
        counted = f'{status} {phrase}' if status else f'closed: {kind}'
        message = 'echo server: refused %s: %s%s'
        self._tell(counted, connection.peer_host, kind, message, connection.peer, reason, answer)

    def by_websockets(self, connection: CountingConnection, request: Request, response: Response) -> None:
        """websockets itself turned the handshake down (bad key, version, method): say so once."""
        reason = response.body.decode(errors='replace').strip().splitlines()[0] if response.body else ''
        self._tell(
            f'{response.status_code} {response.reason_phrase}',
            connection.client_host,
            f'handshake {response.status_code}',
            'echo server: refused %s %r: %s (%d %s)',
            connection.client,
            request.path.partition('?')[0][:200],
            reason,
            response.status_code,
            response.reason_phrase,
        )

    def closing(self, connection: CountingConnection, kind: str, reason: str) -> None:
        """The server closes an open WebSocket with 1008 (policy violation): count it under ``kind`` and log it."""
        self._tell(
            f'1008 {kind}',
            connection.client_host,
            kind,
            'echo server: closed %s on /%s: %s (1008)',
            connection.client,
            connection.endpoint,
            reason,
        )

    def dropped(self, connection: CountingConnection, kind: str, what: str) -> None:
        """The server dropped or closed a connection for what its client did once connected: log it (no count: the
        session's lanes count those, e.g. ``dropped_slow``)."""
        self._tell(None, connection.client_host, kind, 'echo server: %s', what)

    def closed(self, connection: CountingConnection, closed: ConnectionClosed) -> None:
        """A WebSocket ended: log the close codes that say something went wrong and were not logged already."""
        sent = closed.sent
        if sent is None or sent.code in (CloseCode.NORMAL_CLOSURE, CloseCode.GOING_AWAY, CloseCode.POLICY_VIOLATION):
            return  # an ordinary goodbye, or one already logged when it was decided
        self._tell(
            f'{sent.code} {sent.reason or "closed"}',
            connection.client_host,
            f'close {sent.code}',
            'echo server: closed %s on /%s: %s (%d)',
            connection.client,
            connection.endpoint,
            sent.reason or 'protocol error',
            sent.code,
        )

    def _tell(self, counted: str | None, host: str, kind: str, message: str, *args: object) -> None:
        """Count one under ``counted`` (None: not counted here), then log ``message`` unless a line of this ``kind``
        for ``host`` was logged this minute; a flood's line ends with how many refusals it stands for."""
        if counted is not None:
            self.counts[counted] += 1
        if (count := self.flood_log.note(host, kind)) is not None:
            log.warning(message + '%s', *args, _more(count, kind))

    def log_unsaid(self) -> None:
        """One line per address and kind for the refusals of a flood that its first line did not mention."""
        for address, kind, count in self.flood_log.unsaid():
            log.warning('echo server: refused %d more from %s in the last minute (%s)', count, address, kind)


def _more(count: int, kind: str | None) -> str:
    """What a flood's log line adds: how many refusals of its kind it stands for."""
    if count <= 1:
        return ''
    return f'; {count} refusals ({kind}) from this address since the last such line'
