"""The `websocket-lesson` command: flags -> Config -> a running app (or `websocket-lesson bench ...`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .config import Config, config_from_args
from .content import ContentError
from .ports import PortInUseError, bind_listening_socket, claim_free_port

PROG = 'websocket-lesson'


def _fail(message: str, code: int) -> int:
    print(f'{PROG}: {message}', file=sys.stderr)
    return code


def _warn_if_exposed(config: Config, app_port: int, echo_port: int) -> None:
    """One line on stderr when the app listens beyond this machine, naming what others can reach."""
    if config.is_exposed:
        schemes = 'https:// and wss://' if config.uses_tls else 'unencrypted http:// and ws://'
        print(f'{PROG}: warning: listening on {config.host}: the lesson (port {app_port}) and the echo server '
              f'(port {echo_port}) are reachable from other machines on your network ({schemes})', file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ['bench']:
        from demos.bench import main as bench_main
        return bench_main(args[1:])

    config = config_from_args(args)
    try:
        app_port = claim_free_port(config.host, config.port, '--port')
        echo_socket = bind_listening_socket(config.echo_host, config.echo_port, '--echo-port')
    except PortInUseError as error:
        return _fail(str(error), 1)
    echo_port = int(echo_socket.getsockname()[1])

    # NiceGUI is imported only now: `--help` and flag errors stay instant.
    from . import app
    from .echo_config import CertificateError

    app.use_data_dir(config.data_dir)
    try:
        app.build(config, echo_socket, app_port)
    except ContentError as error:
        echo_socket.close()
        return _fail(f'content error: {error}', 2)
    except CertificateError as error:
        echo_socket.close()
        return _fail(str(error), 2)
    _warn_if_exposed(config, app_port, echo_port)
    try:
        app.serve(config, app_port)
    except KeyboardInterrupt:
        # Ctrl-C: uvicorn has already shut down gracefully (WebSockets closed with 1001) and re-raised the
        # signal; a traceback would only alarm. 130 = 128 + SIGINT, what a shell reports for Ctrl-C.
        return 130
    return 0
