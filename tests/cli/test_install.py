"""`pip install .` (not editable) into a fresh virtual environment gives a working app, content included; reinstalling
it editable into the same environment while the app runs leaves the running app whole."""

import re
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
        assert 'WebSockets: real-time updates over one open connection' in page
        assert 'sequenceDiagram' in page
        with urllib.request.urlopen(running.url + '/quiz', timeout=10) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(running.url + '/demo', timeout=10) as answer:
            assert answer.status == 200

        # What a developer does next in the same environment: the installed files are replaced under the running app.
        subprocess.run(
            [str(venv / 'bin' / 'pip'), 'install', '-q', '--disable-pip-version-check', '--no-deps', '-e', str(REPO)],
            check=True,
            timeout=600,
        )
        with urllib.request.urlopen(running.url + '/demo', timeout=10) as answer:
            assert answer.status == 200
            demo = answer.read().decode()
        # Every script the page loads still answers: the panels' components and the demo clients.
        scripts = set(re.findall(r'/_nicegui/[^"\']+/components/[^"\']+\.js', demo))
        scripts |= set(re.findall(r'/demos-static/[a-z_]+\.js\?v=[0-9a-f]+', demo))
        assert len([s for s in scripts if 'panel' in s]) >= 7, scripts
        for script in scripts:
            with urllib.request.urlopen(running.url + script, timeout=10) as answer:
                assert answer.status == 200, script
    finally:
        running.stop()
    location = subprocess.run(
        [str(venv / 'bin' / 'python'), '-c', 'import lesson; print(lesson.__file__)'],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert location.startswith(str(REPO))  # the editable install is the one in place now
