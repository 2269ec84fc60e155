"""The class feed (`class_feed` on `/control`): one feed for the class that every lane follows, each session
keeping its own numbering, and each page's own feed back at once when it stops."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from demos.protocol import session_ids

from .clients import eventually
from .conftest import APP_ORIGIN, StartServer
from .test_control import KEY, command, url


async def test_the_class_feed_sends_the_same_updates_to_every_learner(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    ids = [session_ids.issue(KEY) for _ in range(3)]
    sockets = [await connect(url(server, f'/push?session={i}'), origin=APP_ORIGIN) for i in ids]  # type: ignore[arg-type]
    try:
        reply = await command(server, do='class_feed', action='start', rate_per_s=20, session_ids=None)
        assert reply['ok'] is True and reply['followers'] == 3
        firsts = [json.loads(await asyncio.wait_for(s.recv(), 5)) for s in sockets]
        assert len({(u['price'], u['made_at']) for u in firsts}) == 1  # one feed, the same update
        assert [u['seq'] for u in firsts] == [1, 1, 1]  # each numbered on from its session's own last number
        assert (await command(server, do='class_feed', action='stop'))['returned'] == 3
        assert not any(server.session(i).following for i in ids)
    finally:
        for s in sockets:
            await s.close()


async def test_one_learners_reset_or_rate_does_not_change_the_class_feed(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    ids = [session_ids.issue(KEY) for _ in range(2)]
    sessions = [server.session(i) for i in ids]
    await command(server, do='class_feed', action='start', rate_per_s=20, session_ids=ids)
    await eventually(lambda: sessions[1].feed.latest_seq >= 3)
    sessions[0].reset()
    sessions[0].set_rate(0.5)
    assert sessions[1].snapshot()['class_feed_rate_per_s'] == 20
    before = sessions[1].feed.latest_seq
    await eventually(lambda: sessions[1].feed.latest_seq >= before + 3)  # 20/s: 0.5/s would take 6 s
    assert sessions[1].feed.updates_after(before, 3)[0].seq == before + 1  # not renumbered by the other's reset
    await command(server, do='class_feed', action='stop')
    assert sessions[0].snapshot()['class_feed_rate_per_s'] is None and sessions[0].rate_per_s == 0.5


async def test_a_learners_start_during_the_class_feed_adds_no_updates_of_their_own(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    learner = session_ids.issue(KEY)
    session = server.session(learner)
    await command(server, do='class_feed', action='start', rate_per_s=20, session_ids=None)
    session.start(50)  # the learner presses Start on their page while the class feed runs
    assert not session.running and session.following
    async with connect(url(server, f'/push?session={learner}'), origin=APP_ORIGIN) as push:  # type: ignore[arg-type]
        seqs = [json.loads(await asyncio.wait_for(push.recv(), 5))['seq'] for _ in range(5)]
    assert seqs == list(range(seqs[0], seqs[0] + 5))  # one numbering: nothing slipped in between
    await command(server, do='class_feed', action='stop')
    assert not session.following
    assert session.running  # the page had pressed Start: its own feed ticks again at once, no Start needed
    session.stop()


async def test_polls_follow_the_class_feed_and_the_own_feed_after_it_with_one_cursor(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    learner = session_ids.issue(KEY)
    session = server.session(learner)
    session.start(20)  # the page's own feed runs first, then the teacher starts and stops the class feed
    await eventually(lambda: session.feed.latest_seq >= 5)
    await command(server, do='class_feed', action='start', rate_per_s=20, session_ids=None)
    cursor = session.feed.latest_seq
    await eventually(lambda: session.feed.latest_seq >= cursor + 5)
    class_prices = [u.price for u in session.feed.updates_after(cursor, 5)]
    assert session.snapshot()['class_feed_rate_per_s'] == 20
    await command(server, do='class_feed', action='stop')
    cursor = session.feed.latest_seq
    await eventually(lambda: session.feed.latest_seq >= cursor + 3, timeout=2)  # own feed back, nobody pressed Start
    seqs = [u.seq for u in session.feed.updates_after(0, 1000)]
    assert seqs == list(range(1, len(seqs) + 1))  # one unbroken numbering: a poll's after=SEQ never stalls
    assert class_prices and all(p > 0 for p in class_prices)
    session.stop()


async def test_two_echo_servers_given_one_seed_make_the_same_updates_and_a_repeat_changes_nothing(
    start_server: StartServer,
) -> None:
    """What lets several app instances share one class feed: each echo process runs its own ticker from the seed."""
    servers = [await start_server(session_key=KEY) for _ in range(2)]
    ids = [session_ids.issue(KEY) for _ in servers]
    sockets = [
        await connect(url(server, f'/push?session={i}'), origin=APP_ORIGIN)  # type: ignore[arg-type]
        for server, i in zip(servers, ids, strict=True)
    ]
    try:
        for server in servers:
            assert (await command(server, do='class_feed', action='start', rate_per_s=20, seed=42))['ok'] is True
        tickers = [server._control.class_feed._ticker for server in servers]
        # heard twice (a relayed moment can be): the same feed runs on, its ticker untouched
        assert (await command(servers[0], do='class_feed', action='start', rate_per_s=20, seed=42))['ok'] is True
        assert servers[0]._control.class_feed._ticker is tickers[0]
        prices = [[json.loads(await asyncio.wait_for(s.recv(), 5))['price'] for _ in range(5)] for s in sockets]
        assert prices[0] == prices[1]
        assert (await command(servers[0], do='class_feed', action='start', rate_per_s=20, seed='x'))['ok'] is False
    finally:
        for s in sockets:
            await s.close()
