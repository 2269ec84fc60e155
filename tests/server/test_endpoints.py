"""The protocol of docs/echo-protocol.md, spoken by real clients: echo, push, polling, clock, wrong turns."""

from __future__ import annotations

import asyncio
import http
import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from demos.server.echo_server import EchoServer

from .clients import eventually, http_get, still_serves
from .conftest import APP_ORIGIN, StartServer


async def receive(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [json.loads(await ws.recv()) for _ in range(count)]


def url(server: EchoServer, path: str) -> str:
    return f'ws://127.0.0.1:{server.port}{path}'


async def test_echo_returns_text_and_binary_unchanged(server: EchoServer) -> None:
    async with connect(url(server, '/echo?session=s1')) as ws:
        await ws.send('héllo <img src=x onerror=alert(1)>')
        assert await ws.recv() == 'héllo <img src=x onerror=alert(1)>'
        await ws.send(b'\x00\x01\xff')
        assert await ws.recv() == b'\x00\x01\xff'
    echo = server.session('s1').lanes['echo']
    assert (echo.messages_in, echo.messages_out, echo.tcp_connections) == (2, 2, 1)


async def test_echo_without_session_uses_the_default_one(server: EchoServer) -> None:
    async with connect(url(server, '/echo')) as ws:
        await ws.send('hi')
        assert await ws.recv() == 'hi'
    assert server.session().lanes['echo'].messages_in == 1


async def test_every_update_reaches_every_subscriber_in_order(server: EchoServer) -> None:
    session = server.session('s2')
    clients = [await connect(url(server, '/push?session=s2')) for _ in range(3)]
    try:
        await eventually(lambda: len(session.subscribers) == 3)
        session.start(200)
        received = await asyncio.gather(*(receive(ws, 40) for ws in clients))
    finally:
        session.stop()
        for ws in clients:
            await ws.close()
    for updates in received:
        assert [u['seq'] for u in updates] == list(range(1, 41))
        assert all(u['type'] == 'update' and isinstance(u['price'], float) for u in updates)
        assert all(abs(u['made_at'] - time.time() * 1000) < 60_000 for u in updates)
    assert session.lanes['push'].updates_out >= 120


async def test_push_answers_a_clock_question_at_once(server: EchoServer) -> None:
    async with connect(url(server, '/push?session=s3')) as ws:
        before = time.time() * 1000
        await ws.send(json.dumps({'type': 'clock', 'client_sent': 123.5}))
        answer = json.loads(await ws.recv())
        after = time.time() * 1000
    assert answer['type'] == 'clock' and answer['client_sent'] == 123.5
    assert before <= answer['server_time'] <= after


async def test_polls_answer_the_updates_after_the_cursor(start_server: StartServer) -> None:
    server = await start_server(poll_batch_limit=10)
    session = server.session('s4')
    for _ in range(15):
        session.publish(session.feed.make_update())

    first = await http_get(server.port, '/poll?session=s4&after=0')
    assert first.status == 200 and first.headers['content-type'] == 'application/json'
    assert first.headers['cache-control'] == 'no-store'
    assert [u['seq'] for u in first.json()['updates']] == list(range(1, 11))  # bounded batch
    rest = await http_get(server.port, '/poll?session=s4&after=10')
    assert [u['seq'] for u in rest.json()['updates']] == [11, 12, 13, 14, 15]
    empty = await http_get(server.port, '/poll?session=s4&after=15')
    assert empty.json()['updates'] == [] and isinstance(empty.json()['server_time'], float)

    poll = session.lanes['poll']
    assert (poll.messages_in, poll.tcp_connections, poll.updates_out, poll.empty_polls) == (3, 3, 15, 1)


@pytest.mark.parametrize('cursor', ['-1', 'abc', '1.5', '1e3', '', '%20%31'])
async def test_a_bad_cursor_is_a_400_and_polling_goes_on(server: EchoServer, cursor: str) -> None:
    bad = await http_get(server.port, f'/poll?session=s5&after={cursor}')
    assert bad.status == 400 and b'after' in bad.body
    good = await http_get(server.port, '/poll?session=s5&after=0')
    assert good.status == 200


async def test_clock_answers_the_server_time(server: EchoServer) -> None:
    answer = await http_get(server.port, '/clock')
    assert answer.status == 200
    assert abs(answer.json()['server_time'] - time.time() * 1000) < 5_000


async def test_cors_only_for_the_apps_own_origin(server: EchoServer) -> None:
    own = await http_get(server.port, '/poll?session=s6', [('Origin', APP_ORIGIN)])
    assert own.status == 200 and own.headers['access-control-allow-origin'] == APP_ORIGIN
    foreign = await http_get(server.port, '/poll?session=s6', [('Origin', 'http://evil.example')])
    assert foreign.status == 403 and 'access-control-allow-origin' not in foreign.headers
    no_origin = await http_get(server.port, '/clock')
    assert no_origin.status == 200 and 'access-control-allow-origin' not in no_origin.headers
    await still_serves(server.port, origin=APP_ORIGIN)


async def test_unknown_path_is_a_404(server: EchoServer, caplog: pytest.LogCaptureFixture) -> None:
    answer = await http_get(server.port, '/admin')
    assert answer.status == 404
    assert any('refused 127.0.0.1:' in r.getMessage() and r.levelname == 'WARNING' for r in caplog.records)
    await still_serves(server.port)


async def test_plain_get_on_a_websocket_path_is_a_400(server: EchoServer) -> None:
    for path in ('/echo', '/push?session=s7'):
        answer = await http_get(server.port, path)
        assert answer.status == 400 and b'WebSocket endpoint' in answer.body
    await still_serves(server.port)


async def test_a_bad_session_id_is_a_400(server: EchoServer) -> None:
    answer = await http_get(server.port, '/poll?session=../../etc')
    assert answer.status == 400
    with pytest.raises(InvalidStatus) as refused:
        await connect(url(server, '/echo?session=' + 'x' * 65))
    assert refused.value.response.status_code == 400
    await still_serves(server.port)


async def test_a_malformed_handshake_is_a_400(server: EchoServer) -> None:
    answer = await http_get(
        server.port, '/echo', [('Upgrade', 'websocket'), ('Connection', 'Upgrade'), ('Sec-WebSocket-Version', '13')]
    )
    assert answer.status == 400 and b'Sec-WebSocket-Key' in answer.body
    await still_serves(server.port)


def test_every_answer_carries_the_same_head() -> None:
    """JSON answers, refusals and the event-stream head come from one list of headers."""
    from demos.protocol import http_answers
    from demos.server import http_push

    heads = {
        'json': http_answers.json_answer({}, allow_origin=APP_ORIGIN).headers,
        'refusal': http_answers.refusal(http.HTTPStatus.BAD_REQUEST, 'no', allow_origin=APP_ORIGIN).headers,
        'sse': http_push.event_stream_head(APP_ORIGIN).headers,
    }
    for name, headers in heads.items():
        assert headers['Connection'] == 'close' and headers['Cache-Control'] == 'no-store', name
        assert headers['Access-Control-Allow-Origin'] == APP_ORIGIN and headers['Vary'] == 'Origin', name
        assert 'Date' in headers, name
    assert 'Content-Length' not in heads['sse'] and heads['sse']['Content-Type'] == 'text/event-stream'
    assert 'Access-Control-Allow-Origin' not in http_answers.refusal(http.HTTPStatus.FORBIDDEN, 'no').headers
