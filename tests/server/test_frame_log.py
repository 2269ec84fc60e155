"""The echo lane's frame log shows the frames as the server's socket carried them, both directions."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

from demos.protocol.frames import decode_frame
from demos.server.echo_server import EchoServer
from demos.server.frame_log import CLIENT_TO_SERVER, SERVER_TO_CLIENT, FrameLog

from .clients import eventually, raw_websocket


def _frames(server: EchoServer, session_id: str, direction: str) -> list[dict]:
    return [e for e in server.session(session_id).frame_log.entries() if e['direction'] == direction]


async def test_the_three_length_forms_masked_one_way_and_not_the_other(server: EchoServer) -> None:
    server.session('f1').watch_frames()
    # 65,536 bytes is the default limit (max_message_bytes = 64 KiB) and still allowed: websockets refuses
    # only messages *longer* than max_size. It needs the 64-bit form: the 16-bit one ends at 65,535.
    async with connect(f'ws://127.0.0.1:{server.port}/echo?session=f1', compression=None) as ws:
        for size in (125, 126, 65_536):
            await ws.send('x' * size)
            assert len(await ws.recv()) == size
    await eventually(lambda: len(_frames(server, 'f1', SERVER_TO_CLIENT)) == 4)  # three echoes and the close
    sent = _frames(server, 'f1', CLIENT_TO_SERVER)
    echoed = _frames(server, 'f1', SERVER_TO_CLIENT)
    forms = [(e['payload_length'], e['length_form'], e['header_size']) for e in sent[:3]]
    assert forms == [(125, '7-bit', 6), (126, '16-bit', 8), (65_536, '64-bit', 14)]
    forms = [(e['payload_length'], e['length_form'], e['header_size']) for e in echoed[:3]]
    assert forms == [(125, '7-bit', 2), (126, '16-bit', 4), (65_536, '64-bit', 10)]
    assert all(e['masked'] and len(e['masking_key']) == 8 for e in sent)
    assert not any(e['masked'] or e['masking_key'] for e in echoed)
    first = sent[0]
    assert first['opcode_name'] == 'text' and first['fin'] and not first['rsv1']
    assert bytes.fromhex(first['payload_preview']) == b'x' * 16
    assert first['wire_preview'] != first['payload_preview']  # masked on the wire
    assert first['summary'].startswith('text, FIN, masked with ')
    assert echoed[0]['wire_preview'] == echoed[0]['payload_preview']
    # The closing handshake: the client's close (masked), the server's answer; code 1000 both ways.
    assert (sent[-1]['opcode_name'], sent[-1]['close_code']) == ('close', 1000)
    assert (echoed[-1]['opcode_name'], echoed[-1]['close_code']) == ('close', 1000)
    entries = server.session('f1').frame_log.entries()
    assert [e['index'] for e in entries] == list(range(len(entries)))
    assert {e['connection'] for e in entries} == {1}


async def test_pings_and_pongs_show_both_ways(server: EchoServer) -> None:
    session = server.session('f2')
    session.watch_frames()
    async with connect(f'ws://127.0.0.1:{server.port}/echo?session=f2', compression=None) as ws:
        await (await ws.ping(b'from the client'))
        [latency] = await session.ping_echo()
        assert latency is not None and latency >= 0
    await eventually(lambda: any(e['opcode_name'] == 'close' for e in _frames(server, 'f2', SERVER_TO_CLIENT)))
    kinds = [
        (e['direction'], e['opcode_name'], bytes.fromhex(e['payload_preview'])) for e in session.frame_log.entries()
    ]
    assert kinds[:4] == [
        (CLIENT_TO_SERVER, 'ping', b'from the client'),
        (SERVER_TO_CLIENT, 'pong', b'from the client'),
        (SERVER_TO_CLIENT, 'ping', b'from the server'),
        (CLIENT_TO_SERVER, 'pong', b'from the server'),  # the client's automatic answer
    ]


async def test_a_frame_cut_into_single_bytes_is_logged_once(server: EchoServer) -> None:
    server.session('f3').watch_frames()
    sock = await raw_websocket(server.port, '/echo?session=f3')
    frame = Frame(Opcode.BINARY, b'\x00\x01\x02' * 50).serialize(mask=True, extensions=[])
    try:
        for byte in frame:
            await asyncio.to_thread(sock.sendall, bytes([byte]))
        echoed = b''
        while len(echoed) < 4 + 150:
            echoed += await asyncio.to_thread(sock.recv, 4096)
    finally:
        sock.close()
    assert decode_frame(echoed) is not None  # the echo came back whole
    entries = server.session('f3').frame_log.entries()
    assert [(e['direction'], e['opcode_name'], e['payload_length']) for e in entries[:2]] == [
        (CLIENT_TO_SERVER, 'binary', 150),
        (SERVER_TO_CLIENT, 'binary', 150),
    ]
    assert entries[0]['masking_key'] == frame[4:8].hex()


async def test_only_the_echo_lane_is_logged_and_the_page_polls_with_since(server: EchoServer) -> None:
    session = server.session('f4')
    session.watch_frames()
    async with connect(f'ws://127.0.0.1:{server.port}/push?session=f4', compression=None) as push:
        await eventually(lambda: len(session.subscribers) == 1)
        session.publish(session.feed.make_update())
        await push.recv()
    assert session.frame_log.entries() == [] and session.snapshot()['frame_log_next'] == 0
    async with connect(f'ws://127.0.0.1:{server.port}/echo?session=f4', compression=None) as ws:
        await ws.send('one')
        await ws.recv()
        await eventually(lambda: session.snapshot()['frame_log_next'] == 2)
        await ws.send('two')
        await ws.recv()
        await eventually(lambda: len(session.frame_log.entries(since=2)) == 2)
    assert [bytes.fromhex(e['payload_preview']) for e in session.frame_log.entries(since=2)[:2]] == [b'two', b'two']


async def test_frames_are_logged_only_for_a_session_a_page_watches(server: EchoServer) -> None:
    session = server.session('f5')
    async with connect(f'ws://127.0.0.1:{server.port}/echo?session=f5', compression=None) as ws:
        await ws.send('unwatched')
        assert await ws.recv() == 'unwatched'
    session.watch_frames()  # from the next connection on
    async with connect(f'ws://127.0.0.1:{server.port}/echo?session=f5', compression=None) as ws:
        await ws.send('watched')
        assert await ws.recv() == 'watched'
        await eventually(lambda: len(session.frame_log.entries()) == 2)
    texts = [
        (e['connection'], bytes.fromhex(e['payload_preview']))
        for e in session.frame_log.entries()
        if e['opcode_name'] == 'text'
    ]
    assert texts == [(2, b'watched'), (2, b'watched')]


def test_the_log_keeps_the_last_entries_and_numbers_them_for_good() -> None:
    frame_log = FrameLog(size=200, clock=lambda: 1.0)
    info, _ = decode_frame(b'\x81\x02hi')  # type: ignore[misc]
    for _ in range(250):
        frame_log.record(1, SERVER_TO_CLIENT, info)
    entries = frame_log.entries()
    assert len(entries) == 200 and entries[0]['index'] == 50 and frame_log.next_index == 250
    assert [e['index'] for e in frame_log.entries(since=245)] == [245, 246, 247, 248, 249]
    assert frame_log.entries(since=250) == []
    frame_log.clear()
    assert frame_log.entries() == [] and frame_log.next_index == 250
    with pytest.raises(ValueError):
        FrameLog(size=0)
