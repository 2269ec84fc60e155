"""How plain the lesson's prose is: words, sentences, syllables, the Flesch-Kincaid grade and minutes to read.

Pure and dependency-free so the readability test runs in milliseconds and anyone can reproduce the figures:

    .venv/bin/python -m tests.support.readability content/lesson.md

The syllable count is the usual vowel-group heuristic (what most readability tools do without a dictionary); it
is within a syllable or so per sentence of a dictionary count, which moves the grade by a few tenths at most.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from lesson.rules.content import Diagram, Lesson, Prose, parse_lesson

# Silent reading of instructional text by adults, a common planning figure (Brysbaert 2019: ~238 wpm for
# non-fiction); 200 leaves room for a reader whose first language is not English.
WORDS_PER_MINUTE = 200

_CODE_SPAN = re.compile(r'`[^`]*`')
_LINK = re.compile(r'\[([^\]]*)\]\([^)]*\)')
_MARKUP = re.compile(r'[*_#>|]+')
_TABLE_RULE = re.compile(r'^\s*\|?\s*:?-{3,}.*$', re.MULTILINE)
_COMMENT = re.compile(r'<!--.*?-->', re.DOTALL)
_SENTENCE_END = re.compile(r'[.!?]+(?=\s|$)')
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")
_VOWEL_GROUPS = re.compile(r'[aeiouy]+')


@dataclass(frozen=True)
class Readability:
    words: int
    sentences: int
    syllables: int

    @property
    def grade(self) -> float:
        """Flesch-Kincaid grade level: 0.39 words/sentence + 11.8 syllables/word - 15.59."""
        return 0.39 * self.words / self.sentences + 11.8 * self.syllables / self.words - 15.59

    @property
    def minutes(self) -> float:
        return self.words / WORDS_PER_MINUTE


def syllables(word: str) -> int:
    word = word.lower().strip("'\u2019-")
    if len(word) <= 3:
        return 1
    # a silent final e, -es or -ed (but "mess-es", "chang-es", "wait-ed" keep theirs)
    word = re.sub(r'(?:(?<![sxzgcdt])(?<!ch)(?<!sh)es|(?<![td])ed|(?<![l])e)$', '', word)
    word = re.sub(r'^y', '', word)
    return max(1, len(_VOWEL_GROUPS.findall(word)))


def plain_text(markdown: str) -> str:
    """Markdown prose as a reader hears it: code spans and link targets out, each list item or table cell a
    sentence of its own (a reader pauses there even without a full stop)."""
    text = _COMMENT.sub(' ', markdown)
    text = _TABLE_RULE.sub('', text)
    text = _LINK.sub(r'\1', text)
    text = _CODE_SPAN.sub(' ', text)
    text = re.sub(r'\s*\|\s*', '. ', text)  # table cells
    text = re.sub(r'^\s*(?:[-*]|\d+\.)\s+', '. ', text, flags=re.MULTILINE)  # list items
    text = re.sub(r':\s*\n', '.\n', text)  # a line ending in a colon introduces a list
    return _MARKUP.sub(' ', text)


def measure(text: str) -> Readability:
    words = _WORD.findall(text)
    pieces = [piece for piece in _SENTENCE_END.split(text) if _WORD.search(piece)]
    return Readability(len(words), max(1, len(pieces)), sum(syllables(word) for word in words))


def lesson_prose(lesson: Lesson) -> str:
    """What a learner reads as text: every prose block and every diagram's caption; not headings or code."""
    texts = []
    for section in lesson.sections:
        for block in section.blocks:
            if isinstance(block, Prose):
                texts.append(plain_text(block.markdown))
            elif isinstance(block, Diagram) and block.description:
                texts.append(block.description)
    return '\n\n'.join(texts)


def main(path: str) -> None:
    lesson = parse_lesson(Path(path).read_text(encoding='utf-8'), path)
    figures = measure(lesson_prose(lesson))
    print(
        f'{path}: {figures.words} words, {figures.sentences} sentences, grade {figures.grade:.1f}, '
        f'{figures.minutes:.1f} min at {WORDS_PER_MINUTE} wpm'
    )


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'content/lesson.md')
