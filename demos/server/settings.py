"""The echo server's settings: every limit a named field with a sentence on why, each default safe for a class.

The app fills them from its command line (``lesson/web/echo_config.py``); tests and the benchmark set a few.
"""

from __future__ import annotations

from dataclasses import dataclass

from demos.protocol.feed import DEFAULT_HISTORY_LIMIT
from demos.protocol.limits import address_cap


@dataclass(frozen=True)
class EchoSettings:
    """Every limit of the echo server, with a default that is safe on a classroom network."""

    #: Largest message a client may send, in bytes. Bigger ones close the connection with 1009 (message
    #: too big) before they are buffered: without a cap, one client could make the server hold any amount.
    max_message_bytes: int = 64 * 1024
    #: Concurrent TCP connections (WebSocket and HTTP). Beyond it the handshake is answered 503, so a
    #: flood of connections costs a short answer each instead of memory and a file descriptor for good.
    max_connections: int = 2000
    #: Sustained messages per second one WebSocket connection may send, and the burst allowed after a quiet
    #: spell. Beyond them the connection is closed with 1008 (policy violation) and a reason: a tab sending
    #: in a loop would otherwise keep a core busy for one learner.
    messages_per_s: float = 50.0
    message_burst: int = 100
    #: Most updates one poll answer carries; a poller far behind catches up over several polls.
    poll_batch_limit: int = 100
    #: Updates each session's feed keeps for polls.
    history_limit: int = DEFAULT_HISTORY_LIMIT
    #: High-water mark of each connection's write buffer, in bytes: ``send()`` (echo, clock answers) waits
    #: for the client to read when more than this is unsent, so a client that does not read slows only itself.
    write_limit_bytes: int = 32 * 1024
    #: A push subscriber with more than this unsent in its write buffer is closed with 1008 and counted
    #: (``dropped_slow``). The feed is written without waiting for anyone, so one stalled subscriber never
    #: delays the others; this bounds what a stalled one can make the server hold.
    push_backlog_limit_bytes: int = 256 * 1024
    #: Keepalive: a ping every ``ping_interval_s``; no pong within ``ping_timeout_s`` closes the connection
    #: (1011), so a vanished laptop does not hold a connection and a subscriber slot forever. None disables.
    ping_interval_s: float | None = 20.0
    ping_timeout_s: float | None = 20.0
    #: Seconds a client gets to finish the opening handshake, and to answer the closing one.
    #: The closing one is short so that stopping the app closes everything within a few seconds.
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    #: Offer permessage-deflate. Off by default: the demo then shows the protocol's own frame sizes
    #: (2 to 14 bytes of framing per message) and each connection holds no compressor state.
    permessage_deflate: bool = False
    #: Page origins (``scheme://host:port``) allowed to connect and to read polls (CORS): the app's own
    #: pages, filled in by the app, plus ``--allowed-origin``. Other origins get 403 (cross-site WebSocket
    #: hijacking: any page a learner visits could otherwise use the server through their browser).
    allowed_origins: tuple[str, ...] = ()
    #: How the app serves its pages (``http`` or ``https``) and on which port. A page with this scheme and
    #: port, at the host the client used to reach the echo server, is the app's own and is allowed too: a
    #: class on ``--host 0.0.0.0`` reaches the app at an address it cannot list (see :mod:`demos.protocol.origins`).
    #: None (either) turns that rule off, leaving ``allowed_origins`` alone.
    app_scheme: str | None = None
    app_port: int | None = None
    #: Whether a request without an ``Origin`` header is served. Browsers always send one, so this only
    #: concerns programs (websocat, the benchmark) — which could send any Origin anyway.
    allow_missing_origin: bool = True
    #: Proxy addresses or networks whose forwarding headers are believed (``--trusted-proxy``). From such a peer, the
    #: origin rule checks the page against the public origin the proxy forwarded, and per-address limits count the
    #: browser's forwarded address, not the proxy's. Empty: no header is believed (anyone can send them).
    trusted_proxies: tuple[str, ...] = ()
    #: Demo sessions kept at once (one per demo page load). Beyond it the least recently used session with no
    #: open connection is forgotten; when every session has one, a new session is refused (503).
    max_sessions: int = 500
    #: The key the app signs demo session ids with (:mod:`demos.protocol.session_ids`). With a key, only ids the app
    #: issued (and ``default``) create a session, and any other id is answered 404, creating nothing: a foreign
    #: page cannot push learners' sessions out by inventing ids. None (tests, the benchmark) takes any id.
    session_key: bytes | None = None
    #: Whether a page may take the whole server down for a few seconds (``restart`` on ``/inspect``). The app
    #: turns it off when it serves a class: one learner's click would cut everyone's demos.
    learners_may_restart: bool = True
    #: A session nobody used for this long, with no subscriber, is forgotten and its feed stopped.
    session_idle_timeout_s: float = 3600.0
    #: The update rate of a new session's feed, per second.
    default_rate_per_s: float = 10.0
    #: Pending connections the kernel queues before accept(); a class connecting at once needs room.
    listen_backlog: int = 1024
    #: New demo sessions one client address may create per minute (a bucket of this size, refilled over a minute).
    #: A demo page load creates one, so a learner never meets it; a script that loads the page for issued ids and
    #: spends them could otherwise churn every idle learner's session out. Beyond it: 429, logged once a minute per
    #: address with a count. 0 means no limit (benchmarks of a whole class from one machine).
    sessions_per_minute_per_address: int = 60
    #: Connections (with their request sent: WebSockets, polls, streams) one client address may hold, on top of
    #: ``max_connections``: a script from one address must not hold every slot and lock the class out. A class behind
    #: one router is one address, so the default lets about 200 learners' pages (8 connections each) through; the cap
    #: is never more than four fifths of ``max_connections`` (:func:`demos.protocol.limits.address_cap`), so other
    #: addresses keep the rest whatever the global cap. 0 means no per-address cap (a benchmark of a whole class
    #: from one machine).
    connections_per_address: int = 1600
    #: Demo sessions one client address may hold (those it created that are still kept), on top of ``max_sessions``
    #: and never more than four fifths of it. At its cap, the address's own least recently used session without an
    #: open connection is forgotten to make room; when all of them have one, a new one is refused (503). The default
    #: fits 200 learners behind one address with two demo tabs each. 0 means no per-address cap.
    sessions_per_address: int = 400
    #: Connections one client address may hold that have not sent their request yet, once the server holds half of
    #: ``max_connections``. The connection cap is checked once a request arrived, so idle sockets (a slowloris) from
    #: one address could otherwise fill every slot and lock the class out; beyond it a new one is closed at once.
    #: Below half the cap it does not apply: a class behind one address connects in bursts and harms nobody.
    pending_per_address: int = 16
    #: Seconds from the accept for the whole request head; a slower client gets 408 and is closed. Browsers send
    #: the head in one go; ``open_timeout_s`` (which also covers a long poll's hold) would let an idle socket
    #: hold its slot for 10 s.
    request_timeout_s: float = 3.0
    #: Incoming messages each connection keeps unread before it stops reading the socket (websockets' ``max_queue``,
    #: 16 by default: 1 MiB of 64 KiB messages per client that sends without reading its echoes). The echo handler
    #: takes one message at a time anyway, so one waiting is all a well-behaved client needs.
    max_queue_messages: int = 1
    #: The kernel's receive and send buffers of each accepted socket (SO_RCVBUF/SO_SNDBUF; Linux doubles the value
    #: for its bookkeeping). Autotuned, a client that stops reading makes the kernel hold megabytes for it (2.3 MB
    #: measured). With ``max_queue_messages``, reading paused while the write side is over ``write_limit_bytes`` and
    #: large echoes written without a copy, a client that sends 64 KiB messages without reading makes the server hold
    #: about 116 KiB in the process (its connection, one message and part of the next) and 64 KiB in the kernel
    #: (measured with 500 such clients: benchmarks/memory_probe.py). 0 leaves the kernel's autotuning.
    socket_buffer_bytes: int = 16 * 1024

    @property
    def connections_cap_per_address(self) -> int | None:
        """Connections one address may hold with its request sent (None: no per-address cap)."""
        return address_cap(self.connections_per_address, self.max_connections)

    @property
    def sessions_cap_per_address(self) -> int | None:
        """Demo sessions one address may hold (None: no per-address cap)."""
        return address_cap(self.sessions_per_address, self.max_sessions)
