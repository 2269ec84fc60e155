"""The submit-moment benchmark run tiny against the app started by its console script: it joins, answers, submits
and reads the board as NiceGUI's page does, and reports every figure. Speed is the benchmark's to show, not this
test's: here only that each figure was measured."""

from __future__ import annotations

from demos.bench.moment import moment_markdown, run_against_app

STUDENTS = 5


def test_five_students_join_submit_and_the_board_shows_them() -> None:
    report = run_against_app(None, STUDENTS, window_ms=100)
    assert report['errors'] == [] and report['errors_total'] == 0
    assert report['joined'] == report['submitted'] == report['results_delivered'] == STUDENTS
    assert report['disconnects'] == 0
    assert report['join_ms']['n'] == STUDENTS and report['join_ms']['p50'] > 0
    assert report['result_ms']['n'] == STUDENTS and 0 < report['result_ms']['p50'] <= report['result_ms']['max']
    assert report['board_after_last_submit_ms'] is not None  # the board said "Submitted: 5 of 5"
    assert report['app_cpu_ms_per_submit'] > 0 and report['rss_kib']['joined'] > 0
    assert report['machine']['load_avg_1m_before'] >= 0
    text = moment_markdown(report)
    assert f'## {STUDENTS} students submit within 100 ms' in text
    assert {t['target'] for t in report['targets']} >= {'app CPU per submit <= 5 ms', 'socket disconnects = 0'}
