"""A learner's network link as a pure model: send times and sizes in, arrival times out.

On loopback every lane of the demo is as fast as the machine. A real link adds four things, and this module models
exactly those, per TCP connection and per segment (the way WebPageTest's packet-level shaping does, rather than
DevTools' per-request throttling):

* **propagation**: each direction takes half the round trip, give or take the jitter; a connection's bytes never
  overtake each other (TCP delivers in order);
* **serialisation**: a direction carries so many bits per second, shared by every connection of the learner, and a
  segment (up to :data:`MSS_BYTES` of payload plus :data:`SEGMENT_HEADER_BYTES` of TCP/IP headers) occupies it for
  its size over that rate;
* **loss as TCP sees it**: a lost segment is sent again after a retransmission timeout (doubling each time), and
  every byte behind it on that connection waits for it (head-of-line blocking), because TCP hands data to the
  application only in order;
* **connection set-up**: a new connection pays one round trip (SYN, SYN-ACK) before the client may send its
  request, and one more for TLS (a TLS 1.3 handshake); a lost SYN or SYN-ACK costs the 1 s initial timeout.

No clock and no I/O: the caller says when bytes were sent (milliseconds on any clock it likes) and gets back when
the last of them arrives. Randomness (jitter, loss) comes from a random source passed in, so a seed replays a run
and a test can script every draw. The asyncio layer that applies this to real sockets is
:mod:`demos.server.shaping`; what this means for each lane of the demo is :mod:`demos.protocol.lane_forecast`.

Left out, on purpose: slow start and congestion control (the demo's messages fit the initial window of ten
segments), fast retransmit (sparse updates rarely have three segments behind a loss to trigger it) and the
serialisation of handshake packets (a few dozen bytes each).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

#: Payload bytes per TCP segment: a 1,500-byte Ethernet MTU less 40 bytes of IPv4 and TCP headers.
MSS_BYTES = 1460
#: Header bytes each segment adds on the wire (IPv4 20 + TCP 20): what serialisation charges beyond the payload.
SEGMENT_HEADER_BYTES = 40
#: Linux keeps the RTT variance term of its retransmission timeout at no less than ``tcp_rto_min`` (200 ms):
#: a lost segment is resent after about RTT + 200 ms on a steady link.
RTO_MIN_VARIANCE_MS = 200.0
#: The retransmission timeout of a SYN (RFC 6298's initial 1 s, Linux's ``TCP_TIMEOUT_INIT``).
SYN_RTO_MS = 1000.0
#: Resends of one segment the model draws before it lets the next attempt through: TCP would retry longer, but at
#: the losses a profile allows (at most 20 %) seven losses in a row happen about once in 80,000 segments.
MAX_RETRANSMISSIONS = 6

#: The bounds of a custom profile: a round trip up to 1.5 s (worse than any satellite link; and a request then still
#: arrives well within the echo server's 3 s request deadline), 16 kbit/s to 10 Gbit/s,
#: up to 20 % loss (beyond that TCP barely works and a lane would only show timeouts).
MAX_RTT_MS = 1500.0
MIN_BITS_PER_S = 16_000.0
MAX_BITS_PER_S = 10e9
MAX_LOSS = 0.2


class RandomSource(Protocol):
    """Where jitter and loss come from: :class:`random.Random` (seeded) or a test's scripted draws."""

    def random(self) -> float: ...


@dataclass(frozen=True, slots=True)
class LinkProfile:
    """One kind of link: round trip, jitter, bandwidth each way (None: as fast as the machine) and segment loss.

    ``jitter_ms`` is the most a one-way delay strays from half the round trip, either way, so half the round trip
    stays the median; it is at most half the round trip (a delay is never negative). ``loss`` is the share of
    segments lost, in each direction.
    """

    id: str
    rtt_ms: float = 0.0
    jitter_ms: float = 0.0
    down_bits_per_s: float | None = None
    up_bits_per_s: float | None = None
    loss: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.rtt_ms <= MAX_RTT_MS:
            raise ValueError(f'round trip must be 0 to {MAX_RTT_MS:g} ms, not {self.rtt_ms!r}')
        if not 0 <= self.jitter_ms <= self.rtt_ms / 2:
            raise ValueError(
                f'jitter must be 0 to half the round trip ({self.rtt_ms / 2:g} ms), not {self.jitter_ms!r}'
            )
        for name in ('down_bits_per_s', 'up_bits_per_s'):
            rate = getattr(self, name)
            if rate is not None and not MIN_BITS_PER_S <= rate <= MAX_BITS_PER_S:
                raise ValueError(f'{name} must be {MIN_BITS_PER_S:g} to {MAX_BITS_PER_S:g} or None, not {rate!r}')
        if not 0 <= self.loss <= MAX_LOSS:
            raise ValueError(f'loss must be 0 to {MAX_LOSS:g}, not {self.loss!r}')

    @property
    def shaped(self) -> bool:
        """Whether the link changes anything: "same room" does not, and its sockets are left alone."""
        return bool(self.rtt_ms or self.down_bits_per_s or self.up_bits_per_s or self.loss)

    @property
    def one_way_ms(self) -> float:
        return self.rtt_ms / 2

    @property
    def rto_ms(self) -> float:
        """How long a sender waits before resending a lost segment: Linux's SRTT + max(4 RTTVAR, 200 ms)."""
        return self.rtt_ms + max(RTO_MIN_VARIANCE_MS, 4 * self.jitter_ms)

    def as_props(self) -> dict[str, object]:
        return {
            'id': self.id,
            'rtt_ms': self.rtt_ms,
            'jitter_ms': self.jitter_ms,
            'down_bits_per_s': self.down_bits_per_s,
            'up_bits_per_s': self.up_bits_per_s,
            'loss': self.loss,
        }


#: The profiles a learner can pick, from published figures. "3g" is Chrome DevTools' "Fast 3G" preset
#: (150 ms x 3.75 latency, 1.6 Mbit/s x 0.9 down, 750 kbit/s x 0.9 up), here as a round trip per connection
#: rather than a delay per request. Satellite is a geostationary link (about 600 ms however good the dish).
PROFILES: tuple[LinkProfile, ...] = (
    LinkProfile('same-room'),
    LinkProfile('home-broadband', rtt_ms=30.0),
    LinkProfile('4g', rtt_ms=60.0, down_bits_per_s=10e6, up_bits_per_s=5e6, loss=0.001),
    LinkProfile('3g', rtt_ms=562.5, down_bits_per_s=1.44e6, up_bits_per_s=675e3),
    LinkProfile('satellite', rtt_ms=600.0, down_bits_per_s=10e6, up_bits_per_s=10e6),
    LinkProfile('lossy-wifi', rtt_ms=20.0, loss=0.02),
)
#: The profile a learner sets by hand (:func:`custom_profile`).
CUSTOM_ID = 'custom'
#: Loopback, as the demo always ran: nothing shaped.
UNSHAPED = PROFILES[0]
PROFILE_IDS: tuple[str, ...] = (*(profile.id for profile in PROFILES), CUSTOM_ID)


def profile_named(profile_id: str) -> LinkProfile:
    """The named profile with this id (not ``custom``, which needs its figures: :func:`custom_profile`)."""
    for profile in PROFILES:
        if profile.id == profile_id:
            return profile
    raise ValueError(f'no link profile {profile_id!r}; known: {", ".join(p.id for p in PROFILES)}')


def custom_profile(
    rtt_ms: float,
    jitter_ms: float = 0.0,
    down_kbit_s: float | None = None,
    up_kbit_s: float | None = None,
    loss_percent: float = 0.0,
) -> LinkProfile:
    """A learner's own link, in the units a person thinks in (kbit/s, per cent); ``ValueError`` out of bounds."""
    return LinkProfile(
        CUSTOM_ID,
        rtt_ms=float(rtt_ms),
        jitter_ms=float(jitter_ms),
        down_bits_per_s=None if down_kbit_s is None else float(down_kbit_s) * 1000,
        up_bits_per_s=None if up_kbit_s is None else float(up_kbit_s) * 1000,
        loss=float(loss_percent) / 100,
    )


def wire_bytes(size: int) -> int:
    """Bytes a write of ``size`` payload bytes puts on the link, TCP/IP headers included (a bare FIN for 0)."""
    segments = max(1, math.ceil(size / MSS_BYTES))
    return size + segments * SEGMENT_HEADER_BYTES


def transmission_ms(size: int, bits_per_s: float | None) -> float:
    """Milliseconds a direction of ``bits_per_s`` is busy sending a write of ``size`` payload bytes."""
    if bits_per_s is None:
        return 0.0
    return wire_bytes(size) * 8 * 1000 / bits_per_s


class Pipe:
    """One direction of the learner's access link: one queue, so its connections share the bandwidth."""

    def __init__(self, bits_per_s: float | None) -> None:
        self.bits_per_s = bits_per_s
        #: When the last bit queued so far leaves (the caller's clock).
        self.free_at = -math.inf

    def transmit(self, at: float, size_on_wire: int) -> float:
        """Queue ``size_on_wire`` bytes offered at ``at``; when their last bit has left."""
        if self.bits_per_s is None:
            return at
        start = max(at, self.free_at)
        self.free_at = start + size_on_wire * 8 * 1000 / self.bits_per_s
        return self.free_at


class Link:
    """A learner's link under ``profile``: both directions' queues and the random draws of every connection on it.

    Draws, in order, for each segment: whether it is lost (only when the profile loses any; again for each resend),
    then its propagation delay (only when the profile has jitter). A SYN round trip draws the SYN's loss, then the
    SYN-ACK's (only if the SYN got through), then the two propagation delays.
    """

    def __init__(self, profile: LinkProfile, rng: RandomSource) -> None:
        self.profile = profile
        self.rng = rng
        self.down = Pipe(profile.down_bits_per_s)
        self.up = Pipe(profile.up_bits_per_s)

    def connect(self, opened_at: float, *, tls: bool = False) -> LinkConnection:
        """A TCP connection the client opened at ``opened_at`` (plus a TLS handshake when ``tls``)."""
        return LinkConnection(self, opened_at, tls=tls)

    def propagation_ms(self) -> float:
        """One direction's delay for one segment: half the round trip, plus or minus up to the jitter."""
        jitter = self.profile.jitter_ms
        if not jitter:
            return self.profile.one_way_ms
        return self.profile.one_way_ms + jitter * (2 * self.rng.random() - 1)

    def lost(self) -> bool:
        loss = self.profile.loss
        return bool(loss) and self.rng.random() < loss

    def resent_at(self, left_at: float, timeout_ms: float) -> float:
        """When the copy of a segment (first sent at ``left_at``) that gets through leaves: after each loss, one
        more timeout, each twice the one before (TCP's exponential back-off)."""
        at, wait = left_at, timeout_ms
        for _ in range(MAX_RETRANSMISSIONS):
            if not self.lost():
                break
            at += wait
            wait *= 2
        return at

    def segment_arrival(self, left_at: float) -> float:
        """When a data segment whose last bit left at ``left_at`` arrives, after any losses and its propagation."""
        return self.resent_at(left_at, self.profile.rto_ms) + self.propagation_ms()


class LinkConnection:
    """One TCP connection over a :class:`Link`: its handshakes, and its bytes kept in order each way.

    ``upstream`` is the client (the browser) sending to the server, ``downstream`` the server answering.
    """

    def __init__(self, link: Link, opened_at: float, *, tls: bool = False) -> None:
        self.link = link
        self.opened_at = opened_at
        self.tls = tls
        #: When the client may send its first byte: the SYN-ACK (and with TLS the server's handshake) is in.
        self.ready_at = self._handshakes(opened_at, tls)
        # The latest arrival so far each way: nothing behind it may arrive earlier (order, head-of-line blocking).
        self._upstream_done = -math.inf
        self._downstream_done = -math.inf

    def _handshakes(self, opened_at: float, tls: bool) -> float:
        link = self.link
        at, wait = opened_at, SYN_RTO_MS
        # The client's SYN timer notices a lost SYN and a lost SYN-ACK alike, and sends the SYN again.
        for _ in range(MAX_RETRANSMISSIONS):
            if not link.lost() and not link.lost():
                break
            at += wait
            wait *= 2
        ready = at + link.propagation_ms() + link.propagation_ms()
        if tls:  # ClientHello up, the server's hello (certificate, Finished) down: then the request may go
            ready = link.segment_arrival(ready)
            ready = link.segment_arrival(ready)
        return ready

    def upstream(self, at: float, size: int) -> float:
        """The client sends ``size`` bytes at ``at`` (0: its FIN); when the server has the last of them.

        Bytes offered before the handshakes are done leave once they are: a browser writes its request the moment
        its socket connects, which on this model's link is :attr:`ready_at`. They are serialised on their own rather
        than queued on the shared direction: booked there for a later moment, they would hold up whatever the
        learner's other connections send meanwhile.
        """
        early = at < self.ready_at
        pipe = Pipe(self.link.up.bits_per_s) if early else self.link.up
        arrival = self._send(pipe, max(at, self.ready_at), size, self._upstream_done)
        self._upstream_done = arrival
        return arrival

    def downstream(self, at: float, size: int) -> float:
        """The server sends ``size`` bytes at ``at`` (0: its FIN); when the client has the last of them."""
        arrival = self._send(self.link.down, at, size, self._downstream_done)
        self._downstream_done = arrival
        return arrival

    def _send(self, pipe: Pipe, at: float, size: int, done: float) -> float:
        remaining = size
        while True:  # one segment at least: a FIN is a segment of headers only
            payload = min(MSS_BYTES, remaining)
            remaining -= payload
            left_at = pipe.transmit(at, payload + SEGMENT_HEADER_BYTES)
            done = max(done, self.link.segment_arrival(left_at))
            if remaining <= 0:
                return done
