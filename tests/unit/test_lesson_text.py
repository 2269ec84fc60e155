"""What a learner reads stays plain, correct and connected: readability, the corrected claims, the links between
the lesson, the demos and the "Going deeper" page, and the diagram's text alternative."""

import re

import pytest

from lesson.rules.content import Diagram, Lesson, Prose, parse_lesson
from lesson.storage.content_files import bundled_content_dir, load_lesson
from tests.support.readability import lesson_prose, measure, plain_text, syllables

CONTENT = bundled_content_dir()
LESSON = load_lesson(CONTENT)
DEEPER = parse_lesson((CONTENT / 'deeper.md').read_text(encoding='utf-8'), 'deeper.md')
DEMO = parse_lesson((CONTENT / 'demo.md').read_text(encoding='utf-8'), 'demo.md')
# whitespace folded, so a check does not depend on where a line wraps
TEXTS = {
    name: ' '.join((CONTENT / name).read_text(encoding='utf-8').split())
    for name in ('lesson.md', 'demo.md', 'demo_panels.toml')
}

# The issue's budget for the lesson: about grade 8 and about 1,300 words (prose and the diagram's caption).
MAX_GRADE = 8.0
MAX_WORDS = 1_350
LINK = re.compile(r'\]\((?P<page>/[a-z]*)#(?P<anchor>[a-z0-9-]+)\)')


def prose(page: Lesson) -> str:
    return '\n'.join(
        block.markdown for section in page.sections for block in section.blocks if isinstance(block, Prose)
    )


def links(page: Lesson, target: str) -> set[str]:
    return {match['anchor'] for match in LINK.finditer(prose(page)) if match['page'] == target}


# -- readability -------------------------------------------------------------------------------------------------


def test_the_lesson_reads_at_about_grade_8_in_about_1300_words() -> None:
    figures = measure(lesson_prose(LESSON))
    assert figures.grade <= MAX_GRADE, f'grade {figures.grade:.1f}: shorter sentences, shorter words'
    assert 900 <= figures.words <= MAX_WORDS, f'{figures.words} words'


def test_the_readability_measure_tells_plain_from_dense_text() -> None:
    plain = measure('The cat sat on the mat. It was warm. The sun was out.')
    dense = measure(
        'Bidirectional communication necessitates persistent, asynchronous connections, '
        'notwithstanding considerable infrastructural complexity.'
    )
    assert plain.grade < 2 < 14 < dense.grade
    assert (plain.words, plain.sentences) == (13, 3)
    assert [syllables(word) for word in ('the', 'server', 'connection', 'messages', 'immediately')] == [1, 2, 3, 3, 5]


def test_markdown_is_read_as_a_learner_hears_it() -> None:
    text = plain_text('A [link](/demo#x) and `code()`.\n\n- one item\n- two\n\n| a | b |\n| --- | --- |\n<!-- note -->')
    assert 'demo' not in text and 'code' not in text and 'note' not in text and '---' not in text
    assert measure(text).sentences == 5  # the sentence, each list item, each table cell


# -- the corrected claims (issue 22, items 1-10) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ('file', 'wrong'),
    [
        ('lesson.md', 'for as long as the page is open'),  # 1: connections drop
        ('lesson.md', 'never stops'),  # 1
        ('demo_panels.toml', 'reconnect on their own'),  # 2: the page's code reconnects them
        ('demo_panels.toml', 'the console reconnects after'),  # 2
        ('lesson.md', 'from now on browser and server'),  # 3: opening is asynchronous
        ('demo.md', 'cache replaying'),  # 4: not RFC 6455's reason
        ('lesson.md', 'opens a connection and closes it'),  # 6
        ('lesson.md', "built into the browser's JavaScript"),  # 7: a browser Web API
        ('lesson.md', 'as they are written'),  # 10
    ],
)
def test_a_corrected_claim_does_not_come_back(file: str, wrong: str) -> None:
    assert wrong not in TEXTS[file]


@pytest.mark.parametrize(
    ('file', 'right'),
    [
        ('lesson.md', 'the browser does not open it again by itself'),  # 1
        ('demo.md', 'EventSource` reconnects by itself'),  # 2: the contrast, now the right way round
        ('lesson.md', 'while the connection is still opening, `send()` throws an error'),  # 3
        ('demo.md', 'not authentication'),  # 4
        ('demo.md', 'Masking is not encryption'),  # 5
        ('lesson.md', 'the client must ask before the server may answer'),  # 6
        ('lesson.md', 'need software that speaks WebSocket'),  # 7
        ('lesson.md', 'over HTTP/2 and HTTP/3'),  # 8
        ('lesson.md', 'at most 6 such streams open to one site'),  # 9
        ('lesson.md', 'the moment it is sent'),  # 10
    ],
)
def test_the_corrected_wording_is_there(file: str, right: str) -> None:
    assert right in TEXTS[file]


@pytest.mark.parametrize(
    'source', ['RFC 6455', '§1.3', '§10.3', 'RFC 8441', 'RFC 9220', 'MDN', 'WHATWG', 'javascript.info']
)
def test_the_sources_are_named_where_the_claims_are_made(source: str) -> None:
    assert any(source in text for text in TEXTS.values())


IDIOMS = (
    'without asking twice',
    'take over the web',
    'reach for',
    'whether it stuck',
    'firmly in hand',
    'give it another go',
    'pile up',
    'end badly',
)


@pytest.mark.parametrize('idiom', IDIOMS)
def test_no_idiom_a_reader_of_english_as_a_second_language_trips_on(idiom: str) -> None:
    everything = [*TEXTS.values(), (CONTENT / 'quiz.toml').read_text(encoding='utf-8')]
    assert not any(idiom in text.lower() for text in everything)


# -- the lesson's gaps closed --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    'needle',
    ['send(', 'onerror', 'readyState', 'close(code, reason)', 'binary', 'JSON', 'Long polling', 'Server-Sent Events'],
)
def test_the_lesson_covers_what_a_first_lesson_needs(needle: str) -> None:
    assert needle in TEXTS['lesson.md']


def test_the_send_example_sends_only_once_the_connection_is_open() -> None:
    example = LESSON.code('send-and-close').source
    opened = example.index('socket.onopen')
    assert example.index('socket.send(') > opened  # inside onopen, never right after new WebSocket
    assert 'socket.onerror' in example and 'socket.close(1000' in example


# -- links: lesson → demos, lesson → going deeper ------------------------------------------------------------------


# The demo's sections when issue 22 linked them all from the lesson; a section added later gets its link when the
# lesson makes the claim it shows (and the check below still holds every link to a real section).
DEMO_SECTIONS = {
    'polling-vs-push',
    'echo-console',
    'frame-anatomy',
    'handshake-computed',
    'break-it',
    'run-the-lesson-code',
    'server-goes-away',
    'how-measured',
}


def test_every_demo_section_is_linked_from_the_lesson() -> None:
    assert DEMO_SECTIONS <= links(LESSON, '/demo') <= DEMO.anchors


def test_every_link_from_the_lesson_lands_on_a_section() -> None:
    assert links(LESSON, '/deeper') <= DEEPER.anchors
    assert links(LESSON, '/') <= LESSON.anchors
    assert links(DEEPER, '/demo') <= DEMO.anchors
    assert links(DEMO, '/deeper') <= DEEPER.anchors and links(DEMO, '/deeper')
    assert {match[1] for match in re.finditer(r'\]\(#([a-z0-9-]+)\)', prose(DEMO))} <= DEMO.anchors
    assert {match[1] for match in re.finditer(r'\]\(#([a-z0-9-]+)\)', prose(DEEPER))} <= DEEPER.anchors


def test_the_lesson_ends_by_pointing_to_going_deeper() -> None:
    last = LESSON.sections[-1]
    assert any('](/deeper)' in block.markdown for block in last.blocks if isinstance(block, Prose))


@pytest.mark.parametrize(
    'anchor', ['glossary', 'security', 'heartbeats', 'reconnecting', 'back-pressure', 'scaling', 'http2-http3']
)
def test_going_deeper_has_each_note_with_its_sources(anchor: str) -> None:
    text = (CONTENT / 'deeper.md').read_text(encoding='utf-8')
    start = text.index(f'{{#{anchor}}}')
    section = text[start : text.find('\n## ', start) if '\n## ' in text[start:] else len(text)]
    assert 'Sources:' in section


GLOSSARY_TERMS = (
    'protocol',
    'TLS',
    'TCP',
    'FIN, RSV1-3, opcode',
    'GUID',
    'SHA-1',
    'base64',
    'kernel',
    'median and p95',
    'NTP-style',
    'permessage-deflate',
    'masking',
    'handshake',
    'frame',
    'JSON',
    'long polling',
    'Server-Sent Events',
    'origin',
)


def glossary_text() -> str:
    (glossary,) = [section for section in DEEPER.sections if section.anchor == 'glossary']
    return '\n'.join(block.markdown for block in glossary.blocks if isinstance(block, Prose))


@pytest.mark.parametrize('term', GLOSSARY_TERMS)
def test_the_glossary_defines_each_term_the_issue_lists(term: str) -> None:
    glossary = glossary_text()
    assert re.search(rf'^- \*\*`?{re.escape(term)}', glossary, re.MULTILINE | re.IGNORECASE), term


# -- the diagram's text alternative ----------------------------------------------------------------------------------


def test_the_diagram_has_a_title_and_a_description_of_every_step() -> None:
    (diagram,) = [block for section in LESSON.sections for block in section.blocks if isinstance(block, Diagram)]
    assert diagram.title and 'accTitle:' in diagram.source and 'accDescr' in diagram.source
    steps = ('handshake', 'accepts and confirms', 'loop repeats', 'sends a message', 'answers', 'on its own',
             'closes the connection', 'confirms the close')  # fmt: skip
    missing = [step for step in steps if step not in diagram.description.replace('of its own', 'on its own')]
    assert not missing, missing


def test_the_glossary_is_in_alphabetical_order() -> None:
    glossary = glossary_text()
    terms = [term.strip('`').lower() for term in re.findall(r'^- \*\*(.+?)\*\*', glossary, re.MULTILINE)]
    assert len(terms) >= len(GLOSSARY_TERMS) and terms == sorted(terms)
