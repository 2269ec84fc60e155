"""Long polling and Server-Sent Events: every update arrives, in order; the counters are what the client's socket
saw; a client that goes away leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from demos.server.echo_server import EchoServer

from .clients import eventually, http_get, request_bytes
from .conftest import APP_ORIGIN, StartServer


class EventStreamClient:
    """A raw-socket ``EventSource``: sends the request, reads the head, then parses events as they come."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sent: int) -> None:
        self.reader, self.writer = reader, writer
        self.bytes_sent = sent
        self.bytes_received = 0
        self.head = b''

    @classmethod
    async def open(cls, port: int, target: str, headers: list[tuple[str, str]] | None = None) -> EventStreamClient:
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        request = request_bytes(target, [('Accept', 'text/event-stream'), ('Origin', APP_ORIGIN), *(headers or [])])
        writer.write(request)
        client = cls(reader, writer, len(request))
        client.head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), 5)
        client.bytes_received += len(client.head)
        return client

    async def event(self) -> dict[str, Any]:
        block = await asyncio.wait_for(self.reader.readuntil(b'\n\n'), 5)
        self.bytes_received += len(block)
        fields = dict(line.split(': ', 1) for line in block.decode().strip().split('\n'))
        data = json.loads(fields['data'])
        assert int(fields['id']) == data['seq']
        return data

    def close(self) -> None:
        self.writer.close()


async def test_sse_delivers_every_update_in_order_and_counts_exactly(server: EchoServer) -> None:
    session = server.session('s1')
    client = await EventStreamClient.open(server.port, '/sse?session=s1')
    head = client.head.decode()
    assert head.startswith('HTTP/1.1 200 OK\r\n')
    assert 'Content-Type: text/event-stream' in head and f'Access-Control-Allow-Origin: {APP_ORIGIN}' in head
    assert 'Content-Length' not in head
    await eventually(lambda: len(session.event_streams) == 1)
    received = []
    for _ in range(20):
        update = session.feed.make_update()
        session.publish(update)
        received.append(await client.event())
    assert [u['seq'] for u in received] == list(range(1, 21))
    assert received[-1] == update.as_message()
    sse = session.lanes['sse']
    assert sse.bytes_out == client.bytes_received and sse.bytes_in == client.bytes_sent
    assert (sse.tcp_connections, sse.messages_in, sse.messages_out, sse.updates_out) == (1, 1, 20, 20)
    # Gone: the stream is forgotten, the socket closed, and websockets has no handler task left for it.
    client.close()
    await eventually(lambda: not session.event_streams and server.open_connections == 0)
    assert server._server is not None and not server._server.handler_tasks
    assert session.snapshot()['event_streams'] == 0


async def test_sse_outlives_the_open_timeout(start_server: StartServer) -> None:
    server = await start_server(open_timeout_s=0.5)
    session = server.session('s2')
    client = await EventStreamClient.open(server.port, '/sse?session=s2')
    await asyncio.sleep(0.8)  # websockets would have aborted a handshake this old
    session.publish(session.feed.make_update())
    assert (await client.event())['seq'] == 1
    client.close()


async def test_a_reconnecting_event_source_gets_what_it_missed(server: EchoServer) -> None:
    session = server.session('s3')
    for _ in range(5):
        session.publish(session.feed.make_update())
    client = await EventStreamClient.open(server.port, '/sse?session=s3', [('Last-Event-ID', '2')])
    assert [(await client.event())['seq'] for _ in range(3)] == [3, 4, 5]
    session.publish(session.feed.make_update())
    assert (await client.event())['seq'] == 6
    client.close()
    refused = await http_get(server.port, '/sse?session=s3', [('Last-Event-ID', 'soon')])
    assert refused.status == 400


async def test_stopping_the_server_ends_streams_and_held_polls_at_once(start_server: StartServer) -> None:
    server = await start_server()
    client = await EventStreamClient.open(server.port, '/sse?session=s4')
    held = asyncio.create_task(http_get(server.port, '/longpoll?session=s4&after=0'))
    await eventually(lambda: server.session('s4').snapshot()['long_polls_held'] == 1)
    started = time.monotonic()
    await server.stop()
    assert time.monotonic() - started < 1.5
    assert (await held).json()['updates'] == []
    assert await asyncio.wait_for(client.reader.read(), 2) == b''  # the stream ended


async def test_long_polls_deliver_every_update_in_order_and_count_exactly(server: EchoServer) -> None:
    session = server.session('l1')

    async def publish_slowly() -> None:
        for _ in range(6):
            await asyncio.sleep(0.05)
            session.publish(session.feed.make_update())

    publisher = asyncio.create_task(publish_slowly())
    seen: list[int] = []
    exchanges = []
    while len(seen) < 6:
        exchange = await http_get(
            server.port, f'/longpoll?session=l1&after={seen[-1] if seen else 0}', [('Origin', APP_ORIGIN)]
        )
        assert exchange.status == 200 and exchange.headers['access-control-allow-origin'] == APP_ORIGIN
        seen += [update['seq'] for update in exchange.json()['updates']]
        exchanges.append(exchange)
    await publisher
    assert seen == [1, 2, 3, 4, 5, 6]
    lane = session.lanes['longpoll']
    await eventually(lambda: lane.bytes_out == sum(e.bytes_received for e in exchanges))
    assert lane.bytes_in == sum(e.bytes_sent for e in exchanges)
    assert lane.tcp_connections == lane.messages_in == lane.messages_out == len(exchanges)
    assert lane.updates_out == 6 and lane.empty_polls == 0


async def test_a_quiet_long_poll_is_answered_empty_before_the_open_timeout(start_server: StartServer) -> None:
    server = await start_server(open_timeout_s=1.5)
    started = time.monotonic()
    exchange = await http_get(server.port, '/longpoll?session=l2&after=0')
    held_s = time.monotonic() - started
    assert exchange.status == 200 and exchange.json()['updates'] == []
    assert 0.3 < held_s < 1.2  # held until one second (the margin) before the open timeout
    lane = server.session('l2').lanes['longpoll']
    assert (lane.messages_in, lane.messages_out, lane.empty_polls) == (1, 1, 1)
    assert (await http_get(server.port, '/longpoll?session=l2&after=-1')).status == 400


async def test_a_long_poller_that_goes_away_is_cleaned_up(server: EchoServer) -> None:
    session = server.session('l3')
    _reader, writer = await asyncio.open_connection('127.0.0.1', server.port)
    writer.write(request_bytes('/longpoll?session=l3&after=0'))
    await eventually(lambda: session.snapshot()['long_polls_held'] == 1)
    writer.close()
    await eventually(lambda: session.snapshot()['long_polls_held'] == 0 and server.open_connections == 0)
    assert server._server is not None and not server._server.handler_tasks
    session.publish(session.feed.make_update())
    lane = session.lanes['longpoll']
    assert (lane.messages_in, lane.messages_out, lane.updates_out) == (1, 0, 0)
