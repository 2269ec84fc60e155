"""What a nickname may be: shown on the projector to the whole class, so it must be readable, one person's, and
not pass for someone else's. Pure: no I/O.

A nickname is kept NFKC-normalised (full-width and mathematical bold letters become plain ``Alice``) and
compared case-folded, so ``Alice``, ``ALICE`` and a full-width ``Alice`` are one name in a class. It needs a
visible glyph (Hangul fillers and the blank Braille pattern look like nothing), may stack only a few combining
marks on one character (23 stacked accents paint over the names around it), and may not take the anonymous
``Learner N`` form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Longest nickname, in characters after NFKC: fits a bar label on the projector.
NICKNAME_MAX_CHARS = 24
#: Combining marks one character may carry: Vietnamese stacks two on a vowel, Indic scripts a few more; beyond
#: that the marks are there to paint over the neighbouring names ("Zalgo" text).
MAX_MARKS_PER_CHARACTER = 3
#: Characters drawn as blank though Unicode calls them letters or symbols (so ``str.isspace`` misses them), and
#: U+FDFD, one code point drawn as wide as a dozen letters.
BLANK_OR_HUGE = frozenset('\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\ufdfd')
#: The anonymous names (``Learner 7``): a nickname of this form would pass for another learner.
ANONYMOUS = re.compile(r'learner[\W_]*\d+', re.IGNORECASE)
#: Categories refused outright: control, format (bidi overrides, zero-width joiners), surrogates, private use and
#: unassigned. They could make one name look like another, or break a CSV cell in a spreadsheet.
INVISIBLE_CATEGORIES = frozenset({'Cc', 'Cf', 'Cs', 'Co', 'Cn'})


class NicknameProblem(ValueError):
    """Why a nickname is refused; the message is fit to show the learner."""


def normalized(raw: str) -> str:
    """The nickname as kept and shown: NFKC, trimmed."""
    return unicodedata.normalize('NFKC', raw).strip()


def key(nickname: str) -> str:
    """What two nicknames are compared by: NFKC and case-folded (``ß`` and ``SS`` are one name)."""
    return unicodedata.normalize('NFKC', unicodedata.normalize('NFKC', nickname).casefold())


def _marks_capped(nickname: str) -> bool:
    run = 0
    for char in nickname:
        run = run + 1 if unicodedata.category(char) in {'Mn', 'Me'} else 0
        if run > MAX_MARKS_PER_CHARACTER:
            return False
    return True


def _visible(char: str) -> bool:
    return not char.isspace() and char not in BLANK_OR_HUGE and unicodedata.category(char)[0] != 'M'


def checked(raw: str | None, taken: Iterable[str] = ()) -> str | None:
    """The nickname as it will be shown, ``None`` for anonymous; raises :class:`NicknameProblem` otherwise.

    ``taken``: the nicknames other learners of the class go by.
    """
    if raw is None:
        return None
    nickname = normalized(raw)
    if not nickname:
        return None
    if any(unicodedata.category(char) in INVISIBLE_CATEGORIES for char in nickname):
        raise NicknameProblem('A nickname cannot contain control or invisible characters.')
    if len(nickname) > NICKNAME_MAX_CHARS:
        raise NicknameProblem(f'A nickname has at most {NICKNAME_MAX_CHARS} characters ({len(nickname)} given).')
    if any(char in BLANK_OR_HUGE for char in nickname) or not any(_visible(char) for char in nickname):
        raise NicknameProblem('A nickname needs letters, digits or signs the class can see.')
    if not _marks_capped(nickname):
        raise NicknameProblem(f'At most {MAX_MARKS_PER_CHARACTER} accents or marks on one character.')
    if ANONYMOUS.fullmatch(key(nickname)):
        raise NicknameProblem('"Learner" and a number is how the class shows learners without a nickname.')
    if key(nickname) in {key(other) for other in taken}:
        raise NicknameProblem('Someone in this class already goes by that name; choose another.')
    return nickname
