"""The class board's push delay with a simulated class: N students in Chromium answer the quiz, the board measures.

Each student is a browser context of its own (its own cookie, so its own learner): it joins by the join screen's
address, answers every question, then submits, either spread over some seconds (a class at work) or all at once
(everyone clicks when the teacher says "submit now"). The board's own browser measures each delay, from the app's
clock stamp of the answer to the bars' arrival (``window.boardDelays``, see ``lesson/panels/board_delay.js``).

The students' browsers run on the same 2 cores as the app here, which a real class's phones would not: the figures
are an upper bound for one machine. Run::

    .venv/bin/python benchmarks/board_bench.py --students 30 [--screenshots /work/notes]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

# Run as a script too (python benchmarks/board_bench.py): the repository's own packages (tests.support) are found.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz
from tests.support.app_process import RunningApp
from tests.support.browser import launch_chromium

TOKEN = 'board-bench-teacher-token'
CONTENT = bundled_content_dir()
QUIZ = load_quiz(CONTENT, load_lesson(CONTENT).anchors)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def prepare_student(context: BrowserContext, address: str, base: str, number: int, rng: random.Random) -> Page:
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(address)
    page.get_by_label('Nickname (optional)').fill(f'Student {number}')
    page.get_by_role('button', name='Join the class').click()
    expect(page.get_by_test_id('join-joined')).to_be_visible()
    page.goto(base + '/quiz')
    for question in QUIZ.questions:
        option = rng.choice(question.options)
        group = page.locator(f'[role=radiogroup][aria-labelledby="quiz-prompt-{question.id}"]')
        group.get_by_role('radio', name=option.text, exact=True).click()
    expect(page.get_by_role('button', name='Submit answers')).to_be_enabled()
    return page


def run_round(
    board: Page, students: list[Page], spread_s: float, rng: random.Random
) -> tuple[list[float], list[float]]:
    """Submit every student's answers (spread over ``spread_s``, or at once for 0); the board's delays, in ms, and
    the page server's share of each (answer recorded to board update sent)."""
    board.evaluate('window.boardDelays = []; window.boardServerDelays = []')
    before = board.get_by_test_id('board-submitted').inner_text()
    schedule = sorted((rng.uniform(0, spread_s), index) for index in range(len(students)))
    started = time.monotonic()
    for at, index in schedule:
        if (wait := started + at - time.monotonic()) > 0:
            time.sleep(wait)
        students[index].get_by_role('button', name='Submit answers').click(no_wait_after=True)
    expected = len(students)
    deadline = time.monotonic() + 30
    while len(delays := board.evaluate('window.boardDelays')) < expected:
        assert time.monotonic() < deadline, f'the board saw {len(delays)} of {expected} answers ({before})'
        board.wait_for_timeout(100)  # polling the board's measurements, not a wait for a result
    return delays, board.evaluate('window.boardServerDelays')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--students', type=int, default=30)
    parser.add_argument('--spread', type=float, default=10.0, help='seconds over which the students submit')
    parser.add_argument('--screenshots', type=Path, help='folder for the join screen, board and presenter shots')
    parser.add_argument('--seed', type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    running = RunningApp(data_dir=Path(tempfile.mkdtemp(prefix='board-bench-')), extra_args=['--teacher-token', TOKEN])
    running.start()
    base = running.url
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            teacher = browser.new_context(viewport={'width': 1280, 'height': 720})
            board = teacher.new_page()
            board.set_default_timeout(30_000)
            board.goto(f'{base}/teacher?token={TOKEN}')
            board.get_by_test_id('board-start').click()
            expect(board.get_by_test_id('board-here')).to_have_text('0 here')
            join_screen = teacher.new_page()
            join_screen.goto(f'{base}/teacher/join?token={TOKEN}&presenter=1')
            address = join_screen.get_by_test_id('join-address').first.inner_text().strip()

            load_before = os.getloadavg()
            prepared = time.monotonic()
            students = [
                prepare_student(browser.new_context(), address, base, number, rng)
                for number in range(1, args.students + 1)
            ]
            print(f'{len(students)} students joined and answered in {time.monotonic() - prepared:.0f} s')
            expect(join_screen.get_by_test_id('join-count')).to_have_text(f'{args.students} learners joined')
            if args.screenshots:
                join_screen.screenshot(path=str(args.screenshots / 'teacher-join-screen.png'))

            spread = run_round(board, students, args.spread, rng)
            if args.screenshots:  # a few demo runs, so the board's picture has class totals too
                for student in students[:3]:
                    student.goto(base + '/demo')
                    student.get_by_role('button', name='Start').click()
                for student in students[:3]:
                    for lane in ('poll', 'push'):
                        expect(student.locator(f'[data-figure="{lane}-updates"]')).to_have_attribute(
                            'data-value', re.compile(r'^[1-9]')
                        )
                    student.get_by_role('button', name='Stop').click()
                expect(board.get_by_test_id('board-demo')).to_contain_text('Your class sent')
                for student in students[:3]:
                    student.goto(base + '/quiz')
                board.screenshot(path=str(args.screenshots / 'teacher-board.png'), full_page=True)
            for student in students:  # a second attempt each, then all at once
                student.get_by_role('button', name='Try again').click()
                for question in QUIZ.questions:
                    group = student.locator(f'[role=radiogroup][aria-labelledby="quiz-prompt-{question.id}"]')
                    group.get_by_role('radio', name=question.correct_option.text, exact=True).click()
            burst = run_round(board, students, 0.0, rng)
            load_after = os.getloadavg()
            if args.screenshots:
                board.goto(f'{base}/teacher?token={TOKEN}&presenter=1')
                expect(board.get_by_test_id('board-submitted')).to_be_visible()
                board.screenshot(path=str(args.screenshots / 'teacher-board-presenter.png'))
                demo = teacher.new_page()
                demo.goto(f'{base}/demo?presenter=1')
                demo.get_by_role('button', name='Start').click()
                demo.wait_for_timeout(4000)  # let the four lanes fill for the picture
                demo.get_by_role('button', name='Stop').click()
                demo.locator('[data-panel=lanes]').scroll_into_view_if_needed()
                demo.screenshot(path=str(args.screenshots / 'demo-presenter.png'))
            browser.close()
    finally:
        running.stop()

    for name, (delays, server) in (
        (f'spread over {args.spread:g} s', spread),
        ('all at once (second attempts)', burst),
    ):
        print(
            f'{args.students} students, {name}: board push delay p50 {statistics.median(delays):.0f} ms, '
            f'p95 {percentile(delays, 0.95):.0f} ms, max {max(delays):.0f} ms ({len(delays)} answers); '
            f'of which in the page server p50 {statistics.median(server):.0f} ms, p95 {percentile(server, 0.95):.0f} ms'
        )
    print(f'load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f} on {os.cpu_count()} cores')


if __name__ == '__main__':
    main()
