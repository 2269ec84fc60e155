"""Find and read the content files (the I/O half of content loading; parsing is pure and lives elsewhere)."""

from __future__ import annotations

import types
import typing
from pathlib import Path

from lesson.rules.content import ContentError, Lesson, parse_lesson
from lesson.rules.progress import DemoRun
from lesson.rules.quiz import Quiz, parse_quiz
from lesson.rules.quiz_result import DERIVED_FIGURES

LESSON_FILE = 'lesson.md'
QUIZ_FILE = 'quiz.toml'

# pyproject.toml ships content/ inside the package as lesson/_content; a checkout has it at the top level.
_PACKAGE = Path(__file__).resolve().parents[1]
_INSTALLED_CONTENT = _PACKAGE / '_content'
_CHECKOUT_CONTENT = _PACKAGE.parent / 'content'


def bundled_content_dir() -> Path:
    """The content shipped with the app: ``lesson/_content`` once installed, ``content/`` in a checkout."""
    return _INSTALLED_CONTENT if _INSTALLED_CONTENT.is_dir() else _CHECKOUT_CONTENT


def read_content_file(content_dir: Path, name: str) -> tuple[str, str]:
    """Return the file's text and the path to show in error messages."""
    path = content_dir / name
    try:
        return path.read_text(encoding='utf-8'), str(path)
    except FileNotFoundError as error:
        raise ContentError(str(path), 0, 'file not found') from error
    except UnicodeDecodeError as error:
        raise ContentError(str(path), 0, f'not valid UTF-8 ({error.reason} at byte {error.start})') from error


def load_lesson(content_dir: Path) -> Lesson:
    text, shown_path = read_content_file(content_dir, LESSON_FILE)
    return parse_lesson(text, shown_path)


def demo_run_placeholders() -> dict[str, type]:
    """What a run quote in quiz.toml may name: each :class:`DemoRun` field, with the type of its measured value, and
    the figures the quote derives from them."""
    placeholders = dict(DERIVED_FIGURES)
    for name, hint in typing.get_type_hints(DemoRun).items():
        # `float | None`: None means "not measured", and such a quote is not shown; its format is a float's
        measured = [kind for kind in typing.get_args(hint) if kind is not types.NoneType] or [hint]
        placeholders[name] = measured[0]
    return placeholders


def load_quiz(content_dir: Path, lesson_anchors: frozenset[str]) -> Quiz:
    """Read and check the quiz; its questions may only point at sections the lesson really has, and its run
    quotes may only name figures the demo page keeps."""
    text, shown_path = read_content_file(content_dir, QUIZ_FILE)
    return parse_quiz(text, lesson_anchors, shown_path, demo_run_placeholders())
