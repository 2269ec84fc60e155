"""``websocket-lesson bench --moment 5``: the submit-moment benchmark run tiny, through the console script, against
the app it starts: it joins, answers, submits and reads the board as NiceGUI's page does, and reports every figure.
Speed is the benchmark's to show, not this test's: here only that each figure was measured."""

from __future__ import annotations

import json
import subprocess

from demos.bench.moment import moment_markdown

from ..support.app_process import app_environment, lesson_command

STUDENTS = 5
#: Seconds the whole tiny run may take (start the app, 5 students, stop it), a bound, not a target.
RUN_TIMEOUT_S = 120


def test_five_students_join_submit_and_the_board_shows_them() -> None:
    done = subprocess.run(
        [lesson_command(), 'bench', '--moment', str(STUDENTS), '--window-ms', '100', '--json'],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=app_environment(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report['errors'] == [] and report['errors_total'] == 0
    assert report['joined'] == report['submitted'] == report['results_delivered'] == STUDENTS
    assert report['disconnects'] == 0
    assert report['join_ms']['n'] == STUDENTS and report['join_ms']['p50'] > 0
    steps = report['join_steps_ms']  # /join, the Join button, /quiz: measured apart
    assert len(steps) == 3 and all(step['n'] == STUDENTS and step['p50'] > 0 for step in steps.values())
    assert report['result_ms']['n'] == STUDENTS and 0 < report['result_ms']['p50'] <= report['result_ms']['max']
    assert report['board_after_last_submit_ms'] is not None  # the board said "Submitted: 5 of 5"
    assert report['app_cpu_ms_per_submit'] > 0 and report['rss_kib']['joined'] > 0
    assert report['machine']['load_avg_1m_before'] >= 0
    text = moment_markdown(report)
    assert f'## {STUDENTS} students submit within 100 ms' in text
    assert {t['target'] for t in report['targets']} >= {'app CPU per submit <= 5 ms', 'socket disconnects = 0'}


def test_a_moment_of_no_students_is_refused() -> None:
    done = subprocess.run(
        [lesson_command(), 'bench', '--moment', '0'], capture_output=True, text=True, timeout=60, env=app_environment()
    )
    assert done.returncode == 2 and '--moment takes 1 to' in done.stderr
