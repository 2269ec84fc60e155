"""A small QR code reader for the join screen's test: a clean module matrix (no camera noise) back to its text.

Independent of the generator (segno): it reads the modules in the standard's zigzag order, removes the mask, puts the
interleaved blocks back together, checks every block's Reed-Solomon codewords (so a wrong reading cannot pass) and
reads byte-mode data. Versions 1 to 6 (up to 106 bytes at level M): enough for any address a class types. The mask
and error-correction level are found by trying the 32 combinations, strongest level first; only the right one passes
the Reed-Solomon check.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Per version and level: EC codewords per block, and the blocks as (count, data codewords) groups (ISO 18004 t. 9).
BLOCKS: dict[int, dict[str, tuple[int, tuple[tuple[int, int], ...]]]] = {
    1: {'L': (7, ((1, 19),)), 'M': (10, ((1, 16),)), 'Q': (13, ((1, 13),)), 'H': (17, ((1, 9),))},
    2: {'L': (10, ((1, 34),)), 'M': (16, ((1, 28),)), 'Q': (22, ((1, 22),)), 'H': (28, ((1, 16),))},
    3: {'L': (15, ((1, 55),)), 'M': (26, ((1, 44),)), 'Q': (18, ((2, 17),)), 'H': (22, ((2, 13),))},
    4: {'L': (20, ((1, 80),)), 'M': (18, ((2, 32),)), 'Q': (26, ((2, 24),)), 'H': (16, ((4, 9),))},
    5: {'L': (26, ((1, 108),)), 'M': (24, ((2, 43),)), 'Q': (18, ((2, 15), (2, 16))), 'H': (22, ((2, 11), (2, 12)))},
    6: {'L': (18, ((2, 68),)), 'M': (16, ((4, 27),)), 'Q': (24, ((4, 19),)), 'H': (28, ((4, 15),))},
}
MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)

# GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1
EXP = [0] * 512
LOG = [0] * 256
_value = 1
for _power in range(255):
    EXP[_power] = _value
    LOG[_value] = _power
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _power in range(255, 512):
    EXP[_power] = EXP[_power - 255]


class NotAQrCode(ValueError):
    pass


def _multiply(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else EXP[LOG[a] + LOG[b]]


def reed_solomon(data: Sequence[int], ec_count: int) -> list[int]:
    """The error-correction codewords of ``data``: the remainder of data(x) * x^n divided by the generator."""
    generator = [1]
    for power in range(ec_count):
        generator = [
            (generator[k] if k < len(generator) else 0) ^ (_multiply(generator[k - 1], EXP[power]) if k else 0)
            for k in range(len(generator) + 1)
        ]
    remainder = [*data, *([0] * ec_count)]
    for index in range(len(data)):
        factor = remainder[index]
        if factor:
            for k, coefficient in enumerate(generator):
                remainder[index + k] ^= _multiply(coefficient, factor)
    return remainder[len(data) :]


def _function_modules(version: int) -> list[list[bool]]:
    size = 17 + 4 * version
    taken = [[False] * size for _ in range(size)]

    def block(top: int, left: int, height: int, width: int) -> None:
        for row in range(max(top, 0), min(top + height, size)):
            for column in range(max(left, 0), min(left + width, size)):
                taken[row][column] = True

    block(0, 0, 9, 9)  # finder, separator, format information (and the dark module, below)
    block(0, size - 8, 9, 8)
    block(size - 8, 0, 8, 9)
    block(6, 0, 1, size)  # timing patterns
    block(0, 6, size, 1)
    if version >= 2:  # one alignment pattern up to version 6, near the bottom-right corner
        centre = size - 7
        block(centre - 2, centre - 2, 5, 5)
    return taken


def _codewords(matrix: Sequence[Sequence[bool]], version: int, mask: int) -> list[int]:
    size = len(matrix)
    taken = _function_modules(version)
    bits: list[int] = []
    upward = True
    right = size - 1
    while right > 0:
        if right == 6:  # the vertical timing pattern is skipped whole
            right -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for row in rows:
            for column in (right, right - 1):
                if not taken[row][column]:
                    bits.append(int(matrix[row][column]) ^ int(MASKS[mask](row, column)))
        upward = not upward
        right -= 2
    return [int(''.join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits) - 7, 8)]


def _deinterleave(codewords: list[int], ec_count: int, groups: tuple[tuple[int, int], ...]) -> list[list[int]] | None:
    lengths = [length for count, length in groups for _ in range(count)]
    data: list[list[int]] = [[] for _ in lengths]
    position = 0
    for index in range(max(lengths)):
        for block, length in enumerate(lengths):
            if index < length:
                data[block].append(codewords[position])
                position += 1
    ec: list[list[int]] = [[] for _ in lengths]
    for _ in range(ec_count):
        for block in range(len(lengths)):
            ec[block].append(codewords[position])
            position += 1
    if any(reed_solomon(d, ec_count) != e for d, e in zip(data, ec, strict=True)):
        return None
    return data


def _byte_mode_text(data: list[int]) -> str:
    bits = ''.join(f'{byte:08b}' for byte in data)
    if bits[:4] != '0100':
        raise NotAQrCode(f'not byte mode (mode bits {bits[:4]})')
    length = int(bits[4:12], 2)
    payload = bytes(int(bits[12 + 8 * i : 20 + 8 * i], 2) for i in range(length))
    return payload.decode('utf-8')


def decode(matrix: Sequence[Sequence[bool]], border: int = 0) -> str:
    """The text of a QR code given as rows of dark (True) and light modules, ``border`` quiet modules around it."""
    core = [list(row[border : len(row) - border]) for row in matrix[border : len(matrix) - border]]
    size = len(core)
    version = (size - 17) // 4
    if size != 17 + 4 * version or version not in BLOCKS or any(len(row) != size for row in core):
        raise NotAQrCode(f'a {size} x {size} matrix is not a version 1 to 6 QR code')
    # Strongest level first: with the same blocks, a codeword of a stronger Reed-Solomon code is also one of every
    # weaker code (its generator divides the stronger one's), so a weaker level would pass on the wrong split.
    for level in ('H', 'Q', 'M', 'L'):
        ec_count, groups = BLOCKS[version][level]
        for mask in range(8):
            blocks = _deinterleave(_codewords(core, version, mask), ec_count, groups)
            if blocks is not None:
                return _byte_mode_text([byte for block in blocks for byte in block])
    raise NotAQrCode('no mask and level give valid Reed-Solomon codewords')
