"""The class link (`class_link` on `/control`): the teacher puts every demo session on one link profile, pages that
open later too; a page's own choice gives way meanwhile and its snapshot names the class's profile; ending it puts
every session back on loopback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection

from demos.protocol import session_ids

from .conftest import StartServer
from .test_control import KEY, command
from .test_session_links import command as page_command
from .test_session_links import inspect, timed_poll


async def first_counts(inspector: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while (message := json.loads(await inspector.recv()))['type'] != 'counts':
            pass
    return message


async def test_the_whole_class_travels_the_teachers_profile_until_it_ends(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    early, late = session_ids.issue(KEY), session_ids.issue(KEY)
    fast_ms, _ = await timed_poll(server, early)  # the session exists, on loopback
    reply = await command(server, do='class_link', profile='home-broadband')
    assert reply == {'ok': True, 'profile': 'home-broadband', 'sessions': 1, 'id': 7}
    async with await inspect(server, late) as inspector:  # a page that opens after the teacher's choice
        assert (await first_counts(inspector))['class_link'] == 'home-broadband'  # the page shows it
        # the page's own choice gives way: the answer (and the forecast) is the class's profile
        answer = await page_command(inspector, do='link', profile='satellite', poll_interval_ms=500)
        assert answer['ok'] and answer['profile']['id'] == 'home-broadband'
        assert answer['forecast']['push']['median_ms'] == 15
    for session in (early, late):
        assert server.session(session).snapshot()['class_link'] == 'home-broadband'
        shaped_ms, _ = await timed_poll(server, session)
        assert shaped_ms >= 2 * 30 - 1  # the SYN's round trip, then the request's and the answer's halves
    assert (await command(server, do='class_link', profile=None))['returned'] == 2
    for session in (early, late):
        assert server.session(session).snapshot()['class_link'] is None
        assert server.session(session).link is None
    assert fast_ms < 30


async def test_a_class_link_must_be_a_named_profile(start_server: StartServer) -> None:
    server = await start_server(session_key=KEY)
    for bad in ('custom', 'dial-up', 3):
        reply = await command(server, do='class_link', profile=bad)
        assert reply['ok'] is False and reply['error']
    assert (await command(server, do='class_link', profile=None)) == {
        'ok': True,
        'profile': None,
        'returned': 0,
        'id': 7,
    }
