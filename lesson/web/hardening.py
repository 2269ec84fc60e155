"""The page server's defences, installed in one call: :func:`install` in ``build()``, :func:`server_options` in
``ui.run``.

* **Security headers** on every HTTP answer (a pure ASGI middleware): no MIME sniffing, no referrer, no framing,
  the strictest Content-Security-Policy NiceGUI's pages work under, and HSTS under TLS.
* **Learner progress files** that survive damage: an unreadable file is kept aside (renamed, never overwritten),
  logged at WARNING and the learner told; writes are atomic (temporary file, ``fsync``, rename); a file is made
  only when a learner has something to keep, and files untouched for ``--forget-after-days`` are deleted.
* **The browser's log channel** (NiceGUI's socket.io ``log`` event) filtered: known levels only, at most
  WARNING, control characters escaped, length capped, a budget per browser.
* **A header timeout** on the page port (uvicorn has none): a client that does not finish its request headers
  within ``--header-timeout`` seconds is answered 408 and closed (slowloris).

The decisions are pure functions (:func:`content_security_policy`, :func:`worth_keeping`, :func:`expired`,
:func:`clean_log_line`, ...); the rest wires them into NiceGUI, Starlette and uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lesson.config import Config
from lesson.storage.atomic_files import write_atomically

log = logging.getLogger(__name__)

# -- security headers ------------------------------------------------------------------------------------------

#: HSTS lifetime. Short on purpose: a teacher's laptop that serves https today may serve plain http at the same
#: name next week, and a browser that remembered HSTS for a year would refuse it; a day covers a lesson.
HSTS_MAX_AGE_S = 24 * 3600
#: A Host header we put into the policy must be a plain host name or address: anything else (``;``, spaces,
#: quotes) could add directives of the sender's choosing to their own answer, so it is left out instead.
_SAFE_HOST = re.compile(r'^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$')
#: The same for a configured public echo address's ``host[:port]``.
_SAFE_ORIGIN = re.compile(r'^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$')


def host_of(host_header: str | None) -> str | None:
    """The host part of a ``Host`` header (``[::1]:8080`` -> ``[::1]``), or None when it is absent or odd."""
    if not host_header:
        return None
    host = host_header.strip()
    if host.startswith('['):
        host = host[: host.find(']') + 1] if ']' in host else ''
    else:
        host = host.rsplit(':', 1)[0] if host.count(':') == 1 else host
    return host if _SAFE_HOST.match(host) else None


def echo_sources(host: str | None, echo_port: int, tls: bool, public_echo_url: str | None = None) -> str:
    """The ``connect-src`` entries for the echo server (with a leading space), or ``''`` when 'self' covers it.

    Behind a proxy (``--public-echo-url``) the demos use that address instead of the echo port: a path on the
    page's own origin is covered by ``'self'``; an absolute ``ws(s)://`` URL is allowed as its scheme and host, in
    both its WebSocket and its HTTP form (polls and SSE go to the same place).
    """
    if public_echo_url:
        if public_echo_url.startswith('/'):
            return ''
        parts = urlsplit(public_echo_url)
        origin = parts.netloc.rsplit('@', 1)[-1]
        if not _SAFE_ORIGIN.match(origin):
            return ''
        secure = parts.scheme == 'wss'
        return f' {parts.scheme}://{origin} {"https" if secure else "http"}://{origin}'
    ws, http = ('wss', 'https') if tls else ('ws', 'http')
    return f' {ws}://{host}:{echo_port} {http}://{host}:{echo_port}' if host else ''


def content_security_policy(host: str | None, echo_port: int, tls: bool, public_echo_url: str | None = None) -> str:
    """The policy of every page: the strictest that NiceGUI (Vue, Quasar) and the demos work under.

    NiceGUI renders each page with inline ``<script>`` blocks and Vue compiles templates at run time, so
    ``'unsafe-inline'`` and ``'unsafe-eval'`` stay in ``script-src``; everything else comes from the app itself.
    The demos talk to the echo server on its own port at the host the page was loaded from (WebSocket,
    ``fetch`` for polls, ``EventSource`` for SSE), so ``connect-src`` names exactly that origin, and only
    the secure schemes under TLS. Framing is refused (``frame-ancestors 'none'``: clickjacking).
    """
    echo = echo_sources(host, echo_port, tls, public_echo_url)
    return '; '.join(
        (
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            # 'self' covers NiceGUI's own socket.io connection (ws:// to the page's origin) in CSP level 3 browsers
            f"connect-src 'self'{echo}",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(
    host_header: str | None, echo_port: int, tls: bool, public_echo_url: str | None = None
) -> list[tuple[bytes, bytes]]:
    policy = content_security_policy(host_of(host_header), echo_port, tls, public_echo_url)
    headers = [
        (b'x-content-type-options', b'nosniff'),
        (b'referrer-policy', b'no-referrer'),
        (b'x-frame-options', b'DENY'),
        (b'content-security-policy', policy.encode()),
    ]
    if tls:
        headers.append((b'strict-transport-security', f'max-age={HSTS_MAX_AGE_S}'.encode()))
    return headers


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeadersMiddleware:
    """Adds :func:`security_headers` to every HTTP answer (a plain ASGI middleware: streams stay streams)."""

    def __init__(self, app: ASGIApp, echo_port: int, tls: bool, public_echo_url: str | None = None) -> None:
        self.app = app
        self.echo_port = echo_port
        self.tls = tls
        self.public_echo_url = public_echo_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        host = next((value.decode('latin-1') for name, value in scope.get('headers', ()) if name == b'host'), None)
        extra = security_headers(host, self.echo_port, self.tls, self.public_echo_url)
        ours = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message['type'] == 'http.response.start':
                kept = [(name, value) for name, value in message.get('headers', ()) if name.lower() not in ours]
                message['headers'] = [*kept, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def session_cookie_options(config: Config) -> dict[str, Any]:
    """Starlette's SessionMiddleware options: under TLS the learner cookie is ``Secure`` (never sent over http)."""
    return {'https_only': True, 'same_site': 'lax'} if config.uses_tls else {'same_site': 'lax'}


# -- learner progress files ------------------------------------------------------------------------------------

USER_FILE_GLOB = 'storage-user-*.json'
UNREADABLE_MARK = '.unreadable-'
TOLD_SUFFIX = '.told'
#: How often abandoned progress is looked for, besides at start-up.
SWEEP_INTERVAL_S = 3600.0


def nothing_to_keep() -> dict[str, Any]:
    """What every page writes for a learner who changed nothing (the dark-mode switch's binding stores its
    initial value): storage holding only this is not worth a file."""
    from lesson.pages.layout import DARK_MODE_KEY

    return {DARK_MODE_KEY: False}


def worth_keeping(data: Mapping[str, Any], defaults: Mapping[str, Any]) -> bool:
    """Whether a learner's storage holds anything beyond what a learner who did nothing has."""
    return any(key not in defaults or defaults[key] != value for key, value in data.items())


def parse_progress(text: str) -> dict[str, Any]:
    """The stored JSON object; raises ValueError when the text is not one (truncated, garbled, a list...)."""
    from nicegui import json as nicegui_json  # the module NiceGUI itself reads these files with

    data = nicegui_json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f'expected a JSON object, found {type(data).__name__}')
    return data


def keep_aside(path: Path, now: datetime) -> Path:
    """Rename an unreadable file to ``<name>.unreadable-<UTC time>[-n]``, never over an existing file."""
    stamp = now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')
    for attempt in range(1000):
        target = path.with_name(f'{path.name}{UNREADABLE_MARK}{stamp}' + (f'-{attempt}' if attempt else ''))
        try:
            os.link(path, target)  # unlike rename, link refuses to replace an existing file
        except FileExistsError:
            continue
        path.unlink()
        # its age for --forget-after-days counts from now, not from its last good write
        os.utime(target)
        return target
    raise FileExistsError(f'no free name to keep {path} aside')


def session_id_of(path: Path) -> str | None:
    """``storage-user-<id>.json[.unreadable-...]`` -> ``<id>``."""
    name = path.name.split(UNREADABLE_MARK)[0]
    if name.startswith('storage-user-') and name.endswith('.json'):
        return name.removeprefix('storage-user-').removesuffix('.json')
    return None


@dataclass
class ProgressNotices:
    """Learners whose progress file could not be read and who have not been told yet, by session id."""

    pending: dict[str, Path] = field(default_factory=dict)

    def add(self, kept: Path) -> None:
        if session_id := session_id_of(kept):
            self.pending[session_id] = kept

    def load(self, folder: Path) -> None:
        """Kept-aside files nobody was told about yet (e.g. the app restarted before the learner came back)."""
        for kept in sorted(folder.glob(f'storage-user-*.json{UNREADABLE_MARK}*')):
            if not kept.name.endswith(TOLD_SUFFIX):
                self.add(kept)

    def take(self, session_id: str) -> Path | None:
        """The kept-aside file to tell this learner about, marked as told (renamed ``.told``), or None."""
        kept = self.pending.pop(session_id, None)
        if kept is None:
            return None
        told = kept.with_name(kept.name + TOLD_SUFFIX)
        with contextlib.suppress(OSError):  # already swept or renamed: telling matters more than the mark
            if not told.exists():
                kept.rename(told)
        return kept


NOTICES = ProgressNotices()
LOST_PROGRESS_MESSAGE = (
    'Your earlier progress could not be read, so you are starting afresh. The damaged file was kept for your teacher.'
)


def check_progress_file(path: Path, notices: ProgressNotices, now: datetime | None = None) -> dict[str, Any]:
    """Read one learner's progress; an unreadable file is kept aside, logged and queued for the learner."""
    try:
        return parse_progress(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:  # JSON errors are ValueErrors, UnicodeDecodeError too
        kept = keep_aside(path, now or datetime.now(UTC))
        notices.add(kept)
        log.warning(
            'progress file %s could not be read (%s); kept as %s, the learner starts afresh and is told',
            path,
            str(error)[:200],
            kept.name,
        )
        return {}


def check_all_progress(folder: Path, notices: ProgressNotices) -> int:
    """At start-up: every unreadable progress file is found now, logged by name, not when its learner returns."""
    unreadable = 0
    for path in sorted(folder.glob(USER_FILE_GLOB)):
        try:
            parse_progress(path.read_text(encoding='utf-8'))
        except FileNotFoundError:
            continue
        except (OSError, ValueError):
            check_progress_file(path, notices)
            unreadable += 1
    notices.load(folder)
    return unreadable


def expired(paths: Iterable[Path], now_s: float, max_age_s: float) -> list[Path]:
    """The learner files (progress or kept aside) untouched for longer than ``max_age_s``; 0 keeps everything."""
    if max_age_s <= 0:
        return []
    old = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if now_s - path.stat().st_mtime > max_age_s:
                old.append(path)
    return old


def forget_abandoned(folder: Path, max_age_s: float, in_use: Iterable[str] = ()) -> list[Path]:
    """Delete progress untouched for ``max_age_s`` (learners in ``in_use`` are kept); returns what went."""
    keep = set(in_use)
    candidates = [path for path in folder.glob('storage-user-*') if session_id_of(path) not in keep]
    gone = []
    for path in expired(candidates, time.time(), max_age_s):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            gone.append(path)
    if gone:
        log.info('forgot %d learner progress files untouched for %g days', len(gone), max_age_s / 86400)
    return gone


def learner_file_class(notices: ProgressNotices, defaults: Mapping[str, Any]) -> type:
    """NiceGUI's file-backed storage with the rules above (a factory: NiceGUI is imported only when serving)."""
    from nicegui import background_tasks, core
    from nicegui.persistence import FilePersistentDict
    from nicegui.persistence.serialization import dumps

    class LearnerFile(FilePersistentDict):
        async def initialize(self) -> None:
            self.update(await asyncio.to_thread(self._load))

        def initialize_sync(self) -> None:
            self.update(self._load())

        def _load(self) -> dict[str, Any]:
            data = check_progress_file(self.filepath, notices)
            if data:
                # a visit counts as use for --forget-after-days even when the learner changes nothing
                with contextlib.suppress(OSError):
                    os.utime(self.filepath)
            return data

        def backup(self) -> None:
            # No file for a learner with nothing to keep: a cookie-less visit must not leave one behind.
            if not self.filepath.exists() and not worth_keeping(self, defaults):
                return
            if core.is_loop_running():
                background_tasks.create_lazy(self._write_later(), name=self.filepath.stem)
            else:
                self._write()

        def _write(self) -> None:
            if not self:
                self.filepath.unlink(missing_ok=True)
                return
            self.filepath.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(
                self.filepath, dumps(self, str(self.filepath), indent=self.indent), self.encoding or 'utf-8'
            )

        @background_tasks.await_on_shutdown
        async def _write_later(self) -> None:
            # one worker-thread call from open to rename, so a cancellation never strands a half-written file
            await asyncio.to_thread(self._write)

    return LearnerFile


# -- the browser's log channel ---------------------------------------------------------------------------------

#: Longest browser log line kept; NiceGUI's own messages (a JavaScript error with its stack) fit.
MAX_LOG_LINE = 500
#: Lines one browser page may log per minute; beyond, they are dropped (one line says so).
LOG_LINES_PER_MINUTE = 20
_LEVELS = {
    'debug': logging.DEBUG,
    'info': logging.INFO,
    'warning': logging.WARNING,
    # a browser's "error" is its own claim about itself: it never raises an alarm at ERROR here
    'error': logging.WARNING,
}
_CONTROL = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029]')
browser_log = logging.getLogger('lesson.browser')


def clean_log_line(raw: object) -> str:
    """A browser's message made safe for one log line: control characters (newlines, ANSI escapes) escaped as
    ``\\xNN``, so nobody can forge extra lines or colour a terminal, and capped at :data:`MAX_LOG_LINE`."""
    text = raw if isinstance(raw, str) else repr(raw)
    text = _CONTROL.sub(lambda match: f'\\x{ord(match.group()):02x}', text)
    return text if len(text) <= MAX_LOG_LINE else text[:MAX_LOG_LINE] + f'... ({len(text) - MAX_LOG_LINE} more)'


@dataclass
class LogBudget:
    """At most ``per_minute`` lines per browser page in each minute; the first drop is reported once."""

    per_minute: int = LOG_LINES_PER_MINUTE
    clock: Callable[[], float] = time.monotonic
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def allow(self, client_id: str) -> bool | None:
        """True: log it. None: the first one over budget (say so once). False: drop silently."""
        now = self.clock()
        started, count = self._windows.get(client_id, (now, 0))
        if now - started >= 60:
            started, count = now, 0
        if len(self._windows) > 10_000:  # bounded memory whatever the number of pages
            self._windows.clear()
        self._windows[client_id] = (started, count + 1)
        if count < self.per_minute:
            return True
        return None if count == self.per_minute else False


def browser_log_handler(budget: LogBudget) -> Callable[[str, object], None]:
    """Replacement for NiceGUI's ``log`` socket.io handler (which logs any text at any level and raises
    KeyError on an unknown level)."""
    from nicegui import Client

    def on_log(_: str, msg: object) -> None:
        if not isinstance(msg, dict):
            return
        client_id, level = msg.get('client_id'), msg.get('level')
        if not isinstance(client_id, str) or level not in _LEVELS or client_id not in Client.instances:
            return  # unknown page or level: nothing a NiceGUI page of ours sends
        allowed = budget.allow(client_id)
        if allowed is None:
            browser_log.warning(
                'browser %s: too many log lines, the rest of this minute is dropped', clean_log_line(client_id)[:40]
            )
        elif allowed:
            browser_log.log(_LEVELS[level], 'browser %s: %s', client_id[:8], clean_log_line(msg.get('message')))

    return on_log


# -- header timeout on the page port ---------------------------------------------------------------------------

#: What a client too slow with its headers gets before the connection closes.
_TIMEOUT_TEXT = b'request headers too slow\n'
REQUEST_TIMEOUT_ANSWER = (
    b'HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n'
    b'content-length: %d\r\nconnection: close\r\n\r\n%s' % (len(_TIMEOUT_TEXT), _TIMEOUT_TEXT)
)


@dataclass
class SlowClientLog:
    """One WARNING a minute at most, with the count, however many slow clients there are."""

    clock: Callable[[], float] = time.monotonic
    closed: int = 0
    _logged_at: float | None = None

    def record(self) -> None:
        self.closed += 1
        now = self.clock()
        if self._logged_at is None or now - self._logged_at >= 60:
            log.warning(
                'closed %d connection(s) to the lesson pages that did not send their request headers in '
                'time (slowloris?); see --header-timeout',
                self.closed,
            )
            self._logged_at = now
            self.closed = 0


SLOW_CLIENTS = SlowClientLog()


def header_timeout_protocol(timeout_s: float) -> type:
    """uvicorn's httptools protocol with a deadline for each request's headers (uvicorn 0.54 has none).

    The deadline runs from the connection (or, on a kept-alive connection, from the first byte of the next
    request) to the end of the headers; the body and the app's own time are not limited here.
    """
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        header_timeout_s = timeout_s
        _header_deadline: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            if self._header_deadline is None:
                self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _headers_too_slow(self) -> None:
            self._header_deadline = None
            if self.transport is None or self.transport.is_closing():
                return
            # an answer is still owed to a request in progress: only cut a connection that is between answers
            if self.cycle is not None and not self.cycle.response_complete:
                return
            self.transport.write(REQUEST_TIMEOUT_ANSWER)
            self.transport.close()
            SLOW_CLIENTS.record()

    return HeaderTimeoutProtocol


# -- wiring ----------------------------------------------------------------------------------------------------


def server_options(config: Config) -> dict[str, Any]:
    """Extra ``ui.run`` arguments: the header-timeout protocol (a uvicorn option) and the cookie's flags."""
    options: dict[str, Any] = {'session_middleware_kwargs': session_cookie_options(config)}
    try:
        options['http'] = header_timeout_protocol(config.header_timeout_s)
    except ImportError:  # httptools missing (uvicorn without [standard]): uvicorn's default, with no header timeout
        log.warning('httptools is not installed: the lesson pages have no request header timeout')
    return options


def install(config: Config) -> None:
    """Install everything above into NiceGUI's app; call once, after the storage folder is set, before ui.run."""
    from nicegui import app, background_tasks, core
    from nicegui.storage import Storage

    app.add_middleware(
        SecurityHeadersMiddleware,
        echo_port=config.echo_port,
        tls=config.uses_tls,
        public_echo_url=config.public_echo_url,
    )

    learner_file = learner_file_class(NOTICES, nothing_to_keep())
    original_factory = Storage._create_persistent_dict

    def create_persistent_dict(storage_id: str) -> Any:
        if Storage.redis_url:
            return original_factory(storage_id)
        return learner_file(Storage.path / f'storage-{storage_id}.json', encoding='utf-8')

    Storage._create_persistent_dict = staticmethod(create_persistent_dict)  # type: ignore[method-assign,assignment]

    folder = Storage.path
    unreadable = check_all_progress(folder, NOTICES)
    if unreadable:
        log.warning('%d unreadable progress file(s) in %s were kept aside; see the lines above', unreadable, folder)

    def tell_learner(client: Any) -> None:
        from nicegui import ui

        with contextlib.suppress(Exception):  # a client without a session (no cookie) has nothing to be told
            session_id = client.request.session.get('id')
            if session_id and NOTICES.take(session_id):
                with client:
                    ui.notify(
                        LOST_PROGRESS_MESSAGE,
                        type='warning',
                        timeout=0,
                        close_button='OK',
                        position='top',
                        multi_line=True,
                    )

    app.on_connect(tell_learner)

    max_age_s = config.forget_after_days * 86400

    async def sweep_forever() -> None:
        while True:
            in_use = list(app.storage._users)  # learners loaded right now are never swept
            await asyncio.to_thread(forget_abandoned, folder, max_age_s, in_use)
            await asyncio.sleep(SWEEP_INTERVAL_S)

    if max_age_s > 0:
        app.on_startup(lambda: background_tasks.create(sweep_forever(), name='forget abandoned progress'))

    core.sio.on('log', handler=browser_log_handler(LogBudget()))
