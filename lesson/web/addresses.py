"""This machine's addresses as learners can reach them: for the start-up block and the teacher's join screen.

Its own module so that the command line (which prints them) and the teacher's pages (which show them) both take
them from here, instead of a page importing the command line that builds the app that registers the page.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import shutil
import socket
import subprocess
from collections.abc import Iterable

#: Hosts that mean "every interface of this machine": the addresses to hand out are then the machine's own.
WILDCARD_HOSTS = frozenset({'0.0.0.0', '::', ''})
_IP_ADDR_INET = re.compile(r'\binet (\d{1,3}(?:\.\d{1,3}){3})/')


def parse_ip_addr(text: str) -> list[str]:
    """IPv4 addresses in the output of ``ip -o -4 addr`` (one interface address a line)."""
    return _IP_ADDR_INET.findall(text)


def hand_out_addresses(candidates: Iterable[str]) -> list[str]:
    """The addresses learners can use: IPv4, not loopback or unspecified, each once, in numeric order."""
    found = set()
    for candidate in candidates:
        try:
            address = ipaddress.IPv4Address(candidate)
        except ValueError:
            continue
        if not (address.is_loopback or address.is_unspecified):
            found.add(address)
    return [str(address) for address in sorted(found)]


def machine_ipv4_addresses() -> list[str]:
    """This machine's IPv4 addresses, from the resolver and from ``ip`` where it exists (no dependency).

    The resolver alone often knows only 127.0.1.1 for the host name (Debian's /etc/hosts), hence both.
    """
    candidates: list[str] = []
    with contextlib.suppress(OSError):
        candidates += [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    if ip := shutil.which('ip'):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            candidates += parse_ip_addr(
                subprocess.run(
                    [ip, '-o', '-4', 'addr', 'show'], capture_output=True, text=True, timeout=2, check=False
                ).stdout
            )
    return hand_out_addresses(candidates)


def url_host(host: str) -> str:
    """The host as it stands in a URL: an IPv6 address in brackets."""
    return f'[{host}]' if ':' in host else host
