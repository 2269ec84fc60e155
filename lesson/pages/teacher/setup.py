"""What the teacher's pages work with, gathered once at start-up: the class store, the quiz, the token, the echo
process's control channel and the addresses learners join at."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nicegui import app

from lesson.config import Config
from lesson.rules.quiz import Quiz
from lesson.teaching.access import EchoControl, teacher_token
from lesson.teaching.class_moments import LocalMoments, RedisMoments, open_moments
from lesson.teaching.membership import JoinLimits
from lesson.teaching.store import ClassStore
from lesson.teaching.store_redis import open_class_store
from lesson.web.addresses import WILDCARD_HOSTS, machine_ipv4_addresses, url_host


@dataclass(frozen=True)
class TeacherSetup:
    store: ClassStore
    quiz: Quiz
    token: str
    #: The shared moments, carried out on every instance's echo process (one, without ``--redis-url``).
    moments: LocalMoments | RedisMoments
    #: Where learners go: one ``scheme://address:port/join`` per address they can use.
    join_urls: Callable[[], Sequence[str]]
    #: How many may join from one address, and how fast (``--learners-per-address``, ``--joins-per-minute-...``).
    join_limits: JoinLimits = field(default_factory=JoinLimits)


def join_urls_for(config: Config, app_port: int) -> Callable[[], list[str]]:
    """Where learners go: every non-loopback address of this machine when serving on all of them (asked again at
    each showing: a laptop may change networks), else the configured host."""
    scheme = 'https' if config.uses_tls else 'http'

    def urls() -> list[str]:
        wildcard = config.host in WILDCARD_HOSTS
        hosts = (machine_ipv4_addresses() or ['127.0.0.1']) if wildcard else [config.host]
        return [f'{scheme}://{url_host(host)}:{app_port}/join' for host in hosts]

    return urls


def setup_for(config: Config, quiz: Quiz, *, echo_port: int, session_key: bytes, app_port: int) -> TeacherSetup:
    """The teacher pages' parts for this app: the class store (files in the data directory, or Redis with
    ``--redis-url``: :func:`lesson.teaching.store_redis.open_class_store`), the token, the echo process's control
    channel, the join addresses."""
    store = open_class_store(config, quiz)
    app.on_shutdown(store.close)
    moments = open_moments(config.redis_url, EchoControl(echo_port, session_key, uses_tls=config.uses_tls))
    app.on_startup(moments.start)
    app.on_shutdown(moments.close)
    return TeacherSetup(
        store=store,
        quiz=quiz,
        token=teacher_token(config.teacher_token, config.data_dir),
        moments=moments,
        join_urls=join_urls_for(config, app_port),
        join_limits=JoinLimits(config.joins_per_minute_per_address, config.learners_per_address),
    )
