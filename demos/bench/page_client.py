"""One browser tab as a NiceGUI page server sees it, without a browser: the page over HTTP, then its socket.io.

What NiceGUI 3.18's page speaks (``nicegui/static/nicegui.js`` and ``nicegui/nicegui.py`` of the installed package):

* the page's HTML carries its elements as JSON (``createApp(parseElements(String.raw`...`)``, with ``$``, backtick,
  ``<``, ``>`` and ``&`` escaped as HTML entities) and the socket's query (``client_id``, ``next_message_id``,
  ``implicit_handshake``);
* the page connects socket.io at ``/_nicegui_ws/socket.io`` with that query plus a ``document_id`` and a ``tab_id``
  (an implicit handshake: the server accepts or refuses the connection itself);
* a user's action is one ``event`` message: ``{id: element id, client_id, listener_id, args}``, each argument
  JSON-encoded (a radio's choice is its option index, a click has no argument);
* the server answers with ``update`` (elements as JSON), ``run_javascript`` (code and a ``request_id``, answered
  with ``javascript_response``), ``notify`` and the like; the page acknowledges what it got with ``ack``.

A tab here records every message it receives with its arrival time, and lets a script wait for one whose JSON text
matches a pattern. The cookie jar is the caller's ``httpx.AsyncClient``: one per simulated learner, as one browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio  # type: ignore[import-untyped]

SOCKET_PATH = '/_nicegui_ws/socket.io'
_ELEMENTS = re.compile(r'parseElements\(String\.raw`(.*?)`\)', re.S)
_CLIENT_ID = re.compile(r"'client_id': '([0-9a-f-]{36})'")
_NEXT_MESSAGE_ID = re.compile(r"'next_message_id': (\d+)")
CONNECT_TIMEOUT_S = 30.0
ACK_INTERVAL_S = 3.0


class PageError(RuntimeError):
    """The page did not answer as a NiceGUI page does (status, no elements, an element missing)."""


def page_elements(page_html: str) -> dict[str, dict[str, Any]]:
    """The elements a NiceGUI page embeds, by id (as strings, as the page keeps them)."""
    found = _ELEMENTS.search(page_html)
    if found is None:
        raise PageError('the page embeds no NiceGUI elements')
    # parseElements undoes exactly these entities (in this order) before JSON.parse; html.unescape does the same here
    return dict(json.loads(html.unescape(found.group(1))))


def _listener(element: dict[str, Any], event_type: str) -> str:
    for event in element.get('events', ()):
        if event['type'] == event_type:
            return str(event['listener_id'])
    raise PageError(f'element {element.get("tag")} has no {event_type} listener')


@dataclass
class Received:
    """Every message a tab got: (arrival, ``time.perf_counter()``; event name; the payload as JSON text)."""

    messages: list[tuple[float, str, str]] = field(default_factory=list)


class PageTab:
    """One open page: its elements as loaded, its socket, what arrived on it."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.elements: dict[str, dict[str, Any]] = {}
        self.client_id = ''
        self.received = Received()
        self.disconnects = 0
        self.disconnect_reasons: list[str] = []
        self._closing = False
        self._acker: asyncio.Task[None] | None = None
        self._next_message_id = 0
        self._waiters: list[tuple[re.Pattern[str], asyncio.Future[tuple[float, re.Match[str]]]]] = []
        self._watchers: list[tuple[re.Pattern[str], Any]] = []
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on('*', self._on_message)
        self.sio.on('disconnect', self._on_disconnect)

    async def open(self, path: str) -> None:
        """GET the page, then connect its socket; returns once the server accepted the connection."""
        answer = await self.http.get(path, headers={'Accept': 'text/html'})
        if answer.status_code != 200:
            raise PageError(f'GET {path} answered {answer.status_code}')
        self.elements = page_elements(answer.text)
        client_id, next_id = _CLIENT_ID.search(answer.text), _NEXT_MESSAGE_ID.search(answer.text)
        if client_id is None or next_id is None:
            raise PageError(f'GET {path}: no socket query in the page')
        self.client_id = client_id.group(1)
        query = httpx.QueryParams(
            client_id=self.client_id,
            next_message_id=next_id.group(1),
            implicit_handshake='true',
            document_id=str(uuid.uuid4()),
            tab_id=str(uuid.uuid4()),
        )
        base = str(self.http.base_url).rstrip('/')
        # the page's cookies go with its socket, as a browser's do: behind a proxy the routing cookie takes the socket
        # to the instance that made the page (the only one that knows its client id)
        cookies = '; '.join(f'{name}={value}' for name, value in self.http.cookies.items())
        await self.sio.connect(
            f'{base}?{query}',
            headers={'Cookie': cookies} if cookies else {},
            transports=['websocket'],
            socketio_path=SOCKET_PATH,
            wait_timeout=CONNECT_TIMEOUT_S,
        )
        self._acker = asyncio.get_running_loop().create_task(self._acknowledge())

    def find(self, **props: object) -> str:
        """The id of the first element whose props have these values (``label='Submit answers'``)."""
        for element_id, element in self.elements.items():
            element_props = element.get('props', {})
            if all(element_props.get(key.replace('_', '-')) == value for key, value in props.items()):
                return element_id
        raise PageError(f'no element with {props}')

    def find_all(self, tag: str) -> list[str]:
        return [element_id for element_id, element in self.elements.items() if element.get('tag') == tag]

    async def emit(self, element_id: str, event_type: str, *args: object) -> float:
        """Send one user action; returns when it was sent (``time.perf_counter()``)."""
        listener = _listener(self.elements[element_id], event_type)
        message = {
            'id': int(element_id),
            'client_id': self.client_id,
            'listener_id': listener,
            'args': [json.dumps(arg) for arg in args],
        }
        sent = time.perf_counter()
        await self.sio.emit('event', message)
        return sent

    def expect(self, pattern: str) -> asyncio.Future[tuple[float, re.Match[str]]]:
        """A future for the first message from now on whose JSON text matches: (arrival, the match)."""
        future: asyncio.Future[tuple[float, re.Match[str]]] = asyncio.get_running_loop().create_future()
        self._waiters.append((re.compile(pattern), future))
        return future

    def watch(self, pattern: str, seen: Any) -> None:
        """Call ``seen(arrival, match)`` for every match in every message from now on."""
        self._watchers.append((re.compile(pattern), seen))

    async def close(self) -> None:
        self._closing = True
        if self._acker is not None:
            self._acker.cancel()
        for _, future in self._waiters:
            future.cancel()
        with contextlib.suppress(Exception):
            await self.sio.disconnect()

    async def _on_message(self, event: str, *payload: Any) -> None:
        arrived = time.perf_counter()
        data = payload[0] if payload else None
        text = json.dumps(data, separators=(',', ':'), ensure_ascii=False)
        self.received.messages.append((arrived, event, text))
        if isinstance(data, dict):
            if isinstance(data.get('_id'), int):
                self._next_message_id = data['_id'] + 1
            if event == 'run_javascript' and data.get('request_id'):
                await self._answer_javascript(data)
        self._match(arrived, text)

    def _match(self, arrived: float, text: str) -> None:
        waiting = []
        for pattern, future in self._waiters:
            if future.done():
                continue
            if (found := pattern.search(text)) is not None:
                future.set_result((arrived, found))
            else:
                waiting.append((pattern, future))
        self._waiters = waiting
        for pattern, seen in self._watchers:
            for found in pattern.finditer(text):
                seen(arrived, found)

    async def _answer_javascript(self, data: dict[str, Any]) -> None:
        """A browser answers every request; the only question these pages ask is the browser's time zone."""
        result = 'UTC' if 'timeZone' in str(data.get('code', '')) else None
        with contextlib.suppress(Exception):
            await self.sio.emit(
                'javascript_response', {'request_id': data['request_id'], 'client_id': self.client_id, 'result': result}
            )

    async def _acknowledge(self) -> None:
        """As the page does (every 3 s, when something new arrived): the server then drops what it kept for a
        reconnect, so its memory per tab is a real page's."""
        acked = 0
        while True:
            await asyncio.sleep(ACK_INTERVAL_S)
            if self._next_message_id > acked:
                acked = self._next_message_id
                with contextlib.suppress(Exception):
                    await self.sio.emit('ack', {'client_id': self.client_id, 'next_message_id': acked})

    def _on_disconnect(self, *reason: object) -> None:
        if not self._closing:
            self.disconnects += 1
            self.disconnect_reasons.append(str(reason[0]) if reason else 'no reason given')


def browser_at(url: str, address: str) -> httpx.AsyncClient:
    """A fresh cookie jar whose requests come from ``address`` (a loopback address such as 127.0.0.2 stands for
    another machine on the network)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=url, timeout=20, transport=transport, follow_redirects=True)


async def press(http: httpx.AsyncClient, label: str, answer: str, path: str = '/join') -> str:
    """Open ``path`` in a tab of its own, press the button ``label``, return the first message text matching
    ``answer`` (within 10 s), close the tab."""
    tab = PageTab(http)
    await tab.open(path)
    waiting = tab.expect(answer)
    await tab.emit(tab.find(label=label), 'click')
    try:
        _, found = await asyncio.wait_for(waiting, 10)
    finally:
        await tab.close()
    return found.group(0)
