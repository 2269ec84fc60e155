"""A shaped socket's bytes arrive when the link model says, within a few milliseconds, on asyncio's loop and uvloop.

Client and server share one event loop, so one clock: the model's times (recorded as the shaped socket asks for
them) are compared with the moments the raw client socket really has the bytes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from demos.protocol.link import Link, LinkConnection, LinkProfile
from demos.server.shaping import ShapedSocket, ShapingProtocol, demo_session_of

#: How far a measured arrival may stray from the model's, typically: a timer's millisecond step and a loop turn.
TOLERANCE_MS = 4.0
#: Never earlier than the model than this (uvloop's millisecond clock). Later, now and then, by whatever a loaded
#: two-core machine keeps the process off the CPU: the median says how closely the shaping follows the model.
EARLY_MS = 1.0


def assert_follows_model(measured: list[float], predicted: list[float], steps: int = 1) -> None:
    """No arrival earlier than the model's; the median within a few milliseconds of it (per timer on the way)."""
    assert len(measured) == len(predicted)
    late = sorted(m - p for m, p in zip(measured, predicted, strict=True))
    assert late[0] >= -EARLY_MS, late
    assert late[len(late) // 2] <= TOLERANCE_MS * steps, late


LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    'asyncio': asyncio.new_event_loop,
    'uvloop': uvloop.new_event_loop,
}


def run(loop_name: str, test: Callable[[], Coroutine[Any, Any, None]], attempts: int = 3) -> None:
    """Run ``test`` on a fresh loop; again, up to ``attempts`` times, when its timing fails: other work on a shared
    two-core machine can keep this process off the CPU for tens of milliseconds. A shaping that is off fails every
    attempt."""
    for attempt in range(attempts):
        with asyncio.Runner(loop_factory=LOOPS[loop_name]) as runner:
            try:
                runner.run(asyncio.wait_for(test(), 30))
                return
            except AssertionError:
                if attempt == attempts - 1:
                    raise


class RecordingConnection(LinkConnection):
    """The model of one connection, noting every arrival it predicted."""

    def __init__(self, link: Link, opened_at: float, *, tls: bool = False) -> None:
        super().__init__(link, opened_at, tls=tls)
        self.up: list[float] = []
        self.down: list[float] = []

    def upstream(self, at: float, size: int) -> float:
        self.up.append(super().upstream(at, size))
        return self.up[-1]

    def downstream(self, at: float, size: int) -> float:
        self.down.append(super().downstream(at, size))
        return self.down[-1]


class Server(asyncio.Protocol):
    """Answers each chunk with ``answer(chunk)`` (or nothing), noting when each chunk was read; scriptable."""

    def __init__(self, answer: Callable[[bytes], bytes] = lambda data: b'') -> None:
        self.answer = answer
        self.read_at: list[float] = []
        self.received = b''
        self.transport: asyncio.Transport | None = None
        self.pauses: list[bool] = []
        self.eof_at: float | None = None
        self.lost_at: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio.Transport

    def data_received(self, data: bytes) -> None:
        self.read_at.append(now_ms())
        self.received += data
        reply = self.answer(data)
        if reply and self.transport is not None:
            self.transport.write(reply)

    def eof_received(self) -> bool | None:
        self.eof_at = now_ms()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost_at = now_ms()

    def pause_writing(self) -> None:
        self.pauses.append(True)

    def resume_writing(self) -> None:
        self.pauses.append(False)


def now_ms() -> float:
    return asyncio.get_running_loop().time() * 1000


async def serve(
    profile: LinkProfile, server: Server, seed: int = 1
) -> tuple[asyncio.Server, list[RecordingConnection]]:
    link = Link(profile, random.Random(seed))
    models: list[RecordingConnection] = []

    def link_for(opened_at: float, tls: bool) -> LinkConnection:
        models.append(RecordingConnection(link, opened_at, tls=tls))
        return models[-1]

    loop = asyncio.get_running_loop()
    listener = await loop.create_server(lambda: ShapingProtocol(server, link_for), '127.0.0.1', 0)
    return listener, models


def port_of(listener: asyncio.Server) -> int:
    return int(listener.sockets[0].getsockname()[1])


async def read_records(reader: asyncio.StreamReader, count: int, size: int) -> list[float]:
    """When each of ``count`` records of ``size`` bytes was complete at the client."""
    times = []
    for _ in range(count):
        await reader.readexactly(size)
        times.append(now_ms())
    return times


@pytest.mark.parametrize('loop_name', LOOPS)
def test_a_request_is_read_after_the_set_up_and_half_a_round_trip_and_answered_half_a_round_trip_later(
    loop_name: str,
) -> None:
    async def scenario() -> None:
        server = Server(answer=lambda data: b'A' * 300)
        listener, models = await serve(LinkProfile('t', rtt_ms=100), server)
        answered: list[float] = []
        async with listener:
            for _ in range(5):  # five polls, each on a new connection
                reader, writer = await asyncio.open_connection('127.0.0.1', port_of(listener))
                writer.write(b'GET /poll HTTP/1.1\r\n\r\n')
                await reader.readexactly(300)
                answered.append(now_ms())
                writer.close()
        for model in models:
            assert model.up[0] == pytest.approx(model.opened_at + 150, abs=1e-6)  # set-up, then half a round trip
        assert_follows_model(server.read_at, [model.up[0] for model in models])
        # Answered the moment it was read, so the model has it back half a round trip later.
        assert [model.down[0] - read for model, read in zip(models, server.read_at, strict=True)] == [
            pytest.approx(50, abs=1.01)  # uvloop: a millisecond clock
        ] * 5
        assert_follows_model(answered, [model.down[0] for model in models])
        assert_follows_model(answered, [model.opened_at + 200 for model in models], steps=2)  # two round trips a poll

    run(loop_name, scenario)


@pytest.mark.parametrize('loop_name', LOOPS)
def test_a_burst_is_serialised_at_the_links_bandwidth(loop_name: str) -> None:
    async def scenario() -> None:
        server = Server(answer=lambda data: b'')
        listener, models = await serve(LinkProfile('t', rtt_ms=20, down_bits_per_s=2e6), server)
        async with listener:
            reader, writer = await asyncio.open_connection('127.0.0.1', port_of(listener))
            writer.write(b'hello')
            while not server.read_at:
                await asyncio.sleep(0.001)
            assert server.transport is not None
            for index in range(8):  # eight full segments: 1,500 bytes on the wire each, 6 ms at 2 Mbit/s
                server.transport.write(bytes([index]) * 1460)
            got = await read_records(reader, 8, 1460)
            writer.close()
        (model,) = models
        steps = [later - earlier for earlier, later in zip(model.down, model.down[1:], strict=False)]
        assert steps == [pytest.approx(6.0)] * 7
        assert_follows_model(got, model.down)

    run(loop_name, scenario)


@pytest.mark.parametrize('loop_name', LOOPS)
def test_loss_and_jitter_hold_later_messages_back_as_the_model_says(loop_name: str) -> None:
    async def scenario() -> None:
        server = Server()
        profile = LinkProfile('t', rtt_ms=40, jitter_ms=10, loss=0.05)
        listener, models = await serve(profile, server, seed=4)  # one loss, holding six updates back
        async with listener:
            reader, writer = await asyncio.open_connection('127.0.0.1', port_of(listener))
            writer.write(b'subscribe')
            while not server.read_at:
                await asyncio.sleep(0.001)
            assert server.transport is not None
            receiving = asyncio.create_task(read_records(reader, 40, 16))
            sent = []
            for seq in range(40):  # a push feed: 16-byte updates every 30 ms
                sent.append(now_ms())
                server.transport.write(seq.to_bytes(16, 'big'))
                await asyncio.sleep(0.03)
            got = await receiving
            writer.close()
        (model,) = models
        assert len(model.down) == 40
        assert_follows_model(got, model.down)
        # The run did show loss: some updates waited a retransmission timeout (240 ms) and more, others did not.
        held = [arrival - at for arrival, at in zip(model.down, sent, strict=True)]
        assert max(held) >= profile.rto_ms + 10 and min(held) <= 30
        assert model.down == sorted(model.down)  # and none overtook another, whatever its jitter

    run(loop_name, scenario)


@pytest.mark.parametrize('loop_name', LOOPS)
def test_a_close_travels_behind_the_data_and_bytes_are_unchanged(loop_name: str) -> None:
    async def scenario() -> None:
        payload = random.Random(2).randbytes(200_000)
        server = Server(answer=lambda data: b'')
        listener, models = await serve(LinkProfile('t', rtt_ms=10, down_bits_per_s=100e6), server)
        async with listener:
            reader, writer = await asyncio.open_connection('127.0.0.1', port_of(listener))
            writer.write(b'go')
            while not server.read_at:
                await asyncio.sleep(0.001)
            transport = server.transport
            assert transport is not None
            for start in range(0, len(payload), 10_000):
                transport.write(payload[start : start + 10_000])
            # Held bytes count as the write buffer and pause the protocol beyond the high-water mark.
            assert transport.get_write_buffer_size() == len(payload)
            assert server.pauses == [True]
            transport.close()
            assert transport.is_closing()
            got = await reader.read()  # to EOF
            eof_at = now_ms()
            writer.close()
        (model,) = models
        assert got == payload
        assert server.pauses == [True, False]
        assert eof_at >= model.down[-1] - EARLY_MS  # not before the FIN's own arrival, after the data's
        assert model.down[-1] > model.down[-2]

    run(loop_name, scenario)


@pytest.mark.parametrize('loop_name', LOOPS)
def test_a_paused_reader_gets_nothing_until_it_resumes_and_eof_comes_last(loop_name: str) -> None:
    async def scenario() -> None:
        server = Server()
        listener, _ = await serve(LinkProfile('t', rtt_ms=20), server)
        async with listener:
            reader, writer = await asyncio.open_connection('127.0.0.1', port_of(listener))
            writer.write(b'first')
            while not server.read_at:
                await asyncio.sleep(0.001)
            assert server.transport is not None
            server.transport.pause_reading()
            writer.write(b'second')
            writer.write_eof()
            await asyncio.sleep(0.1)
            assert server.received == b'first' and server.eof_at is None
            resumed = now_ms()
            server.transport.resume_reading()
            # The socket hands over what waited in the kernel only now; the link model then carries it (10 ms).
            while server.eof_at is None:
                await asyncio.sleep(0.002)
            assert server.received == b'firstsecond' and server.eof_at - resumed >= 10 - EARLY_MS
            assert await reader.read() == b''  # the server did not keep the half-closed socket: closed after the FIN
            writer.close()

    run(loop_name, scenario)


@pytest.mark.parametrize('loop_name', LOOPS)
def test_a_client_that_leaves_at_once_is_still_heard_and_then_lost(loop_name: str) -> None:
    async def scenario() -> None:
        server = Server()
        listener, models = await serve(LinkProfile('t', rtt_ms=60), server)
        async with listener:
            _, writer = await asyncio.open_connection('127.0.0.1', port_of(listener))
            writer.write(b'GET /poll HTTP/1.1\r\n\r\n')
            writer.close()  # its FIN leaves right behind the request
            while server.lost_at is None:
                await asyncio.sleep(0.005)
        (model,) = models
        assert server.received == b'GET /poll HTTP/1.1\r\n\r\n'
        assert server.eof_at is not None and server.read_at[0] <= server.eof_at <= server.lost_at
        assert_follows_model([server.read_at[0], server.eof_at], model.up[:2])
        assert server.read_at[0] - model.opened_at >= 90 - EARLY_MS  # set-up and half a round trip

    run(loop_name, scenario)


def test_an_unshaped_connection_is_the_protocols_own() -> None:
    async def scenario() -> None:
        server = Server(answer=lambda data: data)
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(lambda: ShapingProtocol(server, lambda at, tls: None), '127.0.0.1', 0)
        async with listener:
            reader, writer = await asyncio.open_connection('127.0.0.1', port_of(listener))
            writer.write(b'ping')
            assert await reader.readexactly(4) == b'ping'
            assert not isinstance(server.transport, ShapedSocket)
            writer.close()

    run('asyncio', scenario)


def test_the_request_line_names_the_path_and_the_demo_session() -> None:
    assert demo_session_of(b'GET /poll?session=abc.DEF&after=3 HTTP/1.1\r\nHost: x\r\n') == ('/poll', 'abc.DEF')
    assert demo_session_of(b'GET /echo HTTP/1.1\r\n') == ('/echo', 'default')
    assert demo_session_of(b'GET /echo HTTP/1.1') is None  # no whole line yet
    assert demo_session_of(b'\x16\x03\x01 binary\r\n') is None
    assert demo_session_of(b'GET http://elsewhere/ HTTP/1.1\r\n') is None
