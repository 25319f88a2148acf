"""Label geometry and the label layout engine.

Everything here is pure: sizes and sheets are plain data, and
:func:`compose` turns a :class:`LabelContent` into a list of drawing
operations in millimetres (origin top-left, y down) that the PNG and PDF
back ends in :mod:`traceapp.labels.render` execute verbatim, so both outputs
have the same layout. Text is measured through the :class:`TextMetrics`
protocol, so the engine needs no font library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

PT_MM = 25.4 / 72  # one typographic point in millimetres
ASCENT = 0.88  # ideographic em box of the bundled face, in em above the baseline
DESCENT = 0.12  # ... and below it
LEADING = 1.2  # baseline-to-baseline distance, in em
FLOOR_PT = 5.0  # smallest type size used on any label
PT_STEP = 0.25
QUIET_MODULES = 4  # QR quiet zone on every side, in modules
MIN_MODULE_MM = 0.25  # smaller modules do not scan reliably from thermal labels
MAX_MODULE_MM = 0.8  # larger ones scan no better and only take room from the text
EDGE_MM = 0.5  # the (white) QR quiet zone may come this close to the label edge
QR_MAX_WIDTH = 0.42  # landscape labels: QR block at most this share of the width
QR_SHRINK_LIMIT = 0.8  # the QR may shrink to this share of its largest module for text
CODE_ONE_LINE_MIN = 0.8  # the code shrinks this far to stay on one line, then takes two
HEADING_GAP_EM = 0.25  # space under the heading row
NOTE_PAD_EM = 0.3  # padding inside the status-note box
NOTE_GAP_EM = 0.5  # space between heading and status-note box
FRAME_RULES = ((3.0, 0.8), (4.4, 0.25))  # framed labels: (inset, stroke) of each rule, mm
ELLIPSIS = "…"
CJK_START = 0x2E80  # first code point of the CJK blocks
DPI_CHOICES = (203, 300)
MAX_COPIES = 500

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
# Sizes and sheets
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelSize:
    """One label (or the share image): physical size and typographic scale.

    ``framed`` labels (the share image) get a border, more air and a scan hint.
    """

    name: str
    width_mm: float
    height_mm: float
    title_zh: str
    framed: bool = False

    @property
    def portrait(self) -> bool:
        """True when the QR goes under the text instead of beside it."""
        return self.height_mm > self.width_mm

    @property
    def margin_mm(self) -> float:
        """Distance from the label edge to any ink."""
        if self.framed:
            return 7.0
        return min(max(0.04 * min(self.width_mm, self.height_mm), 1.2), 3.0)

    @property
    def heading_max_pt(self) -> float:
        """Largest size of the heading."""
        return min(0.25 * min(self.width_mm, self.height_mm), 20.0 if self.framed else 16.0)

    @property
    def body_max_pt(self) -> float:
        """Largest size of the body text and the trace code."""
        scaled = 0.2 * min(self.width_mm, self.height_mm)
        return min(max(scaled, 6.0), 13.0 if self.framed else 11.0)


def _size(
    name: str, width: float, height: float, title: str = "", framed: bool = False
) -> LabelSize:
    """A label size titled by its dimensions unless ``title`` is given."""
    return LabelSize(name, width, height, title or f"{width:g}×{height:g} mm", framed)


LABEL_SIZES: dict[str, LabelSize] = {
    s.name: s
    for s in (
        _size("40x30", 40, 30),
        _size("50x30", 50, 30),
        _size("60x40", 60, 40),
        _size("70x37", 70, 37),
        _size("70x50", 70, 50),
        _size("99.1x38.1", 99.1, 38.1),
        _size("100x70", 100, 70),
        _size("105x57", 105, 57),
        _size("share", 90, 140, title="电子合格证 90×140 mm", framed=True),
    )
}


@dataclass(frozen=True)
class SheetLayout:
    """A die-cut sheet of labels: page, grid and the label on it."""

    name: str
    page_w_mm: float
    page_h_mm: float
    cols: int
    rows: int
    label: LabelSize
    margin_left_mm: float
    margin_top_mm: float
    gap_x_mm: float = 0.0
    gap_y_mm: float = 0.0
    title_zh: str = ""

    @property
    def per_page(self) -> int:
        """Labels on one sheet."""
        return self.cols * self.rows


def _a4(
    name: str,
    label: LabelSize,
    cols: int,
    rows: int,
    left: float,
    top: float,
    gap_x: float = 0.0,
    note: str = "",
) -> SheetLayout:
    """An A4 sheet with a titled grid of ``label``."""
    title = f"A4 {cols}×{rows}（{label.title_zh}，{cols * rows} 张{note}）"
    return SheetLayout(name, 210, 297, cols, rows, label, left, top, gap_x, title_zh=title)


SHEETS: dict[str, SheetLayout] = {
    s.name: s
    for s in (
        _a4("a4-3x8", LABEL_SIZES["70x37"], 3, 8, left=0, top=0.5),
        _a4("a4-2x5", LABEL_SIZES["105x57"], 2, 5, left=0, top=6),
        _a4(
            "a4-2x7",
            LABEL_SIZES["99.1x38.1"],
            2,
            7,
            left=4.65,
            top=15.15,
            gap_x=2.5,
            note="，L7163 规格",
        ),
    )
}


def label_size(name: str) -> LabelSize:
    """Look up a label size by name, or raise ValueError."""
    try:
        return LABEL_SIZES[name]
    except KeyError:
        raise ValueError(
            f"unknown label size {name!r}; choose from {sorted(LABEL_SIZES)}"
        ) from None


def sheet_layout(name: str) -> SheetLayout:
    """Look up a sheet layout by name, or raise ValueError."""
    try:
        return SHEETS[name]
    except KeyError:
        raise ValueError(f"unknown sheet {name!r}; choose from {sorted(SHEETS)}") from None


def check_dpi(dpi: int) -> None:
    """Raise ValueError unless ``dpi`` is a supported printer resolution."""
    if dpi not in DPI_CHOICES:
        raise ValueError(f"dpi must be one of {DPI_CHOICES}, got {dpi!r}")


def check_copies(copies: int) -> None:
    """Raise ValueError unless 1 <= copies <= MAX_COPIES."""
    if not 1 <= copies <= MAX_COPIES:
        raise ValueError(f"copies must be between 1 and {MAX_COPIES}, got {copies!r}")


def sheet_positions(sheet: SheetLayout) -> list[tuple[float, float]]:
    """Top-left corner (x, y) in mm of every label on a sheet, row by row."""
    pitch_x = sheet.label.width_mm + sheet.gap_x_mm
    pitch_y = sheet.label.height_mm + sheet.gap_y_mm
    return [
        (sheet.margin_left_mm + col * pitch_x, sheet.margin_top_mm + row * pitch_y)
        for row in range(sheet.rows)
        for col in range(sheet.cols)
    ]


# --------------------------------------------------------------------------
# Content and drawing operations
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelContent:
    """What goes on one certificate; all strings are final (translated, formatted)."""

    heading: str
    fields: list[tuple[str, str]]
    commitments: list[str]
    basis: list[str]
    qr_payload: str
    code_text: str
    status_note: str | None = None
    commitments_short: str | None = None  # one line for small labels, parts joined by " · "


Matrix = tuple[tuple[bool, ...], ...]  # QR modules, True = dark, no quiet zone


class TextMetrics(Protocol):
    """Font measurements the layout engine needs."""

    def width(self, text: str, size_pt: float, bold: bool) -> float:
        """Advance width of ``text`` in mm."""

    def can_bold(self, text: str) -> bool:
        """True if the bold face has every character of ``text``."""


@dataclass(frozen=True)
class TextOp:
    """One line of text; ``y_mm`` is the baseline."""

    x_mm: float
    y_mm: float
    text: str
    size_pt: float
    bold: bool
    width_mm: float
    white: bool = False

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Em box (x0, y0, x1, y1) of the line."""
        em = self.size_pt * PT_MM
        return (
            self.x_mm,
            self.y_mm - ASCENT * em,
            self.x_mm + self.width_mm,
            self.y_mm + DESCENT * em,
        )


@dataclass(frozen=True)
class RectOp:
    """A black rectangle, filled or (``stroke_mm`` > 0) outlined inside its box."""

    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float
    stroke_mm: float = 0.0

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Bounding box (x0, y0, x1, y1)."""
        return (self.x_mm, self.y_mm, self.x_mm + self.w_mm, self.y_mm + self.h_mm)


@dataclass(frozen=True)
class QrOp:
    """A QR symbol; (x_mm, y_mm) is the outer corner of its quiet zone."""

    x_mm: float
    y_mm: float
    module_mm: float
    matrix: Matrix

    @property
    def side_mm(self) -> float:
        """Side of the symbol including the quiet zone."""
        return self.module_mm * (len(self.matrix) + 2 * QUIET_MODULES)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Bounding box including the quiet zone."""
        return (self.x_mm, self.y_mm, self.x_mm + self.side_mm, self.y_mm + self.side_mm)


DrawOp = TextOp | RectOp | QrOp


@dataclass(frozen=True)
class Layout:
    """A composed label: drawing operations plus a report on the text fit."""

    size: LabelSize
    ops: tuple[DrawOp, ...]
    body_pt: float
    density: str
    truncated: tuple[str, ...]
    overflow: bool


@dataclass(frozen=True)
class Box:
    """An axis-aligned region in mm."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        """Horizontal extent."""
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        """Vertical extent."""
        return self.y1 - self.y0


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
    """A one-argument width function for one face and size."""
    return lambda text: metrics.width(text, pt, bold)


def ellipsize(text: str, width: float, measure: Measure) -> str:
    """``text`` if it fits on one line of ``width`` mm, else its start plus an ellipsis."""
    if measure(text) <= width:
        return text
    lines, _ = clamp_lines(wrap(text, width, width, measure), 1, width, measure)
    return lines[0]


def clamp_lines(
    lines: list[str], max_lines: int, limit: float, measure: Measure
) -> tuple[list[str], bool]:
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
        Para(p, value, indent, density.field_lines)
        for p, (_, value) in zip(prefixes, fields, strict=True)
    ]


def colon(label: str) -> str:
    """A full-width colon after Chinese, a colon and space after Latin script."""
    return "：" if label and ord(label[-1]) >= CJK_START else ": "


def full_notes(
    content: LabelContent, pt: float, density: Density, metrics: TextMetrics
) -> list[Para]:
    """One ticked line per commitment, then the ticked basis."""
    hang = metrics.width(TICK + " ", pt, False)
    paras = [Para(TICK, c, hang, density.note_lines) for c in content.commitments]
    if content.basis:
        basis = units([TICK + b for b in content.basis], "  ")
        paras.append(
            Para(BASIS_PREFIX, basis, metrics.width(BASIS_PREFIX, pt, False), density.note_lines)
        )
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
    notes = (
        compact_notes(content, density)
        if density.compact
        else full_notes(content, pt, density, metrics)
    )
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


# --------------------------------------------------------------------------
# Fitting the text column
# --------------------------------------------------------------------------


@dataclass
class TextBlock:
    """The text column set at one size and density."""

    pt: float
    density: str
    ops: list[TextOp] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    bottom: float = 0.0

    def line(self, x: float, y: float, text: str, metrics: TextMetrics) -> None:
        """Append one regular-weight line of text."""
        if text:
            self.ops.append(TextOp(x, y, text, self.pt, False, metrics.width(text, self.pt, False)))
        self.bottom = y + DESCENT * em(self.pt)


def set_text(
    content: LabelContent, box: Box, pt: float, density: Density, metrics: TextMetrics
) -> TextBlock:
    """Set every paragraph into ``box`` from the top; may run past its bottom."""
    block = TextBlock(pt, density.name)
    measure = measurer(metrics, pt, False)
    y = box.y0 + ASCENT * em(pt)
    for para in paragraphs(content, box.width, pt, density, metrics):
        y += density.gap_em * em(pt) if para.gap_before else 0.0
        lines, cut = set_para(para, box.width, measure)
        if cut:
            block.truncated.append(para.prefix + "".join(para.text))
        for set_line in lines:
            block.line(box.x0, y, set_line.prefix, metrics)
            block.line(box.x0 + set_line.text_x, y, set_line.text, metrics)
            y += density.leading * em(pt)
    return block


def fit_text(
    content: LabelContent, box: Box, max_pt: float, metrics: TextMetrics, allow_cuts: bool
) -> TextBlock | None:
    """The most complete, then largest, setting that fits ``box`` without
    shortening anything; with ``allow_cuts``, the one that shortens fewest
    paragraphs (with an ellipsis). None if nothing fits."""
    settings = ((d, pt) for d in DENSITIES for pt in point_sizes(max_pt, d.min_pt))
    blocks = (set_text(content, box, pt, density, metrics) for density, pt in settings)
    fitting = (block for block in blocks if block.bottom <= box.y1 + 1e-9)
    if allow_cuts:
        return min(fitting, key=lambda block: len(block.truncated), default=None)
    return next((block for block in fitting if not block.truncated), None)


def clipped_text(content: LabelContent, box: Box, metrics: TextMetrics) -> TextBlock:
    """Last resort: the tightest setting, without the lines that do not fit."""
    block = set_text(content, box, FLOOR_PT, DENSITIES[-1], metrics)
    block.ops = [op for op in block.ops if op.box[3] <= box.y1 + 1e-9]
    return block


# --------------------------------------------------------------------------
# QR code and trace code
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class QrFit:
    """Module size of the QR and the setting of the trace code under it."""

    module_mm: float
    side_mm: float
    code_pt: float
    code_lines: list[str]

    @property
    def height_mm(self) -> float:
        """QR (with quiet zone) plus the code lines."""
        return self.side_mm + text_height(len(self.code_lines), self.code_pt)


def balanced_lines(text: str, measure: Measure) -> list[str]:
    """``text`` in two lines as equal in width as its break points allow
    (characters if it has none)."""
    units = pieces(text, math.inf, math.inf, measure)
    units = units if len(units) > 1 else list(text)
    splits = [
        ["".join(units[:k]).rstrip(), "".join(units[k:]).lstrip()] for k in range(1, len(units))
    ]
    return min(splits, key=lambda lines: max(map(measure, lines)), default=[text])


def fit_code(
    code: str, width: float, height: float, max_pt: float, metrics: TextMetrics
) -> tuple[float, list[str]] | None:
    """The trace code within ``width`` x ``height``: on one line unless that
    needs a size below CODE_ONE_LINE_MIN of ``max_pt``, else on two balanced
    lines, as large as fits; None if nothing fits."""
    bold = metrics.can_bold(code)
    for pt in point_sizes(max_pt, max(FLOOR_PT, CODE_ONE_LINE_MIN * max_pt)):
        if metrics.width(code, pt, bold) <= width and text_height(1, pt) <= height:
            return pt, [code]
    for pt in point_sizes(max_pt):
        lines = balanced_lines(code, measurer(metrics, pt, bold))
        widest = max(metrics.width(line, pt, bold) for line in lines)
        if widest <= width and text_height(len(lines), pt) <= height:
            return pt, lines
    return None


def qr_fits(
    label: LabelSize, modules: int, code: str, area: Box, quantum: float, metrics: TextMetrics
) -> Iterator[QrFit]:
    """QR sizes (modules a multiple of ``quantum`` mm, MIN_MODULE_MM to MAX_MODULE_MM)
    that leave room in ``area`` for the trace code under them, largest first. The
    code may be as wide as the QR, or on portrait labels as wide as the area."""
    span = modules + 2 * QUIET_MODULES
    largest = math.floor(min(area.width / span, area.height / span, MAX_MODULE_MM) / quantum + 1e-9)
    for module in (steps * quantum for steps in range(largest, 0, -1)):
        if module < MIN_MODULE_MM - 1e-9:
            return
        side = module * span
        width = area.width if label.portrait else side
        code_fit = fit_code(code, width, area.height - side, label.body_max_pt, metrics)
        if code_fit:
            yield QrFit(module, side, *code_fit)


def qr_choices(
    label: LabelSize, modules: int, code: str, area: Box, quantum: float, metrics: TextMetrics
) -> list[QrFit]:
    """The largest QR that fits ``area`` and the smaller ones the text may
    claim room from, down to QR_SHRINK_LIMIT of its module size."""
    fits = list(qr_fits(label, modules, code, area, quantum, metrics))
    if not fits:
        raise ValueError("QR code and trace code do not fit this label size; shorten the payload")
    return [fit for fit in fits if fit.module_mm >= QR_SHRINK_LIMIT * fits[0].module_mm - 1e-9]


def snap(value: float, quantum: float) -> float:
    """Round ``value`` to the nearest multiple of ``quantum``."""
    return round(value / quantum) * quantum


def centred_lines(
    lines: Sequence[str], centre_x: float, top: float, pt: float, bold: bool, metrics: TextMetrics
) -> list[TextOp]:
    """Lines centred on ``centre_x``, the first em box starting at ``top``."""
    ops = []
    for i, text in enumerate(lines):
        width = metrics.width(text, pt, bold)
        baseline = top + (ASCENT + i * LEADING) * em(pt)
        ops.append(TextOp(centre_x - width / 2, baseline, text, pt, bold, width))
    return ops


def qr_ops(
    matrix: Matrix, fit: QrFit, x: float, y: float, code: str, metrics: TextMetrics
) -> list[DrawOp]:
    """The QR symbol at (x, y) and the trace code centred under it."""
    centre, bold = x + fit.side_mm / 2, metrics.can_bold(code)
    caption = centred_lines(fit.code_lines, centre, y + fit.side_mm, fit.code_pt, bold, metrics)
    return [QrOp(x, y, fit.module_mm, matrix), *caption]


def hint_pt(label: LabelSize) -> float:
    """Size of the scan hint under the QR on portrait labels."""
    return 0.8 * label.body_max_pt


def qr_area(body: Box, label: LabelSize) -> Box:
    """Where the QR and its caption may go: a column at the right of landscape
    labels (the quiet zone may reach into the margin, up to EDGE_MM from the
    edge), or a centred block above the scan hint on portrait ones."""
    if label.portrait:
        centre, half = (body.x0 + body.x1) / 2, 0.3 * body.width
        hint_h = text_height(1, hint_pt(label)) + 0.4 * em(hint_pt(label))
        return Box(centre - half, body.y1 - 0.45 * body.height, centre + half, body.y1 - hint_h)
    right = label.width_mm - EDGE_MM
    return Box(right - QR_MAX_WIDTH * label.width_mm, body.y0, right, body.y1)


def place_qr(
    fit: QrFit,
    body: Box,
    label: LabelSize,
    matrix: Matrix,
    code: str,
    quantum: float,
    metrics: TextMetrics,
) -> tuple[list[DrawOp], Box]:
    """Draw ops for the QR, its caption (and scan hint), and the box left for text."""
    area = qr_area(body, label)
    if label.portrait:
        centre = (area.x0 + area.x1) / 2
        x, y = snap(centre - fit.side_mm / 2, quantum), snap(area.y1 - fit.height_mm, quantum)
        size = hint_pt(label)
        hint = centred_lines(
            [SCAN_HINT], centre, body.y1 - text_height(1, size), size, False, metrics
        )
        return qr_ops(matrix, fit, x, y, code, metrics) + hint, Box(body.x0, body.y0, body.x1, y)
    x = math.floor((area.x1 - fit.side_mm) / quantum) * quantum
    y = snap(body.y0 + (body.height - fit.height_mm) / 2, quantum)
    return qr_ops(matrix, fit, x, y, code, metrics), Box(body.x0, body.y0, x, body.y1)


# --------------------------------------------------------------------------
# Heading, status note, frame
# --------------------------------------------------------------------------


def heading_width(heading: str, note: str, pt: float, metrics: TextMetrics) -> float:
    """Width of the heading row: the heading, then the note (if any) in a padded box."""
    width = metrics.width(heading, pt, metrics.can_bold(heading))
    if note:
        width += metrics.width(note, pt, metrics.can_bold(note))
        width += (2 * NOTE_PAD_EM + NOTE_GAP_EM) * em(pt)
    return width


def heading_size(
    heading: str, note: str, width: float, max_pt: float, metrics: TextMetrics
) -> float:
    """Largest size at which the heading row fits ``width`` (else FLOOR_PT)."""
    sizes = point_sizes(max_pt)
    return next(
        (pt for pt in sizes if heading_width(heading, note, pt, metrics) <= width), FLOOR_PT
    )


def status_box(note: str, x: float, top: float, pt: float, metrics: TextMetrics) -> list[DrawOp]:
    """The status note in white on a black box whose top-left is (x, top)."""
    bold = metrics.can_bold(note)
    width = metrics.width(note, pt, bold)
    pad = NOTE_PAD_EM * em(pt)
    baseline = top + pad + ASCENT * em(pt)
    return [
        RectOp(x, top, width + 2 * pad, text_height(1, pt) + 2 * pad),
        TextOp(x + pad, baseline, note, pt, bold, width, white=True),
    ]


def heading_ops(
    heading: str, note: str, box: Box, max_pt: float, metrics: TextMetrics
) -> tuple[list[DrawOp], float]:
    """The heading, and the status note (if any) boxed beside it, centred at the
    top of ``box``; returns the y below them. If they do not fit even at FLOOR_PT,
    the heading is ellipsized first; the note keeps at least half the room."""
    pt = heading_size(heading, note, box.width, max_pt, metrics)
    bold, note_bold = metrics.can_bold(heading), metrics.can_bold(note)
    heading_w, note_w = metrics.width(heading, pt, bold), metrics.width(note, pt, note_bold)
    room = box.width - (heading_width(heading, note, pt, metrics) - heading_w - note_w)
    note = ellipsize(note, max(room / 2, room - heading_w), measurer(metrics, pt, note_bold))
    room -= metrics.width(note, pt, note_bold)
    heading = ellipsize(heading, room, measurer(metrics, pt, bold))
    pad = NOTE_PAD_EM * em(pt) if note else 0.0
    x = (box.x0 + box.x1 - heading_width(heading, note, pt, metrics)) / 2
    width = metrics.width(heading, pt, bold)
    ops: list[DrawOp] = [TextOp(x, box.y0 + pad + ASCENT * em(pt), heading, pt, bold, width)]
    if note:
        ops += status_box(note, x + width + NOTE_GAP_EM * em(pt), box.y0, pt, metrics)
    return ops, box.y0 + text_height(1, pt) + 2 * pad + HEADING_GAP_EM * em(pt)


def frame_ops(label: LabelSize) -> list[DrawOp]:
    """A certificate-style double rule around framed labels."""
    if not label.framed:
        return []
    w, h = label.width_mm, label.height_mm
    return [
        RectOp(inset, inset, w - 2 * inset, h - 2 * inset, stroke_mm=stroke)
        for inset, stroke in FRAME_RULES
    ]


def fit_body(
    content: LabelContent,
    placements: Sequence[tuple[list[DrawOp], Box]],
    max_pt: float,
    metrics: TextMetrics,
) -> tuple[list[DrawOp], TextBlock, bool]:
    """Choose the QR placement and text setting: complete text first, then the
    largest QR. Returns the QR ops, the text and whether text overflowed."""
    for allow_cuts in (False, True):
        for qr, box in placements:
            block = fit_text(content, box, max_pt, metrics, allow_cuts)
            if block:
                return qr, block, False
    qr, box = placements[0]
    return qr, clipped_text(content, box, metrics), True


def compose(
    content: LabelContent, label: LabelSize, matrix: Matrix, metrics: TextMetrics, quantum_mm: float
) -> Layout:
    """Lay out one label. QR modules and the QR origin are multiples of
    ``quantum_mm`` (one device pixel) so raster output has crisp modules."""
    m = label.margin_mm
    inner = Box(m, m, label.width_mm - m, label.height_mm - m)
    heading, y = heading_ops(
        content.heading, content.status_note or "", inner, label.heading_max_pt, metrics
    )
    body = Box(inner.x0, y, inner.x1, inner.y1)
    area = qr_area(body, label)
    fits = qr_choices(label, len(matrix), content.code_text, area, quantum_mm, metrics)
    placements = [
        place_qr(fit, body, label, matrix, content.code_text, quantum_mm, metrics) for fit in fits
    ]
    qr, text, overflow = fit_body(content, placements, label.body_max_pt, metrics)
    ops = (*frame_ops(label), *heading, *qr, *text.ops)
    return Layout(label, ops, text.pt, text.density, tuple(text.truncated), overflow)
