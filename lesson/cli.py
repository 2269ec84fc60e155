"""The `websocket-lesson` command: flags -> Config -> a running app (or `websocket-lesson bench ...`)."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace

from lesson.config import Config, config_from_args
from lesson.rules.content import ContentError
from lesson.web.addresses import WILDCARD_HOSTS, machine_ipv4_addresses, url_host
from lesson.web.ports import PortInUseError, bind_listening_socket, claim_free_port

PROG = 'websocket-lesson'


def _fail(message: str, code: int) -> int:
    print(f'{PROG}: {message}', file=sys.stderr)
    return code


def _warn_if_exposed(config: Config, app_port: int, echo_port: int) -> None:
    """One line on stderr when the app listens beyond this machine, naming what others can reach."""
    if config.is_exposed:
        schemes = 'https:// and wss://' if config.uses_tls else 'unencrypted http:// and ws://'
        print(
            f'{PROG}: warning: listening on {config.host}: the lesson (port {app_port}) and the echo server '
            f'(port {echo_port}) are reachable from other machines on your network ({schemes})',
            file=sys.stderr,
        )


# -- the start-up block: where the lesson is, and what to hand out to a class -----------------------------------


def startup_lines(
    config: Config, app_port: int, echo_port: int, addresses: Sequence[str], teacher_token: str | None = None
) -> list[str]:
    """What start-up prints: the lesson's three pages, the echo server, the teacher's address (the only line
    that ever shows the token), and for a class what to hand out."""
    scheme, ws = ('https', 'wss') if config.uses_tls else ('http', 'ws')
    local = '127.0.0.1' if config.host in WILDCARD_HOSTS else url_host(config.host)
    base = f'{scheme}://{local}:{app_port}'
    lines = [
        f'{PROG}: the lesson is at {base}/',
        f'  live demos   {base}/demo',
        f'  quiz         {base}/quiz',
        f'  echo server  {ws}://{local}:{echo_port} (the demos connect to it)',
    ]
    if teacher_token:
        lines.append(
            f'  teacher      {base}/teacher?token={teacher_token} (class board; keep this address to yourself)'
        )
    if config.is_exposed:
        handed = addresses if config.host in WILDCARD_HOSTS else [config.host]
        if handed:
            lines.append('  for the class: ' + ', '.join(f'{scheme}://{url_host(a)}:{app_port}/' for a in handed))
        else:
            lines.append(
                "  for the class: this machine's network addresses could not be listed; "
                'find them with `ip addr` (Linux), `ipconfig` (Windows) or `ifconfig` (macOS)'
            )
        lines.append(f'  firewall: let in TCP ports {app_port} (the pages) and {echo_port} (the echo server)')
    if config.open_without_display:
        lines.append('  --open: no display here (DISPLAY, WAYLAND_DISPLAY unset), so no browser opens: use the address')
    lines.append('  to stop: press Ctrl-C in this terminal')
    return lines


def _print_startup(config: Config, app_port: int, echo_port: int) -> None:
    addresses = machine_ipv4_addresses() if config.is_exposed and config.host in WILDCARD_HOSTS else []
    from lesson.teaching.access import teacher_token

    token = teacher_token(config.teacher_token, config.data_dir)
    print('\n'.join(startup_lines(config, app_port, echo_port, addresses, token)), flush=True)


def _configure_logging() -> None:
    """The app's own lines (lesson.*) on stderr with their level, like uvicorn's: a WARNING must say so."""
    logger = logging.getLogger('lesson')
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter('%(levelname)s:     %(name)s: %(message)s'))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _hear_ctrl_c() -> None:
    """Python's SIGINT handler back where the app was started with SIGINT ignored (`websocket-lesson &` in a script,
    a CI runner): uvicorn stops on SIGINT all the same, but its re-raise would be ignored and the exit code 0."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ['bench']:
        from demos.bench.command import main as bench_main

        return bench_main(args[1:])

    _configure_logging()
    config = config_from_args(args)
    try:
        app_port = claim_free_port(config.host, config.port, '--port')
        echo_socket = bind_listening_socket(config.echo_host, config.echo_port, '--echo-port')
    except PortInUseError as error:
        return _fail(str(error), 1)
    echo_port = int(echo_socket.getsockname()[1])
    # from here on the configuration names the ports actually used (0 on the command line means "any free one")
    config = replace(config, port=app_port, echo_port=echo_port)

    # NiceGUI is imported only now: `--help` and flag errors stay instant.
    from lesson import app
    from lesson.web.echo_config import CertificateError

    app.use_data_dir(config.data_dir)
    if config.rotate_teacher_token:  # before anything reads the token: the start-up block prints the new one
        from lesson.teaching.access import rotate_teacher_token

        rotate_teacher_token(config.data_dir)
    try:
        app.build(config, echo_socket, app_port)
    except ContentError as error:
        echo_socket.close()
        return _fail(f'content error: {error}', 2)
    except CertificateError as error:
        echo_socket.close()
        return _fail(str(error), 2)
    _warn_if_exposed(config, app_port, echo_port)
    _print_startup(config, app_port, echo_port)
    _hear_ctrl_c()
    try:
        app.serve(config, app_port)
    except KeyboardInterrupt:
        # Ctrl-C: uvicorn has already shut down gracefully (WebSockets closed with 1001) and re-raised the
        # signal; a traceback would only alarm. 130 = 128 + SIGINT, what a shell reports for Ctrl-C.
        return 130
    return 0
