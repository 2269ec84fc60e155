"""deploy/run-local.sh started as a teacher starts it, on free loopback ports in a temporary folder (tests).

Nothing here imports pytest: a failure to start raises with the script's output and every log it keeps.
"""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .app_process import app_environment, free_port, lesson_command
from .deployment import binary
from .waiting import wait_until

SCRIPT = Path(__file__).parents[2] / 'deploy' / 'run-local.sh'
READY = b'instance(s) behind HAProxy'


@dataclass
class RunLocal:
    """``deploy/run-local.sh N`` with its state in ``folder / 'state'`` and its output in ``folder / 'run.log'``.

    ``env`` adds to the environment the script and its instances see (e.g. ``WEBSOCKET_LESSON_SESSIONS_PER_MINUTE``).
    """

    folder: Path
    count: int = 1
    env: dict[str, str] = field(default_factory=dict)
    public_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def state(self) -> Path:
        return self.folder / 'state'

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.public_port}'

    def start(self) -> None:
        binary('redis-server', '/usr/bin/redis-server')
        binary('haproxy', '/usr/sbin/haproxy')
        env = {
            **app_environment(),
            'STATE_DIR': str(self.state),
            'PUBLIC_PORT': str(self.public_port),
            'REDIS_PORT': str(free_port()),
            # consecutive ports from FIRST_*: one instance uses only the first, so one free port is enough
            'FIRST_PAGE_PORT': str(free_port()),
            'FIRST_ECHO_PORT': str(free_port()),
            'LESSON': lesson_command(),
            **self.env,
        }
        if self.count != 1:
            raise ValueError('more than one instance needs consecutive free ports: not done here')
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / 'run.log').open('wb') as out:
            self.process = subprocess.Popen(
                [str(SCRIPT), str(self.count)], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_until(self._ready, 60, self.logs)

    def _ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.logs()
        return READY in (self.folder / 'run.log').read_bytes()

    def log(self, name: str) -> str:
        """One of the logs the script keeps in its state folder (``app1.log``, ``haproxy.log``, ``redis.log``)."""
        path = self.state / name
        return path.read_text(errors='replace') if path.exists() else ''

    def logs(self) -> str:
        """The script's output, then each log it keeps, to tell why something did not happen."""
        logs = [self.folder / 'run.log', *sorted(self.state.glob('*.log'))]
        return '\n'.join(f'--- {log.name}\n{log.read_text(errors="replace")[-3000:]}' for log in logs if log.exists())

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)

    def __enter__(self) -> RunLocal:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
