from pathlib import Path

import pytest

from lesson.rules.content import ContentError
from lesson.rules.progress import DemoRun, demo_run_to_store
from lesson.rules.quiz import (
    Band,
    InvalidAnswer,
    Option,
    Question,
    Quiz,
    checked_option_index,
    grade,
    next_seed,
    option_order,
    parse_quiz,
    percent_of,
    shuffled_options,
)
from lesson.storage.content_files import bundled_content_dir, demo_run_placeholders, load_lesson, load_quiz

ANCHORS = frozenset({'intro', 'details'})
HEAD = """title = "Check"
intro = "Four questions."

[[bands]]
min_percent = 100
message = "All right."

[[bands]]
min_percent = 50
message = "Half way."

[[bands]]
min_percent = 0
message = "Read again."
"""


def question(question_id: str = 'q1', anchor: str = 'intro', options: str | None = None) -> str:
    if options is None:
        options = option('a', correct=True) + option('b') + option('c')
    return f'''
[[questions]]
id = "{question_id}"
prompt = "Prompt of {question_id}?"
lesson_anchor = "{anchor}"
explanation = "Because."
{options}'''


def option(option_id: str, correct: bool = False) -> str:
    flag = 'correct = true\n' if correct else ''
    return f'''
[[questions.options]]
id = "{option_id}"
text = "Text {option_id}"
feedback = "Feedback {option_id}"
{flag}'''


def parse(text: str) -> Quiz:
    return parse_quiz(text, ANCHORS, 'quiz.toml')


def error_of(text: str) -> ContentError:
    with pytest.raises(ContentError) as info:
        parse(text)
    return info.value


SMALL = parse(HEAD + question('q1') + question('q2', 'details', option('x') + option('y', correct=True)))


# -- the shipped quiz ----------------------------------------------------------------------------------------


def test_bundled_quiz_has_the_seeds_four_questions_and_answers() -> None:
    content = bundled_content_dir()
    quiz = load_quiz(content, load_lesson(content).anchors)
    assert [(q.id, q.correct_option.text) for q in quiz.questions] == [
        ('main-advantage', 'One connection stays open, and data can be sent and received over it at any moment.'),
        ('secure-scheme', 'wss://'),
        ('server-has-news', 'The server sends it at once, without the client asking for it.'),
        ('receive-event', 'socket.onmessage'),
    ]
    for q in quiz.questions:
        assert 3 <= len(q.options) <= 4
        assert all(option.feedback for option in q.options)
    # the seed's stray fifth solution ("constant, real-time updates") lives in question 1's explanation
    assert 'constant' in quiz.questions[0].explanation and 'real-time' in quiz.questions[0].explanation
    wrong = {option.text for q in quiz.questions for option in q.options if not option.correct}
    assert {'https://', 'socket.onopen'} <= wrong


# -- validation ----------------------------------------------------------------------------------------------


def test_a_valid_file_parses_into_questions_options_and_bands() -> None:
    assert SMALL.title == 'Check'
    assert [q.id for q in SMALL.questions] == ['q1', 'q2']
    assert SMALL.questions[1].correct_option.id == 'y'
    assert [band.min_percent for band in SMALL.bands] == [100, 50, 0]
    assert SMALL.band_message(100) == 'All right.'
    assert SMALL.band_message(75) == 'Half way.'
    assert SMALL.band_message(49) == 'Read again.'


@pytest.mark.parametrize(
    ('text', 'words'),
    [
        (HEAD + question('q1') + question('q1'), "question 'q1': the id is used twice"),
        (
            HEAD + question('q1', options=option('a', correct=True) + option('a')),
            "question 'q1': option id 'a' is used",
        ),
        (HEAD + question('q1', options=option('a', correct=True)), "question 'q1': needs at least 2"),
        (HEAD + question('q1', options=option('a') + option('b')), "question 'q1': exactly one option"),
        (
            HEAD + question('q1', options=option('a', correct=True) + option('b', correct=True)),
            "question 'q1': exactly one option must have correct = true; 2 are (a, b)",
        ),
        (HEAD + question('q1', anchor='nowhere'), "question 'q1': lesson_anchor 'nowhere' is not a section"),
        (
            HEAD + question('q1').replace('prompt = "Prompt of q1?"', ''),
            "question 'q1': needs a non-empty text 'prompt'",
        ),
        (HEAD + question('q1').replace('explanation = "Because."', ''), "question 'q1': needs a non-empty text 'expl"),
        (HEAD + question('q1').replace('feedback = "Feedback b"', ''), "question 'q1', option 'b': needs a non-empty"),
        (HEAD + question('Q 1'), 'question 1 needs an id of lowercase letters'),
        (HEAD, 'the quiz has no [[questions]]'),
        (HEAD.replace('min_percent = 0', 'min_percent = 10') + question(), 'min_percent = 0'),
        (HEAD.replace('title = "Check"', '') + question(), "needs a non-empty text 'title'"),
    ],
)
def test_each_rule_names_the_file_the_question_and_the_reason(text: str, words: str) -> None:
    error = error_of(text)
    assert error.source == 'quiz.toml'
    assert words in error.message
    assert str(error).startswith('quiz.toml:')


def test_semantic_errors_point_at_the_questions_id_line() -> None:
    text = HEAD + question('q1') + question('q2', anchor='nowhere')
    error = error_of(text)
    assert text.splitlines()[error.line - 1] == 'id = "q2"'


def test_a_repeated_question_id_points_at_the_second_one() -> None:
    text = HEAD + question('q1') + question('q1')
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line == 'id = "q1"']
    assert error_of(text).line == lines[1]


def test_toml_syntax_errors_keep_tomllibs_line() -> None:
    text = HEAD + '\n[[questions]\n'
    error = error_of(text)
    assert 'not valid TOML' in error.message
    assert error.line == len(HEAD.splitlines()) + 2


def test_load_quiz_names_the_file_on_disk(tmp_path: Path) -> None:
    (tmp_path / 'quiz.toml').write_text(HEAD + question('q1', anchor='elsewhere'), encoding='utf-8')
    with pytest.raises(ContentError) as info:
        load_quiz(tmp_path, ANCHORS)
    assert info.value.source == str(tmp_path / 'quiz.toml')
    assert "question 'q1'" in str(info.value)


# -- grading -------------------------------------------------------------------------------------------------


def test_grading_all_right_all_wrong_and_mixed() -> None:
    right = grade(SMALL, {'q1': 'a', 'q2': 'y'})
    assert (right.score, right.total, right.percent, right.message) == (2, 2, 100, 'All right.')
    wrong = grade(SMALL, {'q1': 'b', 'q2': 'x'})
    assert (wrong.score, wrong.percent, wrong.message) == (0, 0, 'Read again.')
    mixed = grade(SMALL, {'q1': 'c', 'q2': 'y'})
    assert (mixed.score, mixed.percent, mixed.message) == (1, 50, 'Half way.')
    assert [r.is_correct for r in mixed.results] == [False, True]
    assert mixed.results[0].chosen is not None and mixed.results[0].chosen.id == 'c'


def test_a_blank_counts_as_wrong() -> None:
    result = grade(SMALL, {'q2': 'y'})
    assert result.score == 1 and result.results[0].chosen is None and not result.results[0].is_correct


@pytest.mark.parametrize('answers', [{'q1': 'zz'}, {'nope': 'a'}, {'q1': 'y'}])
def test_grading_refuses_ids_the_quiz_does_not_have(answers: dict[str, str]) -> None:
    with pytest.raises(InvalidAnswer):
        grade(SMALL, answers)


# -- shuffling -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize('seed', range(12))
def test_shuffling_keeps_the_same_options_and_one_correct(seed: int) -> None:
    for q in SMALL.questions:
        shuffled = shuffled_options(q, seed)
        assert sorted(shuffled, key=lambda o: o.id) == sorted(q.options, key=lambda o: o.id)
        assert sum(o.correct for o in shuffled) == 1


def test_shuffling_is_deterministic_per_seed_and_varies_across_seeds() -> None:
    q = SMALL.questions[0]
    assert option_order(q, 5) == option_order(q, 5)
    assert len({option_order(q, seed) for seed in range(30)}) > 1


def test_the_next_seed_moves_every_question() -> None:
    content = bundled_content_dir()
    quiz = load_quiz(content, load_lesson(content).anchors)
    seed = 0
    for _ in range(10):
        following = next_seed(quiz, seed)
        assert following > seed
        assert all(option_order(q, following) != option_order(q, seed) for q in quiz.questions)
        seed = following


def _two_option_quiz(count: int) -> Quiz:
    """``count`` questions of two options each: a retry moves all of them only one seed in 2**count."""
    options = (Option('a', 'A', 'Right.', correct=True), Option('b', 'B', 'Wrong.'))
    questions = tuple(Question(f'q{index}', f'Prompt {index}?', 'intro', 'Because.', options) for index in range(count))
    return Quiz('Check', 'Intro.', questions, (Band(0, 'Done.'),))


def _moves_every_question(quiz: Quiz, seed: int, candidate: int) -> bool:
    return all(option_order(q, candidate) != option_order(q, seed) for q in quiz.questions)


def test_the_next_seed_searches_exactly_1000_seeds_then_gives_up() -> None:
    # Ten two-option questions: the seeds below were found by searching; the asserts on _moves_every_question
    # check the premise without next_seed, so a change of the search bound (either way) fails this test.
    quiz = _two_option_quiz(10)
    last_in_bound = 1868  # the first seed that moves every question is the 1000th candidate: found
    assert _moves_every_question(quiz, last_in_bound, last_in_bound + 1000)
    earlier = range(last_in_bound + 1, last_in_bound + 1000)
    assert not any(_moves_every_question(quiz, last_in_bound, candidate) for candidate in earlier)
    assert next_seed(quiz, last_in_bound) == last_in_bound + 1000
    first_out_of_bound = 979  # the first one is the 1001st candidate: past the bound, so the next seed is taken
    assert _moves_every_question(quiz, first_out_of_bound, first_out_of_bound + 1001)
    assert next_seed(quiz, first_out_of_bound) == first_out_of_bound + 1


@pytest.mark.parametrize(
    ('score', 'total', 'percent'),
    [
        (2, 3, 66),
        (1, 3, 33),
        (199, 200, 99),
        (3, 4, 75),
        (4, 4, 100),
        (0, 4, 0),
        (0, 0, 0),
    ],
)
def test_percent_is_rounded_down_so_a_miss_never_shows_100(score: int, total: int, percent: int) -> None:
    assert percent_of(score, total) == percent


# -- crafted answers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize('raw', [-1, 4, 99, 'x', '0', None, 1.5, 0.0, {}, [], [0], True, False, 'x' * 10_000])
def test_only_a_whole_number_within_the_options_is_an_option_index(raw: object) -> None:
    with pytest.raises(InvalidAnswer) as info:
        checked_option_index(raw, 4)
    assert len(str(info.value)) < 100  # a huge crafted value is not copied into the log line


def test_every_real_option_index_is_accepted() -> None:
    assert [checked_option_index(index, 4) for index in range(4)] == [0, 1, 2, 3]


# -- quotes of the learner's demo run ------------------------------------------------------------------------

FIELDS = demo_run_placeholders()
RUN = DemoRun(
    poll_requests=48,
    poll_updates=12,
    poll_empty=36,
    poll_interval_ms=500,
    poll_delay_p50_ms=251.4,
    push_updates=12,
    push_delay_p50_ms=None,
)


def with_quotes(table: str) -> str:
    return HEAD + '\n[run_quotes]\n' + table + question('q1') + question('q2', 'details')


def parse_quotes(table: str) -> Quiz:
    return parse_quiz(with_quotes(table), ANCHORS, 'quiz.toml', FIELDS)


def test_the_placeholders_are_the_demo_runs_fields_and_the_links_name() -> None:
    assert set(FIELDS) == {*DemoRun.__dataclass_fields__, 'link_name'}
    assert FIELDS['poll_requests'] is int and FIELDS['push_delay_p50_ms'] is float and FIELDS['link_name'] is str


def test_a_run_quote_fills_in_the_learners_figures() -> None:
    quiz = parse_quotes(
        'q1 = "{poll_requests} asks, {poll_empty} empty, every {poll_interval_ms:,} ms, '
        '{poll_delay_p50_ms:.0f} ms late; {{braces}} stay."\n'
    )
    quote = quiz.run_quote('q1')
    assert quote is not None and quiz.run_quote('q2') is None
    assert quote.fill(demo_run_to_store(RUN)) == '48 asks, 36 empty, every 500 ms, 251 ms late; {braces} stay.'


def test_a_run_quote_needing_an_unmeasured_figure_is_not_shown() -> None:
    quote = parse_quotes('q2 = "median {push_delay_p50_ms:.1f} ms"\n').run_quote('q2')
    assert quote is not None and quote.fill(demo_run_to_store(RUN)) is None


@pytest.mark.parametrize(
    ('table', 'words'),
    [
        ('nope = "{poll_requests}"\n', "[run_quotes] 'nope': the quiz has no question with this id"),
        (
            'q1 = "{poll_requestz}"\n',
            "unknown placeholder '{poll_requestz}' (known: link_name, link_profile, poll_delay_p50_ms,",
        ),
        ('q1 = "{0}"\n', "unknown placeholder '{0}'"),
        ('q1 = "{}"\n', "unknown placeholder '{}'"),
        ('q1 = "{poll_requests.real}"\n', "unknown placeholder '{poll_requests.real}'"),
        ('q1 = "{poll_requests!r}"\n', "placeholder '{poll_requests}' takes a format"),
        ('q1 = "{poll_requests:.1q}"\n', "placeholder '{poll_requests:.1q}':"),
        ('q1 = "a { b"\n', 'write {{ or }} for a brace'),
        ('q1 = ""\n', 'needs a non-empty text'),
        ('q1 = 5\n', 'needs a non-empty text'),
    ],
)
def test_a_wrong_run_quote_stops_start_up_with_its_line(table: str, words: str) -> None:
    with pytest.raises(ContentError) as info:
        parse_quotes(table)
    assert words in str(info.value)
    key_line = with_quotes(table).splitlines().index(table.rstrip('\n')) + 1
    assert info.value.line == key_line and info.value.source == 'quiz.toml'


def test_a_quoted_key_and_a_later_table_still_point_at_the_right_line() -> None:
    text = (
        HEAD
        + '\n[run_quotes]\nq1 = "fine {poll_updates}"\n"q2" = """\nbad {nope}"""\n'
        + question('q1')
        + question('q2', 'details')
    )
    with pytest.raises(ContentError) as info:
        parse_quiz(text, ANCHORS, 'quiz.toml', FIELDS)
    assert text.splitlines()[info.value.line - 1].startswith('"q2" =')


def test_load_quiz_checks_run_quotes_against_the_demo_run(tmp_path: Path) -> None:
    (tmp_path / 'quiz.toml').write_text(with_quotes('q1 = "{poll_requests} and {bytes_sent}"\n'), encoding='utf-8')
    with pytest.raises(ContentError) as info:
        load_quiz(tmp_path, ANCHORS)
    assert str(info.value).startswith(f'{tmp_path / "quiz.toml"}:')
    assert "unknown placeholder '{bytes_sent}'" in info.value.message


def test_the_bundled_run_quotes_speak_to_existing_questions() -> None:
    content = bundled_content_dir()
    quiz = load_quiz(content, load_lesson(content).anchors)
    assert {quote.question_id for quote in quiz.run_quotes} <= {q.id for q in quiz.questions}
    assert len(quiz.run_quotes) >= 2
