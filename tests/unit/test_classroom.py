"""The class's pure core: joining, nicknames, attempts, tallies, scores, demo totals, CSV, JSON."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from lesson.rules import class_csv, classroom, demo_runs
from lesson.rules.classroom import (
    Class,
    ClassAttempt,
    ClassFull,
    ClassroomRejected,
    DemoTotals,
    LearnerRemoved,
    NicknameRejected,
    NotJoined,
)
from lesson.rules.progress import DemoRun
from lesson.rules.quiz import grade
from lesson.storage.content_files import bundled_content_dir, load_lesson, load_quiz

CONTENT = bundled_content_dir()
QUIZ = load_quiz(CONTENT, load_lesson(CONTENT).anchors)
RIGHT = {q.id: q.correct_option.id for q in QUIZ.questions}
WRONG = {q.id: next(o.id for o in q.options if not o.correct) for q in QUIZ.questions}
NOON = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def new_class(max_learners: int = 200) -> Class:
    return Class('20260131-120000-abcdef', NOON, max_learners)


def attempt(learner_id: str, number: int, answers: dict[str, str], minute: int = 0) -> ClassAttempt:
    graded = grade(QUIZ, answers)
    return ClassAttempt(learner_id, number, NOON + timedelta(minutes=minute), graded.score, graded.total, answers)


def joined(*names: str | None) -> Class:
    klass = new_class()
    for index, name in enumerate(names):
        klass, _ = classroom.join(klass, f'learner-{index:04d}', name, NOON)
    return klass


@pytest.mark.parametrize(
    ('raw', 'kept'),
    [(None, None), ('', None), ('   ', None), ('  Ada  ', 'Ada'), ('Zoë 🚀', 'Zoë 🚀'), ('x' * 24, 'x' * 24)],
)
def test_nicknames_are_trimmed_and_optional(raw: str | None, kept: str | None) -> None:
    assert classroom.checked_nickname(raw) == kept


@pytest.mark.parametrize('raw', ['x' * 25, 'a\nb', 'tab\there', 'bell\x07', 'rtl\u202eevil', 'zero\u200bwidth'])
def test_long_or_control_character_nicknames_are_refused(raw: str) -> None:
    with pytest.raises(NicknameRejected):
        classroom.checked_nickname(raw)


def test_anonymous_learners_are_numbered_in_order_of_joining() -> None:
    klass = joined('Ada', None, None)
    assert [learner.name for learner in klass.learners] == ['Ada', 'Learner 2', 'Learner 3']


def test_joining_again_keeps_the_number_and_takes_the_new_nickname() -> None:
    klass = joined('Ada', None)
    klass = classroom.record_attempt(klass, attempt('learner-0000', 1, RIGHT), QUIZ)  # something to keep
    klass = classroom.leave(klass, 'learner-0000')
    assert [learner.present for learner in klass.learners] == [False, True]
    klass, learner = classroom.join(klass, 'learner-0000', 'Grace', NOON)
    assert (learner.number, learner.name, learner.present, len(klass.learners)) == (1, 'Grace', True, 2)


def test_a_refused_join_changes_nothing() -> None:
    klass = joined('Ada')
    with pytest.raises(NicknameRejected):
        classroom.join(klass, 'learner-0009', 'a\x00b', NOON)
    with pytest.raises(ClassroomRejected):
        classroom.join(klass, 'x', 'ok', NOON)  # not an id the app makes
    assert klass == joined('Ada')


def test_a_full_class_refuses_newcomers_but_not_returning_learners() -> None:
    klass = new_class(max_learners=2)
    for index in range(2):
        klass, _ = classroom.join(klass, f'learner-{index:04d}', None, NOON)
    with pytest.raises(ClassFull):
        classroom.join(klass, 'learner-0002', None, NOON)
    classroom.join(klass, 'learner-0001', 'back', NOON)


def test_attempts_count_only_for_joined_learners_and_only_once() -> None:
    klass = joined('Ada')
    with pytest.raises(NotJoined):
        classroom.record_attempt(klass, attempt('learner-9999', 1, RIGHT), QUIZ)
    klass = classroom.record_attempt(klass, attempt('learner-0000', 1, RIGHT), QUIZ)
    with pytest.raises(ClassroomRejected):
        classroom.record_attempt(klass, attempt('learner-0000', 1, WRONG), QUIZ)
    with pytest.raises(ClassroomRejected):
        forged = ClassAttempt('learner-0000', 2, NOON, 4, 4, {'secure-scheme': 'gopher'})
        classroom.record_attempt(klass, forged, QUIZ)
    assert len(klass.attempts) == 1


def test_first_attempts_are_apart_from_retries_and_scores_follow() -> None:
    klass = joined('Ada', 'Bob')
    # Ada's first attempt in class is her 3rd ever (two at home before)
    klass = classroom.record_attempt(klass, attempt('learner-0000', 3, WRONG), QUIZ)
    klass = classroom.record_attempt(klass, attempt('learner-0001', 1, RIGHT), QUIZ)
    klass = classroom.record_attempt(klass, attempt('learner-0000', 4, RIGHT), QUIZ)
    assert [(a.learner_id, a.number) for a in classroom.first_attempts(klass)] == [
        ('learner-0000', 3),
        ('learner-0001', 1),
    ]
    assert [a.number for a in classroom.retries(klass)] == [4]
    summary = classroom.scores(klass)
    assert summary.submitted == 2 and summary.attempts == 3
    assert summary.first_average_percent == 50.0  # 0 % and 100 %
    assert summary.retry_average_percent == 100.0
    assert summary.best_percent == 100 and summary.best_names == ('Bob', 'Ada')


def test_tallies_mark_the_right_option_and_count_each_answer() -> None:
    klass = joined('Ada', 'Bob', None)
    for index, answers in enumerate((RIGHT, RIGHT, WRONG)):
        klass = classroom.record_attempt(klass, attempt(f'learner-{index:04d}', 1, answers), QUIZ)
    for tally in classroom.tallies(QUIZ, klass.attempts):
        assert tally.answered == 3 and tally.right == 2
        (right,) = [option for option in tally.options if option.correct]
        assert right.option_id == RIGHT[tally.question_id] and right.count == 2
        assert sum(option.count for option in tally.options if option.option_id == WRONG[tally.question_id]) == 1


def test_scores_of_an_empty_class() -> None:
    summary = classroom.scores(joined('Ada'))
    assert (summary.submitted, summary.first_average_percent, summary.best_percent) == (0, None, None)


def run(requests: int, updates: int, empty: int, push: int, run_id: int = 1) -> DemoRun:
    return DemoRun(requests, updates, empty, 1000, 500.0, push, 2.0, run_id)


def test_growing_run_summaries_add_only_their_growth_and_a_new_run_adds_whole() -> None:
    klass = joined('Ada', 'Bob')
    klass = classroom.record_demo_run(klass, 'learner-0000', run(10, 5, 5, 20), NOON)
    klass = classroom.record_demo_run(klass, 'learner-0000', run(30, 15, 15, 60), NOON)  # same run, later
    klass = classroom.record_demo_run(klass, 'learner-0000', run(4, 2, 2, 8, run_id=2), NOON)  # Start again
    klass = classroom.record_demo_run(klass, 'learner-0001', run(100, 40, 60, 80), NOON)
    assert klass.learners[0].demo == DemoTotals(2, 34, 17, 17, 68)
    assert klass.demo_totals == DemoTotals(3, 134, 57, 77, 148)
    assert 'sent 134 polls, 77 came back empty' in classroom.demo_sentence(klass.demo_totals)


@pytest.mark.parametrize(
    'later',
    [
        run(10, 5, 5, 20),  # the same summary heard twice
        run(14, 5, 9, 20),  # the updates and the pushes stood still while polls came back empty
        run(18, 9, 9, 20),  # only the push lane stood still
    ],
)
def test_a_later_summary_of_the_same_run_that_did_not_grow_everywhere_is_not_a_new_run(later: DemoRun) -> None:
    klass = joined('Ada')
    klass = classroom.record_demo_run(klass, 'learner-0000', run(10, 5, 5, 20), NOON)
    klass = classroom.record_demo_run(klass, 'learner-0000', later, NOON)
    assert klass.learners[0].demo == DemoTotals(1, later.poll_requests, later.poll_updates, later.poll_empty, 20)


@pytest.mark.parametrize('bad', [run(4, 2, 2, 8), run(40, 20, 20, 80, run_id=0)])
def test_a_summary_that_shrinks_within_its_run_or_comes_from_an_earlier_run_is_refused(bad: DemoRun) -> None:
    klass = joined('Ada')
    klass = classroom.record_demo_run(klass, 'learner-0000', run(10, 5, 5, 20), NOON)
    with pytest.raises(ClassroomRejected, match='not counted'):
        classroom.record_demo_run(klass, 'learner-0000', bad, NOON)


def test_alternating_huge_and_zero_summaries_add_no_more_than_a_page_can_do_in_the_time() -> None:
    """Finding 6: 20,000 crafted summaries put 93,250,000,000 polls on the board. Here 20,000 summaries, one every
    millisecond (20 s of server time), each a 'new run' claiming ten million of everything, then nothing."""
    klass = joined('Mallory', 'Ada')
    huge = 10_000_000
    for index in range(20_000):
        figures = huge if index % 2 == 0 else 0
        at = NOON + timedelta(milliseconds=index)
        klass = classroom.record_demo_run(klass, 'learner-0000', run(figures, 0, 0, figures, index + 1), at)
    mallory = klass.learners[0].demo
    credited_s = demo_runs.SUMMARY_WINDOW_S + 20  # the first summary's window, then the 20 s that passed
    assert mallory.runs <= demo_runs.MAX_RUNS_PER_LEARNER
    assert mallory.poll_requests <= credited_s * demo_runs.MAX_POLLS_PER_S + mallory.runs
    assert mallory.push_updates <= credited_s * demo_runs.MAX_UPDATES_PER_S + mallory.runs
    assert klass.demo_totals.poll_requests < 2_000


def test_an_honest_ten_minute_run_is_counted_whole() -> None:
    """A page at the fastest settings (100 ms polls, 20 updates/s) reporting every 10 s and at Stop."""
    klass = joined('Ada')
    for seconds in range(10, 601, 10):
        figures = run(10 * seconds, 20 * seconds, 0, 20 * seconds, run_id=7)
        klass = classroom.record_demo_run(klass, 'learner-0000', figures, NOON + timedelta(seconds=seconds))
    assert klass.learners[0].demo == DemoTotals(1, 6000, 12000, 0, 12000)


def parse_csv(text: str) -> list[list[str]]:
    assert '\r\n' in text  # RFC 4180 line ends
    return list(csv.reader(io.StringIO(text, newline='')))


def test_attempts_csv_has_a_header_and_a_row_per_attempt_quoted_for_spreadsheets() -> None:
    klass = joined('Smith, "Ada"', '=HYPERLINK("x")', None)
    for index, answers in enumerate((RIGHT, WRONG, RIGHT)):
        klass = classroom.record_attempt(klass, attempt(f'learner-{index:04d}', 1, answers, index), QUIZ)
    rows = parse_csv(class_csv.attempts_csv(klass, QUIZ))
    assert rows[0][:4] == ['learner', 'submitted_at', 'attempt', 'first_in_class']
    assert rows[0][-3:] == ['score', 'total', 'percent']
    assert [row[0] for row in rows[1:]] == ['Smith, "Ada"', '\'=HYPERLINK("x")', 'Learner 3']
    assert [row[-3] for row in rows[1:]] == ['4', '0', '4']
    question = QUIZ.questions[0]
    assert rows[1][4] == question.correct_option.text


@pytest.mark.parametrize('name', ['=1+1', '+1+1', '-1+1', '@SUM(A1)'])
def test_every_formula_lead_character_is_quoted_in_the_csv(name: str) -> None:
    """A spreadsheet runs a cell starting with = + - or @ as a formula (CSV injection): each is made text."""
    klass = joined(name, 'Ada-Lovelace')
    for index in range(2):
        klass = classroom.record_attempt(klass, attempt(f'learner-{index:04d}', 1, RIGHT, index), QUIZ)
    rows = parse_csv(class_csv.attempts_csv(klass, QUIZ))
    assert [row[0] for row in rows[1:]] == [f"'{name}", 'Ada-Lovelace']  # a dash inside a name stays as it is


def test_questions_csv_counts_first_and_all_attempts() -> None:
    klass = joined('Ada')
    klass = classroom.record_attempt(klass, attempt('learner-0000', 1, WRONG), QUIZ)
    klass = classroom.record_attempt(klass, attempt('learner-0000', 2, RIGHT), QUIZ)
    rows = parse_csv(class_csv.questions_csv(klass, QUIZ))
    assert rows[0] == ['question', 'prompt', 'option', 'correct', 'first_attempts', 'all_attempts']
    right_rows = [row for row in rows[1:] if row[3] == 'yes']
    assert len(right_rows) == len(QUIZ.questions)
    assert all(row[4:] == ['0', '1'] for row in right_rows)


def test_json_round_trip_keeps_everything() -> None:
    klass = joined('Ada', None)
    klass = classroom.record_attempt(klass, attempt('learner-0000', 1, RIGHT), QUIZ)
    klass = classroom.record_demo_run(klass, 'learner-0001', run(10, 5, 5, 20), NOON + timedelta(seconds=3))
    klass = classroom.leave(klass, 'learner-0001')
    assert classroom.class_from_json(classroom.class_to_json(klass)) == klass


def test_json_with_a_forged_id_is_refused() -> None:
    raw = classroom.class_to_json(joined())
    raw['id'] = '../../etc/passwd'
    with pytest.raises(ValueError):
        classroom.class_from_json(raw)


# -- nicknames: one person's, visible, not the anonymous form (issue 18, finding 11) ---------------------------


@pytest.mark.parametrize('second', ['Alice', 'alice', 'ALICE', '\uff21\uff4c\uff49\uff43\uff45', '  Alice '])
def test_a_nickname_taken_in_the_class_is_refused_in_any_case_or_width(second: str) -> None:
    klass = joined('Alice')
    with pytest.raises(NicknameRejected, match='already goes by'):
        classroom.join(klass, 'learner-0001', second, NOON)


def test_the_same_learner_may_keep_their_nickname_and_a_free_one_is_taken_as_normalised() -> None:
    klass = joined('Alice')
    klass, again = classroom.join(klass, 'learner-0000', 'ALICE', NOON)
    assert again.name == 'ALICE'
    _, other = classroom.join(klass, 'learner-0001', '\uff22\uff4f\uff42', NOON)  # full-width Bob
    assert other.name == 'Bob'


@pytest.mark.parametrize(
    'raw',
    [
        'Learner 1',
        'learner 12',
        'LEARNER\u00a07',
        'Learner_3',
        '\u3164\u3164',  # Hangul filler: looks blank
        '\u2800\u2800',  # blank Braille pattern
        '\u0301\u0301',  # marks with nothing under them
        'Zalgo' + '\u0301' * 23,
        'x' + '\u0300\u0301\u0302\u0303',  # x has no precomposed form: four marks stay four
        '\ufdfd' * 24,
        '\ufdfd',
    ],
)
def test_blank_stacked_huge_or_anonymous_looking_nicknames_are_refused(raw: str) -> None:
    with pytest.raises(NicknameRejected):
        classroom.join(new_class(), 'learner-0000', raw, NOON)


@pytest.mark.parametrize('raw', ['Tiếng Việt', 'Learner', 'Learnerin Ada', 'हिन्दी', '🚀'])
def test_real_names_with_marks_or_the_word_learner_are_kept(raw: str) -> None:
    assert classroom.checked_nickname(raw) is not None


# -- joining: places, addresses, the teacher's removal (issue 18, finding 1) ----------------------------------


def test_a_learner_who_leaves_frees_their_place() -> None:
    """Finding 1: with --max-learners 3, three joined and left, and a fourth was refused."""
    klass = new_class(max_learners=3)
    for index in range(3):
        klass, _ = classroom.join(klass, f'learner-{index:04d}', None, NOON)
    klass = classroom.record_attempt(klass, attempt('learner-0000', 1, RIGHT), QUIZ)
    for index in range(3):
        klass = classroom.leave(klass, f'learner-{index:04d}')
    assert [learner.id for learner in klass.learners] == ['learner-0000']  # kept for its attempt, not present
    for index in range(3, 6):
        klass, _ = classroom.join(klass, f'learner-{index:04d}', None, NOON)
    assert len(klass.present) == 3 and len({learner.name for learner in klass.learners}) == 4
    with pytest.raises(ClassFull):
        classroom.join(klass, 'learner-0009', None, NOON)


def test_learners_from_one_address_are_capped() -> None:
    klass = new_class()
    for index in range(3):
        klass, _ = classroom.join(klass, f'learner-{index:04d}', None, NOON, source='tag-a', max_per_source=3)
    with pytest.raises(ClassFull, match='from your network'):
        classroom.join(klass, 'learner-0003', None, NOON, source='tag-a', max_per_source=3)
    klass, _ = classroom.join(klass, 'learner-0004', None, NOON, source='tag-b', max_per_source=3)
    klass = classroom.leave(klass, 'learner-0000')
    klass, _ = classroom.join(klass, 'learner-0003', None, NOON, source='tag-a', max_per_source=3)
    assert len(klass.present) == 4


def test_a_removed_learner_cannot_join_again_and_their_place_is_free() -> None:
    klass = new_class(max_learners=1)
    klass, _ = classroom.join(klass, 'learner-0000', 'Mallory', NOON)
    klass = classroom.remove(klass, 'learner-0000')
    with pytest.raises(LearnerRemoved):
        classroom.join(klass, 'learner-0000', 'Mallory', NOON)
    klass = classroom.leave(klass, 'learner-0000')  # leaving does not undo the removal
    with pytest.raises(LearnerRemoved):
        classroom.join(klass, 'learner-0000', None, NOON)
    klass, ada = classroom.join(klass, 'learner-0001', 'Ada', NOON)
    assert ada.present and klass.refused_joins == 0
    klass = classroom.refuse_join(classroom.refuse_join(klass))
    assert classroom.class_from_json(classroom.class_to_json(klass)) == klass
    assert klass.refused_joins == 2
