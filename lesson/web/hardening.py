"""The page server's defences, installed in one call: :func:`install` in ``build()``, :func:`server_options` in
``ui.run``. Each defence is a module of its own (learner progress files that survive damage are the storage's:
:mod:`lesson.storage.learner_files`):

* :mod:`lesson.web.security_headers`: security headers on every answer, the learner cookie's flags;
* :mod:`lesson.web.browser_log`: the browser's log channel, filtered;
* :mod:`lesson.web.slow_clients`: a header timeout on the page port (slowloris);
* :mod:`lesson.web.outsider_log`: warnings a client can trigger, once a minute per address, queries left out.
"""

from __future__ import annotations

import logging
from typing import Any

from lesson.config import Config
from lesson.web.browser_log import filter_browser_log
from lesson.web.outsider_log import install_outsider_log
from lesson.web.security_headers import SecurityHeadersMiddleware, session_cookie_options
from lesson.web.slow_clients import header_timeout_protocol

log = logging.getLogger(__name__)


def server_options(config: Config) -> dict[str, Any]:
    """Extra ``ui.run`` arguments: the header-timeout protocol (a uvicorn option) and the cookie's flags."""
    options: dict[str, Any] = {
        'session_middleware_kwargs': session_cookie_options(config),
        # X-Forwarded-For names the browser only from the trusted proxies (uvicorn's default trusts 127.0.0.1 always)
        'proxy_headers': bool(config.trusted_proxies),
    }
    if config.trusted_proxies:
        options['forwarded_allow_ips'] = list(config.trusted_proxies)
    try:
        options['http'] = header_timeout_protocol(config.header_timeout_s)
    except ImportError:  # httptools missing (uvicorn without [standard]): uvicorn's default, with no header timeout
        log.warning('httptools is not installed: the lesson pages have no request header timeout')
    return options


def install(config: Config) -> None:
    """Install every defence into NiceGUI's app; call once, after the storage folder is set, before ui.run."""
    from nicegui import app

    app.add_middleware(
        SecurityHeadersMiddleware,
        echo_port=config.echo_port,
        tls=config.uses_tls,
        public_echo_url=config.public_echo_url,
    )
    filter_browser_log()
    install_outsider_log(app)
