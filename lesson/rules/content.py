"""Parse the lesson's Markdown into sections and blocks, and say exactly where it is wrong.

Pure: text in, :class:`Lesson` out. Reading files is :mod:`lesson.storage.content_files`' job.

The format is ordinary Markdown with three house rules, so writers can edit it in any editor:

* a TOML front matter between ``+++`` lines gives ``title``, ``subtitle`` and ``tags``;
* every section starts with ``## Heading {#anchor}`` (the anchor is what links and the quiz point at);
* fenced blocks are either diagrams (```` ```mermaid ````) or code (```` ```javascript id=some-name ````);
  any other fence language is an error rather than something silently shown as text;
* ``<!-- ... -->`` comments are notes for writers (e.g. the source of a claim) and never reach the page.

A diagram carries its own text alternative in Mermaid's ``accTitle:`` and ``accDescr``; the parser lifts both
out so the page can show the description as a visible caption, the same words a screen reader hears.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

KNOWN_CODE_LANGUAGES = frozenset({'javascript', 'js', 'html', 'http', 'python', 'text', 'json', 'bash'})
# Mermaid diagram types we have checked render with NiceGUI's bundled Mermaid.
KNOWN_DIAGRAM_TYPES = frozenset({'sequenceDiagram', 'flowchart', 'graph', 'stateDiagram-v2', 'classDiagram'})

_HEADING = re.compile(r'^## (?P<title>.+?)\s*\{#(?P<anchor>[^}]*)\}\s*$')
_ANCHOR = re.compile(r'^[a-z0-9]+(?:-[a-z0-9]+)*$')
_FENCE = re.compile(r'^```(?P<info>.*)$')
_FENCE_ID = re.compile(r'^id=(?P<id>[a-z0-9]+(?:-[a-z0-9]+)*)$')
_COMMENT = re.compile(r'<!--.*?-->', re.DOTALL)
_ACC_TITLE = re.compile(r'^\s*accTitle\s*:\s*(?P<text>.+?)\s*$', re.MULTILINE)
_ACC_DESCR = re.compile(r'^\s*accDescr\s*(?::\s*(?P<line>.+?)\s*$|\{(?P<block>[^}]*)\})', re.MULTILINE | re.DOTALL)


class ContentError(ValueError):
    """A content file is wrong; carries the file and line so the writer can go straight there."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f'{source}:{line}: {message}')
        self.source = source
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Prose:
    markdown: str


@dataclass(frozen=True)
class Diagram:
    source: str
    #: Mermaid's ``accTitle`` and ``accDescr`` (whitespace folded), empty when the diagram has none.
    title: str = ''
    description: str = ''


@dataclass(frozen=True)
class Code:
    language: str
    source: str
    id: str | None = None


Block = Prose | Diagram | Code


@dataclass(frozen=True)
class Section:
    title: str
    anchor: str
    blocks: tuple[Block, ...]
    line: int


@dataclass(frozen=True)
class Lesson:
    title: str
    subtitle: str
    tags: tuple[str, ...]
    sections: tuple[Section, ...]
    code_by_id: dict[str, Code] = field(default_factory=dict, compare=False)

    @property
    def anchors(self) -> frozenset[str]:
        return frozenset(section.anchor for section in self.sections)

    def code(self, code_id: str) -> Code:
        return self.code_by_id[code_id]


def _parse_front_matter(lines: list[str], source: str) -> tuple[dict[str, object], int]:
    """Return the front matter table and the index of the first line after it."""
    if not lines or lines[0].strip() != '+++':
        raise ContentError(source, 1, "the file must start with a '+++' front matter block (title, tags)")
    for index in range(1, len(lines)):
        if lines[index].strip() == '+++':
            try:
                table = tomllib.loads('\n'.join(lines[1:index]))
            except tomllib.TOMLDecodeError as error:
                raise ContentError(source, 2, f'front matter is not valid TOML: {error}') from error
            return table, index + 1
    raise ContentError(source, 1, "front matter opened with '+++' is never closed")


def front_matter(text: str, source: str) -> dict[str, object]:
    """The front matter table of a file in the lesson's format (the demo page's keeps more than the lesson's)."""
    return _parse_front_matter(text.splitlines(), source)[0]


def _front_matter_fields(table: dict[str, object], source: str) -> tuple[str, str, tuple[str, ...]]:
    title = table.get('title')
    if not isinstance(title, str) or not title.strip():
        raise ContentError(source, 1, "front matter needs a non-empty 'title'")
    subtitle = table.get('subtitle', '')
    if not isinstance(subtitle, str):
        raise ContentError(source, 1, "front matter 'subtitle' must be text")
    tags = table.get('tags', [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) and tag.strip() for tag in tags):
        raise ContentError(source, 1, "front matter 'tags' must be a list of non-empty strings")
    return title.strip(), subtitle.strip(), tuple(tags)


class _SectionBuilder:
    def __init__(self, title: str, anchor: str, line: int) -> None:
        self.title = title
        self.anchor = anchor
        self.line = line
        self.blocks: list[Block] = []
        self.prose: list[str] = []

    def flush_prose(self) -> None:
        text = _COMMENT.sub('', '\n'.join(self.prose)).strip()
        if text:
            self.blocks.append(Prose(text))
        self.prose = []

    def build(self, source: str) -> Section:
        self.flush_prose()
        if not self.blocks:
            raise ContentError(source, self.line, f"section '{self.title}' is empty")
        return Section(self.title, self.anchor, tuple(self.blocks), self.line)


def _diagram(source: str) -> Diagram:
    title = _ACC_TITLE.search(source)
    description = _ACC_DESCR.search(source)
    words = (description['line'] or description['block']) if description else ''
    return Diagram(source, title['text'] if title else '', ' '.join(words.split()))


def _fenced_block(info: str, body: list[str], source: str, line: int) -> Block:
    words = info.split()
    if not words:
        raise ContentError(source, line, 'a fenced block needs a language (mermaid, javascript, ...)')
    language, options = words[0], words[1:]
    text = '\n'.join(body).strip('\n')
    if not text.strip():
        raise ContentError(source, line, f"the '{language}' block is empty")
    if language == 'mermaid':
        if options:
            raise ContentError(source, line, 'a mermaid block takes no options')
        diagram_type = text.split()[0]
        if diagram_type not in KNOWN_DIAGRAM_TYPES:
            raise ContentError(
                source, line, f"unknown diagram type '{diagram_type}' (known: {', '.join(sorted(KNOWN_DIAGRAM_TYPES))})"
            )
        return _diagram(text)
    if language not in KNOWN_CODE_LANGUAGES:
        raise ContentError(
            source,
            line,
            f"unknown block type '{language}' (use mermaid for a diagram, or one of "
            f'{", ".join(sorted(KNOWN_CODE_LANGUAGES))} for code)',
        )
    code_id = None
    for option in options:
        match = _FENCE_ID.match(option)
        if not match:
            raise ContentError(source, line, f"unknown code block option '{option}' (expected id=some-name)")
        code_id = match['id']
    return Code(language, text, code_id)


def parse_lesson(text: str, source: str = 'lesson.md') -> Lesson:
    """Parse the lesson file; raise :class:`ContentError` naming the first problem's line."""
    lines = text.splitlines()
    table, start = _parse_front_matter(lines, source)
    title, subtitle, tags = _front_matter_fields(table, source)

    sections: list[Section] = []
    current: _SectionBuilder | None = None
    seen_anchors: dict[str, int] = {}
    code_by_id: dict[str, Code] = {}
    index = start
    while index < len(lines):
        line_number = index + 1
        line = lines[index]
        if line.startswith('## '):
            match = _HEADING.match(line)
            if not match:
                raise ContentError(source, line_number, 'a section heading must look like "## Title {#anchor}"')
            anchor = match['anchor']
            if not _ANCHOR.match(anchor):
                raise ContentError(
                    source, line_number, f"anchor '{anchor}' must be lowercase letters, digits and single dashes"
                )
            if anchor in seen_anchors:
                raise ContentError(
                    source, line_number, f"anchor '{anchor}' is already used on line {seen_anchors[anchor]}"
                )
            seen_anchors[anchor] = line_number
            if current is not None:
                sections.append(current.build(source))
            current = _SectionBuilder(match['title'], anchor, line_number)
        elif line.startswith('# '):
            raise ContentError(source, line_number, "use '##' for sections; the page title comes from the front matter")
        elif fence := _FENCE.match(line):
            if current is None:
                raise ContentError(source, line_number, 'a block before the first "## Section {#anchor}" heading')
            closing = next((i for i in range(index + 1, len(lines)) if lines[i].strip() == '```'), None)
            if closing is None:
                raise ContentError(source, line_number, 'this fenced block is never closed with ```')
            block = _fenced_block(fence['info'].strip(), lines[index + 1 : closing], source, line_number)
            if isinstance(block, Code) and block.id is not None:
                if block.id in code_by_id:
                    raise ContentError(source, line_number, f"code id '{block.id}' is used twice")
                code_by_id[block.id] = block
            current.flush_prose()
            current.blocks.append(block)
            index = closing
        elif current is None:
            if line.strip():
                raise ContentError(source, line_number, 'text before the first "## Section {#anchor}" heading')
        else:
            current.prose.append(line)
        index += 1

    if current is not None:
        sections.append(current.build(source))
    if not sections:
        raise ContentError(source, len(lines) or 1, 'the lesson has no "## Section {#anchor}" headings')
    return Lesson(title, subtitle, tags, tuple(sections), code_by_id)
