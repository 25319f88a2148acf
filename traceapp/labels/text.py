"""Text for labels: typographic units, fixed wording, line breaking, paragraphs.

Text is measured through the :class:`TextMetrics` protocol, so nothing here
needs a font library. :func:`paragraphs` turns a
:class:`~traceapp.labels.layouts.LabelContent` into the paragraphs of the
text column at one :class:`Density`; :func:`set_para` breaks one into lines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from .layouts import LabelContent

PT_MM = 25.4 / 72  # one typographic point in millimetres
ASCENT = 0.88  # ideographic em box of the bundled face, in em above the baseline
DESCENT = 0.12  # ... and below it
LEADING = 1.2  # baseline-to-baseline distance, in em
FLOOR_PT = 5.0  # smallest type size used on any label
PT_STEP = 0.25
ELLIPSIS = "…"
CJK_START = 0x2E80  # first code point of the CJK blocks

HEADING = "承诺达标合格证"
SCAN_HINT = "扫码查验真伪"
COMMITMENT_PREFIX = "承诺："
BASIS_PREFIX = "承诺依据："
BASIS_PREFIX_SHORT = "依据："
TICK = "☑"
SEPARATOR = " · "
# Short forms of the three standard commitments, for labels too small for
# the full wording (unknown commitments are printed as given).
SHORT_COMMITMENTS = {
    "不使用禁用农药兽药、停用兽药和非法添加物": "不使用禁用药物",
    "常规农药兽药残留不超标": "残留不超标",
    "对承诺的真实性负责": "对真实性负责",
}
FIXED_TEXT = (
    HEADING,
    SCAN_HINT,
    COMMITMENT_PREFIX,
    BASIS_PREFIX,
    TICK,
    SEPARATOR,
    ELLIPSIS,
    *SHORT_COMMITMENTS,
    *SHORT_COMMITMENTS.values(),
)


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


class TextMetrics(Protocol):
    """Font measurements the layout engine needs."""

    def width(self, text: str, size_pt: float, bold: bool) -> float:
        """Advance width of ``text`` in mm."""

    def can_bold(self, text: str) -> bool:
        """True if the bold face has every character of ``text``."""


def em(size_pt: float) -> float:
    """One em in mm."""
    return size_pt * PT_MM


def text_height(lines: int, size_pt: float) -> float:
    """Height in mm of ``lines`` lines of text at the default LEADING."""
    return 0.0 if lines == 0 else ((lines - 1) * LEADING + ASCENT + DESCENT) * em(size_pt)


def point_sizes(largest: float, smallest: float = FLOOR_PT) -> Iterator[float]:
    """Type sizes on the PT_STEP grid from ``largest`` down to ``smallest``."""
    top = math.floor(largest / PT_STEP + 1e-9)
    bottom = math.ceil(smallest / PT_STEP - 1e-9)
    return (steps * PT_STEP for steps in range(top, bottom - 1, -1))


# --------------------------------------------------------------------------
# Line breaking
# --------------------------------------------------------------------------

_OPEN = r"(\[{（《「『【〔“‘"
_CLOSE = r")\]}）》」』】〕”’，。、；：！？,.;:!?%"
_TOKEN = re.compile(rf"[{_OPEN}]*(?:[0-9A-Za-z@#&_+*/=]+-?|\s+|.)[{_CLOSE}]*", re.S)

Measure = Callable[[str], float]


def pieces(text: str | Sequence[str], first: float, rest: float, measure: Measure) -> list[str]:
    """Unbreakable pieces of ``text``, a string to tokenise or a sequence of
    ready-made units, split further as :func:`split` says. Any whitespace
    counts as a space."""
    if isinstance(text, str):
        units = _TOKEN.findall(re.sub(r"\s", " ", text))
    else:
        units = [re.sub(r"\s", " ", unit) for unit in text]
    return [piece for unit in units for piece in split(unit, first, rest, measure)]


def split(unit: str, first: float, rest: float, measure: Measure) -> list[str]:
    """``unit`` whole if it fits the ``first`` line; else its tokens (ideographs
    alone, words and numbers up to a hyphen, punctuation stuck to its
    neighbour), each whole if it fits a ``rest`` line, else its characters."""
    if measure(unit) <= first:
        return [unit]
    tokens = _TOKEN.findall(unit)
    if len(tokens) > 1:
        return [piece for token in tokens for piece in split(token, first, rest, measure)]
    return [unit] if measure(unit) <= rest else list(unit)


def wrap(text: str | Sequence[str], first: float, rest: float, measure: Measure) -> list[str]:
    """Greedy line breaking of ``text`` (see :func:`pieces`); the first line is
    ``first`` mm wide, the others ``rest``."""
    lines: list[str] = []
    line = ""
    for piece in pieces(text, first, rest, measure):
        limit = first if not lines else rest
        if measure((line + piece).rstrip()) <= limit:
            line += piece
        else:  # "" when even the first piece is too wide for a short first line
            lines.append(line.rstrip())
            line = piece.lstrip()
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def units(items: Sequence[str], separator: str) -> tuple[str, ...]:
    """Items as unbreakable units, each but the last carrying the separator."""
    return tuple(item + separator for item in items[:-1]) + tuple(items[-1:])


def measurer(metrics: TextMetrics, pt: float, bold: bool) -> Measure:
    """A one-argument width function for one face and size (the metrics' own, when they
    offer one: line breaking measures thousands of strings per label)."""
    own = getattr(metrics, "measurer", None)
    return own(pt, bold) if own else lambda text: metrics.width(text, pt, bold)


def ellipsize(text: str, width: float, measure: Measure) -> str:
    """``text`` if it fits on one line of ``width`` mm, else its start plus an ellipsis."""
    if measure(text) <= width:
        return text
    lines, _ = clamp_lines(wrap(text, width, width, measure), 1, width, measure)
    return lines[0]


def clamp_lines(lines: list[str], max_lines: int, limit: float, measure: Measure) -> tuple[list[str], bool]:
    """Keep at most ``max_lines`` lines, ending the last kept one with an ellipsis."""
    if len(lines) <= max_lines:
        return lines, False
    last = lines[max_lines - 1]
    while last and measure(last + ELLIPSIS) > limit:
        last = last[:-1]
    return [*lines[: max_lines - 1], last.rstrip() + ELLIPSIS], True


# --------------------------------------------------------------------------
# Paragraphs of the text column
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Density:
    """How much of the content is spelled out, how tightly it is set, and the
    smallest type size allowed for it."""

    name: str
    min_pt: float
    field_lines: int
    compact: bool
    note_lines: int
    leading: float = LEADING
    gap_em: float = 0.3  # extra space between the fields and the commitments


DENSITIES = (
    Density("airy", 10.0, 3, compact=False, note_lines=3, leading=1.45, gap_em=0.8),
    Density("full", 6.0, 3, compact=False, note_lines=3),
    Density("compact", FLOOR_PT, 2, compact=True, note_lines=2),
    Density("tight", FLOOR_PT, 2, compact=True, note_lines=2, leading=1.1, gap_em=0.0),
    Density("tightest", FLOOR_PT, 1, compact=True, note_lines=2, leading=1.1, gap_em=0.0),
)


@dataclass(frozen=True)
class Para:
    """A prefix (field label, tick) followed by text that wraps at ``indent`` mm;
    ``text`` is free text or a tuple of unbreakable units."""

    prefix: str
    text: str | tuple[str, ...]
    indent: float
    max_lines: int
    gap_before: bool = False


@dataclass(frozen=True)
class SetLine:
    """A line of a set paragraph: the prefix (first line only) and the text."""

    prefix: str
    text: str
    text_x: float


def field_paras(
    fields: Sequence[tuple[str, str]],
    width: float,
    pt: float,
    density: Density,
    metrics: TextMetrics,
) -> list[Para]:
    """Fields as ``label：value``; values align on a tab stop when it is narrow enough."""
    prefixes = [label + colon(label) for label, _ in fields]
    tab = max((metrics.width(p, pt, False) for p in prefixes), default=0.0)
    indent = tab if tab <= 0.4 * width else 0.0
    return [
        Para(p, value, indent, density.field_lines) for p, (_, value) in zip(prefixes, fields, strict=True)
    ]


def colon(label: str) -> str:
    """A full-width colon after Chinese, a colon and space after Latin script."""
    return "：" if label and ord(label[-1]) >= CJK_START else ": "


def full_notes(content: LabelContent, pt: float, density: Density, metrics: TextMetrics) -> list[Para]:
    """One ticked line per commitment, then the ticked basis."""
    hang = metrics.width(TICK + " ", pt, False)
    paras = [Para(TICK, c, hang, density.note_lines) for c in content.commitments]
    if content.basis:
        basis = units([TICK + b for b in content.basis], "  ")
        paras.append(Para(BASIS_PREFIX, basis, metrics.width(BASIS_PREFIX, pt, False), density.note_lines))
    return paras


def short_commitments(content: LabelContent) -> tuple[str, ...]:
    """The commitments as short units: the caller's one-liner split at its
    separators, else the built-in short forms of the standard wording."""
    if content.commitments_short:
        parts = [part.strip() for part in content.commitments_short.split(SEPARATOR.strip())]
    else:
        parts = [SHORT_COMMITMENTS.get(c, c) for c in content.commitments]
    return units(parts, SEPARATOR)


def compact_notes(content: LabelContent, density: Density) -> list[Para]:
    """Commitments (short forms) and basis as one run-in paragraph each."""
    paras = []
    if content.commitments:
        paras.append(Para(COMMITMENT_PREFIX, short_commitments(content), 0.0, density.note_lines))
    if content.basis:
        basis = units(content.basis, SEPARATOR)
        paras.append(Para(BASIS_PREFIX_SHORT, basis, 0.0, density.note_lines))
    return paras


def paragraphs(
    content: LabelContent, width: float, pt: float, density: Density, metrics: TextMetrics
) -> list[Para]:
    """All paragraphs of the text column, with a little air before the notes."""
    notes = compact_notes(content, density) if density.compact else full_notes(content, pt, density, metrics)
    notes[:1] = [replace(para, gap_before=True) for para in notes[:1]]
    return field_paras(content.fields, width, pt, density, metrics) + notes


def set_para(para: Para, width: float, measure: Measure) -> tuple[list[SetLine], bool]:
    """Break one paragraph into lines; report whether it had to be shortened.
    A prefix wider than the column is itself ellipsized."""
    prefix = ellipsize(para.prefix, width, measure)
    first_x = max(para.indent, measure(prefix))
    lines = wrap(para.text, width - first_x, width - para.indent, measure)
    last_limit = width - (first_x if para.max_lines == 1 else para.indent)
    lines, cut = clamp_lines(lines, para.max_lines, last_limit, measure)
    rest = [SetLine("", text, para.indent) for text in lines[1:]]
    return [SetLine(prefix, lines[0], first_x), *rest], cut or prefix != para.prefix
