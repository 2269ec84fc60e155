"""The test suite's QR reader: it reads what segno makes, at every level and size the join screen can need, and it
refuses a damaged code instead of reading something else."""

import random

import pytest
import segno

from tests.support.qr_decode import NotAQrCode, decode

RNG = random.Random(13)
ADDRESSES = [
    'http://127.0.0.1:8080/join',
    'https://[fe80::1]:9000/join',
    *(
        f'http://10.{RNG.randrange(256)}.{RNG.randrange(256)}.{RNG.randrange(256)}:{RNG.randrange(65536)}/join'
        + 'x' * RNG.randrange(50)
        for _ in range(12)
    ),
]


MAX_VERSION = 6  # the reader's reach: longer than any join address needs


def matrix(text: str, level: str) -> list[list[bool]]:
    return [[bool(module) for module in row] for row in segno.make_qr(text, error=level).matrix_iter(border=2)]


# Only the codes within the reader's reach: a case it cannot read is not a case at all.
CASES = [
    (text, level) for text in ADDRESSES for level in 'lmqh' if segno.make_qr(text, error=level).version <= MAX_VERSION
]


def test_the_cases_cover_every_level_and_the_longest_versions() -> None:
    assert {level for _, level in CASES} == set('lmqh')
    assert max(segno.make_qr(text, error=level).version for text, level in CASES) == MAX_VERSION


@pytest.mark.parametrize(('text', 'level'), CASES)
def test_reads_back_what_segno_made(text: str, level: str) -> None:
    assert decode(matrix(text, level), border=2) == text


def test_a_damaged_code_is_refused_not_misread() -> None:
    damaged = matrix('http://127.0.0.1:8080/join', 'm')
    damaged[12][14] = not damaged[12][14]  # a data module (row 10, column 12 inside the quiet zone)
    with pytest.raises(NotAQrCode):
        decode(damaged, border=2)
