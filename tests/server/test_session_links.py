"""A demo session's link profile in the echo server: the page picks it over /inspect, the session's lanes and echo
console travel it (each new connection paying its set-up), the inspection stream never does, and the bytes counted
are the same as on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from demos.protocol.link import custom_profile
from demos.server.echo_server import EchoServer
from demos.server.session_links import LinkChoice, parse_link_command

from .clients import http_get
from .conftest import APP_ORIGIN, StartServer

#: A timer's millisecond, a loop turn, and other work on a shared machine.
TOLERANCE_MS = 25.0


async def inspect(server: EchoServer, session: str) -> ClientConnection:
    return await connect(f'ws://127.0.0.1:{server.port}/inspect?session={session}', origin=APP_ORIGIN)  # type: ignore[arg-type]


async def command(inspector: ClientConnection, **fields: Any) -> dict[str, Any]:
    """Send one command and return its reply (other news skipped)."""
    await inspector.send(json.dumps({'id': 7, **fields}))
    async with asyncio.timeout(5):
        while True:
            message = json.loads(await inspector.recv())
            if message['type'] == 'reply':
                return message


async def timed_poll(server: EchoServer, session: str) -> tuple[float, int]:
    started = time.perf_counter()
    answer = await http_get(server.port, f'/poll?session={session}&after=0', [('Origin', APP_ORIGIN)])
    assert answer.status == 200
    return (time.perf_counter() - started) * 1000, answer.bytes_sent + answer.bytes_received


async def test_a_poll_on_a_linked_session_pays_the_set_up_and_a_round_trip_and_counts_the_same_bytes(
    start_server: StartServer,
) -> None:
    server = await start_server()
    async with await inspect(server, 'slow') as inspector:
        started = time.perf_counter()
        reply = await command(inspector, do='link', profile='custom', rtt_ms=200, poll_interval_ms=500)
        assert (time.perf_counter() - started) * 1000 < 100  # the inspection stream itself is never shaped
        assert reply['ok'] and reply['profile']['rtt_ms'] == 200
        assert set(reply['forecast']) == {'poll', 'longpoll', 'sse', 'push'}
        assert reply['forecast']['push']['median_ms'] == 100
        shaped_ms, shaped_bytes = await timed_poll(server, 'slow')
        fast_ms, fast_bytes = await timed_poll(server, 'fast')
    assert 400 - 1 <= shaped_ms <= 400 + TOLERANCE_MS  # SYN round trip, then the request's and the answer's halves
    assert fast_ms < 100
    # The server counted exactly the bytes the client exchanged, shaped or not (the answers differ only in a digit of
    # their clock reading).
    for session, exchanged in (('slow', shaped_bytes), ('fast', fast_bytes)):
        poll = server.session(session).snapshot()['lanes']['poll']
        assert poll['bytes_in'] + poll['bytes_out'] == exchanged
    assert abs(shaped_bytes - fast_bytes) <= 2


async def test_pushed_updates_arrive_half_a_round_trip_after_they_are_made(start_server: StartServer) -> None:
    server = await start_server()
    async with await inspect(server, 'phone') as inspector:
        reply = await command(inspector, do='link', profile='custom', rtt_ms=120, poll_interval_ms=500)
        model_ms = reply['forecast']['push']['median_ms']
        started = time.perf_counter()
        async with connect(f'ws://127.0.0.1:{server.port}/push?session=phone', origin=APP_ORIGIN) as push:
            opened_ms = (time.perf_counter() - started) * 1000
            await command(inspector, do='start', rate_per_s=20)
            delays: list[float] = []
            async with asyncio.timeout(10):
                while len(delays) < 30:
                    message = json.loads(await push.recv())
                    delays.append(time.time() * 1000 - message['made_at'])
    assert 240 - 1 <= opened_ms <= 240 + TOLERANCE_MS  # the set-up round trip, then the handshake's
    delays.sort()
    assert model_ms == 60
    assert abs(delays[len(delays) // 2] - model_ms) <= 5
    assert delays[0] >= model_ms - 2


async def test_the_echo_console_travels_the_link_and_same_room_takes_it_off(start_server: StartServer) -> None:
    server = await start_server()

    async def echo_round_trip_ms() -> float:
        async with connect(f'ws://127.0.0.1:{server.port}/echo?session=echoes', origin=APP_ORIGIN) as echo:
            started = time.perf_counter()
            await echo.send('hello')
            assert await echo.recv() == 'hello'
            return (time.perf_counter() - started) * 1000

    async with await inspect(server, 'echoes') as inspector:
        await command(inspector, do='link', profile='custom', rtt_ms=100, poll_interval_ms=500)
        shaped = await echo_round_trip_ms()
        reply = await command(inspector, do='link', profile='same-room', poll_interval_ms=500)
        assert reply['ok'] and reply['forecast']['poll']['median_ms'] == 250
        loopback = await echo_round_trip_ms()
    assert 100 - 1 <= shaped <= 100 + TOLERANCE_MS
    assert loopback < 50


async def test_a_bad_link_command_is_answered_with_the_reason(start_server: StartServer) -> None:
    server = await start_server()
    async with await inspect(server, 'me') as inspector:
        unknown = await command(inspector, do='link', profile='dial-up', poll_interval_ms=500)
        assert not unknown['ok'] and 'dial-up' in unknown['error']
        too_far = await command(inspector, do='link', profile='custom', rtt_ms=9000, poll_interval_ms=500)
        assert not too_far['ok'] and 'round trip' in too_far['error']
        fine = await command(inspector, do='link', profile='3g', poll_interval_ms=1000, rate_per_s=1)
        assert fine['ok'] and fine['rate_per_s'] == 1 and fine['profile']['id'] == '3g'


def test_a_custom_link_command_reads_a_persons_units() -> None:
    choice = parse_link_command(
        {'profile': 'custom', 'rtt_ms': 80, 'jitter_ms': 5, 'down_kbit_s': 2000, 'up_kbit_s': None, 'loss_percent': 1}
    )
    expected = custom_profile(rtt_ms=80, jitter_ms=5, down_kbit_s=2000, up_kbit_s=None, loss_percent=1)
    assert choice == LinkChoice(expected, 500.0)
