from pathlib import Path

import pytest

from lesson.rules.content import Code, ContentError, Diagram, Prose, parse_lesson
from lesson.storage.content_files import bundled_content_dir, load_lesson

FRONT = '+++\ntitle = "T"\ntags = ["a", "b"]\n+++\n'


def error_of(text: str) -> ContentError:
    with pytest.raises(ContentError) as info:
        parse_lesson(text, 'lesson.md')
    return info.value


def test_bundled_lesson_covers_the_seed_in_order() -> None:
    lesson = load_lesson(bundled_content_dir())
    assert lesson.tags == ('server', 'dynamic updates', 'modern web', 'WebSocket', 'real-time communication', 'client')
    assert [s.anchor for s in lesson.sections] == [
        'why-not-polling',
        'websocket-explained',
        'handshake-diagram',
        'use-cases',
        'http-vs-websocket',
        'opening-a-connection',
        'send-and-close',  # not in the seed: send(), onerror, readyState, close(), text/binary/JSON
        'ws-vs-wss',
        'complements-http',
        'which-tool',  # not in the seed: fetch, long polling, Server-Sent Events and WebSocket compared
        'check-yourself',
    ]
    diagrams = [b for s in lesson.sections for b in s.blocks if isinstance(b, Diagram)]
    assert len(diagrams) == 1 and diagrams[0].source.startswith('sequenceDiagram')
    snippet = lesson.code('first-socket')
    assert snippet.language == 'javascript'
    for needle in ('new WebSocket(', 'onopen', 'onmessage', 'onclose'):
        assert needle in snippet.source


def test_sections_split_prose_diagram_and_code() -> None:
    lesson = parse_lesson(
        FRONT + '## One {#one}\ntext\n```mermaid\nsequenceDiagram\n  A->>B: hi\n```\n'
        '## Two {#two}\n```js id=snippet\nlet a = 1;\n```\nafter\n'
    )
    one, two = lesson.sections
    assert one.title == 'One' and [type(b).__name__ for b in one.blocks] == ['Prose', 'Diagram']
    assert two.blocks[0] == Code('js', 'let a = 1;', 'snippet')
    assert lesson.code('snippet') is two.blocks[0]
    assert lesson.anchors == {'one', 'two'}


def test_writers_comments_never_reach_the_page() -> None:
    lesson = parse_lesson(FRONT + '## One {#one}\n<!-- Source: RFC 6455 §1.3,\nover two lines -->\nSeen.\n')
    assert lesson.sections[0].blocks == (Prose('Seen.'),)


def test_a_diagrams_text_alternative_is_lifted_out_for_its_caption() -> None:
    source = (
        'sequenceDiagram\n    accTitle: Two steps\n    accDescr {\n        First A greets B.\n'
        '        Then B answers (politely).\n    }\n    A->>B: hi\n'
    )
    (diagram,) = parse_lesson(FRONT + f'## One {{#one}}\n```mermaid\n{source}```\n').sections[0].blocks
    assert diagram == Diagram(source.rstrip('\n'), 'Two steps', 'First A greets B. Then B answers (politely).')
    one_line = parse_lesson(
        FRONT + '## A {#a}\n```mermaid\nsequenceDiagram\n  accDescr: Just one line.\n  A->>B: hi\n```\n'
    )
    assert one_line.sections[0].blocks[0] == Diagram(
        'sequenceDiagram\n  accDescr: Just one line.\n  A->>B: hi', '', 'Just one line.'
    )
    plain = parse_lesson(FRONT + '## A {#a}\n```mermaid\nsequenceDiagram\n  A->>B: hi\n```\n')
    assert plain.sections[0].blocks[0] == Diagram('sequenceDiagram\n  A->>B: hi')


@pytest.mark.parametrize(
    ('text', 'line', 'words'),
    [
        ('title = "x"\n', 1, "must start with a '+++'"),
        ('+++\ntitle = "T"\n', 1, 'never closed'),
        ('+++\ntitle = \n+++\n## A {#a}\nx\n', 2, 'not valid TOML'),
        ('+++\ntags = []\n+++\n## A {#a}\nx\n', 1, "non-empty 'title'"),
        (FRONT + 'stray\n## A {#a}\nx\n', 5, 'before the first'),
        (FRONT + '## A\nx\n', 5, '"## Title {#anchor}"'),
        (FRONT + '## A {#Bad_Anchor}\nx\n', 5, 'lowercase letters'),
        (FRONT + '## A {#a}\nx\n## B {#a}\ny\n', 7, 'already used on line 5'),
        (FRONT + '## A {#a}\n```plantuml\n@startuml\n```\n', 6, "unknown block type 'plantuml'"),
        (FRONT + '## A {#a}\n```mermaid\npiechart\n```\n', 6, "unknown diagram type 'piechart'"),
        (FRONT + '## A {#a}\n```js\nlet a;\n', 6, 'never closed'),
        (FRONT + '## A {#a}\n```js colour=red\nlet a;\n```\n', 6, "unknown code block option 'colour=red'"),
        (FRONT + '## A {#a}\n## B {#b}\nx\n', 5, "section 'A' is empty"),
        (FRONT + '# Title\n', 5, "use '##'"),
        (FRONT, 4, 'no "## Section'),
    ],
)
def test_errors_name_the_line_and_the_problem(text: str, line: int, words: str) -> None:
    error = error_of(text)
    assert error.line == line
    assert words in error.message
    assert str(error).startswith(f'lesson.md:{line}: ')


def test_missing_file_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match=r'lesson\.md:0: file not found'):
        load_lesson(tmp_path)
