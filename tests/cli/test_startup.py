"""The start-up block: where the lesson, the demos, the quiz and the echo server are, and for a class the
addresses to hand out and the ports the firewall must let in."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from lesson.cli import startup_lines
from lesson.config import Config, config_from_args
from lesson.web.addresses import hand_out_addresses, machine_ipv4_addresses, parse_ip_addr

from ..support.app_process import app_environment, lesson_command

IP_ADDR = """\
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: wlan0    inet 192.168.1.23/24 brd 192.168.1.255 scope global dynamic wlan0\\       valid_lft 86000sec
3: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\\       valid_lft forever
4: wlan0    inet 10.0.0.7/8 scope global secondary wlan0\\       valid_lft forever preferred_lft forever
"""


def test_ip_addr_output_is_parsed() -> None:
    assert parse_ip_addr(IP_ADDR) == ['127.0.0.1', '192.168.1.23', '172.17.0.1', '10.0.0.7']


def test_addresses_to_hand_out_are_not_loopback_and_each_once() -> None:
    # what getaddrinfo(gethostname()) gives on Debian (127.0.1.1) plus what `ip` lists
    found = ['127.0.1.1', '192.168.1.23', *parse_ip_addr(IP_ADDR), '0.0.0.0', 'fe80::1', 'garbage']
    assert hand_out_addresses(found) == ['10.0.0.7', '172.17.0.1', '192.168.1.23']


def test_this_machines_addresses_are_listed_without_loopback() -> None:
    addresses = machine_ipv4_addresses()
    assert all(not address.startswith('127.') for address in addresses)
    assert addresses == hand_out_addresses(addresses)


def test_the_block_on_this_machine_names_pages_and_echo_port_only() -> None:
    lines = startup_lines(Config(), 8080, 8765, ['192.168.1.23'])
    text = '\n'.join(lines)
    assert lines[0] == 'websocket-lesson: the lesson is at http://127.0.0.1:8080/'
    assert 'http://127.0.0.1:8080/demo' in text and 'http://127.0.0.1:8080/quiz' in text
    assert 'ws://127.0.0.1:8765' in text
    assert '192.168.1.23' not in text and 'firewall' not in text
    assert lines[-1] == '  to stop: press Ctrl-C in this terminal'
    assert '--open' not in text


def test_open_without_a_display_says_no_browser_was_opened(tmp_path: Path) -> None:
    config = config_from_args(['--open', '--data-dir', str(tmp_path)], {'HOME': str(tmp_path)})
    assert config.open_without_display
    text = '\n'.join(startup_lines(config, 8080, 8765, []))
    assert '--open: no display here (DISPLAY, WAYLAND_DISPLAY unset), so no browser opens' in text
    shown = config_from_args(['--open', '--data-dir', str(tmp_path)], {'HOME': str(tmp_path), 'DISPLAY': ':0'})
    assert shown.open_browser and not shown.open_without_display


def test_the_block_for_a_class_hands_out_every_address_and_both_ports() -> None:
    config = Config(host='0.0.0.0', certfile=Path('c.pem'), keyfile=Path('k.pem'))
    text = '\n'.join(startup_lines(config, 8443, 9001, ['10.0.0.7', '192.168.1.23']))
    assert 'https://127.0.0.1:8443/demo' in text and 'wss://127.0.0.1:9001' in text
    assert 'for the class: https://10.0.0.7:8443/, https://192.168.1.23:8443/' in text
    assert 'firewall: let in TCP ports 8443 (the pages) and 9001 (the echo server)' in text
    one_address = '\n'.join(startup_lines(Config(host='192.168.1.23'), 8080, 8765, ['10.0.0.7']))
    assert 'for the class: http://192.168.1.23:8080/' in one_address and '10.0.0.7' not in one_address
    nothing_found = '\n'.join(startup_lines(Config(host='0.0.0.0'), 8080, 8765, []))
    assert 'could not be listed' in nothing_found and 'ip addr' in nothing_found


def test_the_console_script_prints_the_block_with_the_ports_it_got(tmp_path: Path) -> None:
    command = [
        lesson_command(),
        '--host',
        '0.0.0.0',
        '--port',
        '0',
        '--echo-port',
        '0',
        '--no-open',
        '--data-dir',
        str(tmp_path),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=app_environment()
    )
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:  # printed before the server starts
            lines.append(line.rstrip('\n'))
            if 'firewall' in line:
                break
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    text = '\n'.join(lines)
    assert 'the lesson is at http://127.0.0.1:' in text and '/demo' in text and '/quiz' in text
    app_port = int(text.split('the lesson is at http://127.0.0.1:')[1].split('/')[0])
    echo_port = int(text.split('echo server  ws://127.0.0.1:')[1].split(' ')[0])
    assert app_port != 0 and echo_port != 0  # the ports it got, not the 0 it was asked for
    assert f'firewall: let in TCP ports {app_port} (the pages) and {echo_port} (the echo server)' in text
    for address in machine_ipv4_addresses():
        assert f'http://{address}:{app_port}/' in text
