"""`pip install .` (not editable) into a fresh virtual environment gives a working app, content included."""

import subprocess
import sys
import urllib.request
from pathlib import Path

from ..support.app_process import RunningApp

REPO = Path(__file__).resolve().parents[2]


def test_a_regular_install_serves_the_bundled_lesson(tmp_path: Path) -> None:
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True)
    subprocess.run(
        [str(venv / 'bin' / 'pip'), 'install', '-q', '--disable-pip-version-check', str(REPO)], check=True, timeout=600
    )
    # started outside the checkout, so nothing can be read from the source tree by accident
    running = RunningApp(data_dir=tmp_path / 'data', program=str(venv / 'bin' / 'websocket-lesson'), cwd=tmp_path)
    running.data_dir.mkdir()
    running.start()
    try:
        with urllib.request.urlopen(running.url + '/', timeout=10) as answer:
            page = answer.read().decode()
        assert 'WebSockets: live updates without asking twice' in page
        assert 'sequenceDiagram' in page
        with urllib.request.urlopen(running.url + '/quiz', timeout=10) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(running.url + '/demo', timeout=10) as answer:
            assert answer.status == 200
    finally:
        running.stop()
    location = subprocess.run(
        [str(venv / 'bin' / 'python'), '-c', 'import lesson; print(lesson.__file__)'],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert location.startswith(str(venv))
