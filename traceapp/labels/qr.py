"""QR symbols built once: the same matrix as ``qrcode``, without its eight trial builds.

``qrcode`` chooses the mask by building the whole symbol eight times (each module placed in
Python) and scoring each build with its penalty rules. Here the symbol is built once, as rows
and columns packed into two integers (module ``(r, c)`` is bit ``r * n + c`` of the rows, bit
``c * n + r`` of the columns): the data bits are scattered into place in one go, each mask is
one XOR, and each penalty rule is a handful of shifts and ANDs over all lines at once. The
scores are ``qrcode.util.lost_point``'s, quirks included (it scores the symbol with the format
and version areas and the dark module left light, and counts finder-like patterns without the
quiet zone), so the mask, and so every module, is the one ``qrcode`` picks: a unit test
compares them. Segmentation, error correction and the function patterns are ``qrcode``'s own.

What depends only on the version (where the data modules are, in which order, each mask over
them) is computed once per process: pure functions of the version, at most 40 of them.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import itemgetter

from qrcode import QRCode, base, util
from qrcode.constants import ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.exceptions import DataOverflowError

from .ops import Matrix


class _Probe(QRCode):  # type: ignore[misc]
    """``qrcode``'s symbol without its data: ``makeImpl`` stops where the data would go."""

    def map_data(self, data: object, mask_pattern: int) -> None:
        """Leave the data modules unset (None)."""


def _grid(version: int, level: int, mask: int, test: bool) -> list[list[bool | None]]:
    """Function patterns of a symbol; format and version areas light when ``test``."""
    probe = _Probe(version=version, error_correction=level, border=0)
    probe.data_cache = []
    probe.makeImpl(test, mask)
    return probe.modules


def _pack(grid: list[list[bool | None]]) -> tuple[int, int]:
    """(rows, columns) of a grid as packed integers; None counts as light."""
    n = len(grid)
    rows = "".join("1" if grid[r][c] else "0" for r in range(n) for c in range(n))
    cols = "".join("1" if grid[r][c] else "0" for c in range(n) for r in range(n))
    return int(rows[::-1], 2), int(cols[::-1], 2)


def _placement_order(grid: list[list[bool | None]]) -> list[tuple[int, int]]:
    """The data modules in the order the bits fill them (the zigzag of ISO/IEC 18004 §7.7.3,
    as ``qrcode``'s ``map_data`` walks it)."""
    n = len(grid)
    order, row, step = [], n - 1, -1
    for right in range(n - 1, 0, -2):
        col = right - 1 if right <= 6 else right  # skip the vertical timing pattern
        while 0 <= row < n:
            order.extend((row, c) for c in (col, col - 1) if grid[row][c] is None)
            row += step
        row -= step
        step = -step
    return order


_MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i * j) % 3 + (i + j) % 2) % 2 == 0,
)


class _Version:
    """What every symbol of one version shares."""

    def __init__(self, version: int):
        grid = _grid(version, ERROR_CORRECT_M, 0, test=True)
        n = self.n = len(grid)
        self.test_rows, self.test_cols = _pack(grid)
        order = _placement_order(grid)
        self.capacity = len(order)
        # Scatter: read the placed bit string (index = bit order, one "0" beyond it for every
        # module that is not data) in the order of the packed integers, most significant first.
        where = {cell: k for k, cell in enumerate(order)}
        blank = self.capacity
        self.rows_from = itemgetter(
            *(where.get((r, c), blank) for r in reversed(range(n)) for c in reversed(range(n)))
        )
        self.cols_from = itemgetter(
            *(where.get((r, c), blank) for c in reversed(range(n)) for r in reversed(range(n)))
        )
        self.masks = [self.scatter("".join("1" if dark(r, c) else "0" for r, c in order)) for dark in _MASKS]
        full = (1 << n * n) - 1
        line = sum(1 << k * n for k in range(n))  # bit 0 of every line
        self.full = full
        self.starts = {w: _starts(line, n, w) for w in (5, 11)}  # where a run / pattern may start
        self.pairs = _starts(line, n, 2) & ((1 << (n - 1) * n) - 1)  # 2x2 blocks: not the last row

    def scatter(self, bits: str) -> tuple[int, int]:
        """A string of data bits (placement order) as packed rows and columns."""
        padded = bits.ljust(self.capacity, "0") + "0"
        return int("".join(self.rows_from(padded)), 2), int("".join(self.cols_from(padded)), 2)


def _starts(line: int, n: int, width: int) -> int:
    """Bits of every line where a window of ``width`` modules fits (columns 0 .. n - width)."""
    return sum(line << c for c in range(n - width + 1))


@cache
def _version(version: int) -> _Version:
    return _Version(version)


@lru_cache(maxsize=8 * 4 * 40)
def _final_function_patterns(version: int, level: int, mask: int) -> int:
    """Packed rows of the function patterns with the format (and version) information."""
    return _pack(_grid(version, level, mask, test=False))[0]


def _runs(x: int, v: _Version) -> int:
    """Rule 1 over every line packed in ``x``: each run of 5 or more like modules costs its
    length minus 2, that is the windows of 5 in it, plus 2 for its first."""
    same = ~(x ^ (x >> 1))  # bit c: module c equals module c + 1
    five = same & (same >> 1) & (same >> 2) & (same >> 3) & v.starts[5]
    first = five & ~(five << 1)  # no window one module earlier (never across lines: see starts)
    return five.bit_count() + 2 * first.bit_count()


def _finders(x: int, v: _Version) -> int:
    """Rule 3 over every line packed in ``x``: 1011101 with four light modules after or before."""
    light = ~x & v.full
    d = [x >> k for k in range(11)]
    w = [light >> k for k in range(11)]
    core = w[1] & d[4] & w[5] & d[6] & w[9]
    after = d[0] & d[2] & d[3] & w[7] & w[8] & w[10]
    before = w[0] & w[2] & w[3] & d[7] & d[8] & d[10]
    return 40 * (core & (after | before) & v.starts[11]).bit_count()


def _blocks(rows: int, v: _Version) -> int:
    """Rule 2: each 2x2 block of like modules costs 3."""
    down = ~(rows ^ (rows >> v.n))  # bit set where a module equals the one below it
    across = ~(rows ^ (rows >> 1))
    return 3 * (down & (down >> 1) & across & v.pairs).bit_count()


def _balance(rows: int, v: _Version) -> int:
    """Rule 4, in ``qrcode``'s floating-point arithmetic."""
    percent = float(rows.bit_count()) / (v.n**2)
    return int(abs(percent * 100 - 50) / 5) * 10


def lost_point(rows: int, cols: int, v: _Version) -> int:
    """``qrcode.util.lost_point`` of the symbol packed in ``rows`` and ``cols``."""
    return (
        _runs(rows, v)
        + _runs(cols, v)
        + _blocks(rows, v)
        + _finders(rows, v)
        + _finders(cols, v)
        + _balance(rows, v)
    )


_ALPHANUMERIC = {char: k for k, char in enumerate(util.ALPHA_NUM)}


def _segment_bits(segment: util.QRData) -> str:
    """The data bits of one of ``qrcode``'s segments (``QRData.write`` as a string)."""
    data = segment.data
    if segment.mode == util.MODE_NUMBER:
        groups = (data[i : i + 3] for i in range(0, len(data), 3))
        return "".join(f"{int(g):0{util.NUMBER_LENGTH[len(g)]}b}" for g in groups)
    if segment.mode == util.MODE_ALPHA_NUM:
        codes = [_ALPHANUMERIC[byte] for byte in data]
        pairs = (codes[i : i + 2] for i in range(0, len(codes), 2))
        return "".join(f"{p[0] * 45 + p[1]:011b}" if len(p) == 2 else f"{p[0]:06b}" for p in pairs)
    return "".join(f"{byte:08b}" for byte in data)


@dataclass(frozen=True)
class _Payload:
    """A payload split into ``qrcode``'s segments (the same at every level), with their bits."""

    segments: tuple[tuple[int, int, str], ...]  # (mode, length in characters, data bits)

    @classmethod
    def of(cls, payload: str) -> _Payload:
        chunks = util.optimal_data_chunks(payload, minimum=20)  # what QRCode.add_data does
        return cls(tuple((c.mode, len(c), _segment_bits(c)) for c in chunks))

    def bits(self, version: int) -> str:
        sizes = util.mode_sizes_for_version(version)
        return "".join(f"{mode:04b}{length:0{sizes[mode]}b}{bits}" for mode, length, bits in self.segments)

    def version(self, level: int) -> int:
        """The smallest version that holds it (``QRCode.best_fit``)."""
        start = 1
        while True:
            sizes = util.mode_sizes_for_version(start)
            needed = sum(4 + sizes[mode] + len(bits) for mode, _length, bits in self.segments)
            version = bisect_left(util.BIT_LIMIT_TABLE[level], needed, start)
            if version == 41:
                raise DataOverflowError()
            if util.mode_sizes_for_version(version) is sizes:
                return version
            start = version


@cache
def _generator_times(ec_count: int) -> tuple[tuple[int, ...], ...]:
    """For every byte value, the Reed-Solomon generator of ``ec_count`` codewords (without its
    leading 1) multiplied by it in GF(256)."""
    generator = [1]
    for i in range(ec_count):  # product of (x - a^i)
        generator = [
            a ^ (_gf_mul(b, base.gexp(i)) if b else 0)
            for a, b in zip([*generator, 0], [0, *generator], strict=True)
        ]
    return tuple(tuple(_gf_mul(factor, g) for g in generator[1:]) for factor in range(256))


def _gf_mul(a: int, b: int) -> int:
    return base.gexp(base.glog(a) + base.glog(b)) if a and b else 0


def _error_correction(block: list[int], ec_count: int) -> list[int]:
    """The remainder of the block (times x^ec_count) by the generator: its EC codewords."""
    times = _generator_times(ec_count)
    remainder = [0] * ec_count
    for byte in block:
        factor = byte ^ remainder[0]
        remainder = [r ^ g for r, g in zip([*remainder[1:], 0], times[factor], strict=True)]
    return remainder


def _codewords(payload: _Payload, version: int, level: int) -> list[int]:
    """Data and EC codewords, interleaved (``qrcode.util.create_data``)."""
    blocks = base.rs_blocks(version, level)
    limit = sum(block.data_count for block in blocks) * 8
    bits = payload.bits(version)
    bits += "0" * min(limit - len(bits), 4)  # terminator
    bits += "0" * (-len(bits) % 8)
    data = [int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)]
    data += [util.PAD0, util.PAD1] * ((limit // 8 - len(data)) // 2 + 1)
    data = data[: limit // 8]
    dcs, ecs, offset = [], [], 0
    for block in blocks:
        dc = data[offset : offset + block.data_count]
        offset += block.data_count
        dcs.append(dc)
        ecs.append(_error_correction(dc, block.total_count - block.data_count))
    return [*_interleave(dcs), *_interleave(ecs)]


def _interleave(blocks: list[list[int]]) -> list[int]:
    return [block[i] for i in range(max(map(len, blocks))) for block in blocks if i < len(block)]


def build(payload: str, level: int) -> Matrix:
    """The symbol ``qrcode.QRCode(error_correction=level).make(fit=True)`` makes for ``payload``."""
    parsed = _Payload.of(payload)
    return _build(parsed, parsed.version(level), level)


def _build(payload: _Payload, version: int, level: int) -> Matrix:
    v = _version(version)
    data = _codewords(payload, version, level)
    rows, cols = v.scatter("".join(f"{byte:08b}" for byte in data))
    scores = [
        lost_point(v.test_rows | (rows ^ mask_rows), v.test_cols | (cols ^ mask_cols), v)
        for mask_rows, mask_cols in v.masks
    ]
    mask = scores.index(min(scores))  # the first of the best, as qrcode takes
    final = _final_function_patterns(version, level, mask) | (rows ^ v.masks[mask][0])
    bits = f"{final:0{v.n * v.n}b}"[::-1]
    n = v.n
    return tuple(tuple(map("1".__eq__, bits[r * n : (r + 1) * n])) for r in range(n))


@lru_cache(maxsize=256)
def symbol(payload: str) -> Matrix:
    """Module matrix (True = dark, no quiet zone) of the smallest QR symbol for ``payload``:
    level Q when that needs no larger version than level M. Only the chosen level is built."""
    parsed = _Payload.of(payload)
    medium, quartile = parsed.version(ERROR_CORRECT_M), parsed.version(ERROR_CORRECT_Q)
    if quartile == medium:
        return _build(parsed, quartile, ERROR_CORRECT_Q)
    return _build(parsed, medium, ERROR_CORRECT_M)
