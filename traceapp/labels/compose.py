"""The label layout engine.

:func:`compose` turns a :class:`~traceapp.labels.layouts.LabelContent` into a
:class:`Layout`: drawing operations (see :mod:`traceapp.labels.ops`) in
millimetres that the back ends in :mod:`traceapp.labels.render` execute
verbatim. It places the heading, the QR code with the trace code under it,
and sets the text column as completely and as large as fits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .layouts import LabelContent, LabelSize
from .ops import QUIET_MODULES, DrawOp, ImageOp, Matrix, QrOp, RectOp, TextOp
from .text import (
    ASCENT,
    DENSITIES,
    DESCENT,
    FLOOR_PT,
    LEADING,
    SCAN_HINT,
    Density,
    Measure,
    TextMetrics,
    ellipsize,
    em,
    measurer,
    paragraphs,
    pieces,
    point_sizes,
    set_para,
    text_height,
)

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
#: A seal goes only on labels at least this high and wide (70x50, 100x70, 105x57, the share
#: image, an 80 mm receipt): on smaller ones it would take the room of the text the law asks for.
SEAL_MIN_SIDE_MM = 50.0
SEAL_MAX_MM = 20.0  # the seal's height at most (a paper certificate's seal is about 40 mm)
SEAL_SHARE = 0.3  # and at most this share of the text column's height
SEAL_GAP_MM = 1.0


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


# Fitting the text column
# --------------------------------------------------------------------------


@dataclass
class TextBlock:
    """The text column set at one size and density: its lines as (x, baseline, text), turned
    into drawing operations (which measure every line) only for the setting chosen."""

    pt: float
    density: str
    lines: list[tuple[float, float, str]] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    bottom: float = 0.0

    def line(self, x: float, y: float, text: str) -> None:
        """Append one regular-weight line of text."""
        if text:
            self.lines.append((x, y, text))
        self.bottom = y + DESCENT * em(self.pt)

    def ops(self, metrics: TextMetrics) -> list[TextOp]:
        """The lines as drawing operations."""
        return [
            TextOp(x, y, text, self.pt, False, metrics.width(text, self.pt, False))
            for x, y, text in self.lines
        ]


def set_text(content: LabelContent, box: Box, pt: float, density: Density, metrics: TextMetrics) -> TextBlock:
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
            block.line(box.x0, y, set_line.prefix)
            block.line(box.x0 + set_line.text_x, y, set_line.text)
            y += density.leading * em(pt)
    return block


Settings = dict[tuple[Box, str, float], TextBlock]


def least_bottom(content: LabelContent, box: Box, pt: float, density: Density, metrics: TextMetrics) -> float:
    """A floor under ``set_text(...).bottom`` that needs no line breaking: a paragraph takes one
    line, or two (up to its ``max_lines``) when all of it is wider than its first line, since
    greedy breaking keeps it on one line only if it fits there whole."""
    measure = measurer(metrics, pt, False)
    lines, gaps = 0, 0.0
    for para in paragraphs(content, box.width, pt, density, metrics):
        prefix = measure(para.prefix)
        if prefix > box.width:
            prefix = measure(ellipsize(para.prefix, box.width, measure))
        lines += min(
            para.max_lines, 2 if measure(_whole(para.text)) > box.width - max(para.indent, prefix) else 1
        )
        gaps += density.gap_em if para.gap_before else 0.0
    return box.y0 + (ASCENT + (lines - 1) * density.leading + gaps + DESCENT) * em(pt)


@lru_cache(maxsize=4096)
def _whole(text: str | tuple[str, ...]) -> str:
    """A paragraph's text on one line, as line breaking sees it (any whitespace a space)."""
    return re.sub(r"\s", " ", "".join(text)).rstrip()


def fit_text(
    content: LabelContent,
    box: Box,
    max_pt: float,
    metrics: TextMetrics,
    allow_cuts: bool,
    settings: Settings | None = None,
) -> TextBlock | None:
    """The most complete, then largest, setting that fits ``box`` without
    shortening anything; with ``allow_cuts``, the one that shortens fewest
    paragraphs (with an ellipsis). None if nothing fits.

    Settings in order, densest last, largest first; a size is set only if ``least_bottom``
    fits (no other could), and each setting at most once per ``settings``
    (the pass without cuts and the pass with them try the same ones). With cuts, the first
    setting that shortens one paragraph is the answer: none shortens none (else the pass
    without cuts had taken it)."""
    settings = {} if settings is None else settings
    best: TextBlock | None = None
    for density in DENSITIES:
        for pt in point_sizes(max_pt, density.min_pt):
            if least_bottom(content, box, pt, density, metrics) > box.y1 + 1e-9:
                continue
            key = (box, density.name, pt)
            if key not in settings:
                settings[key] = set_text(content, box, pt, density, metrics)
            block = settings[key]
            if block.bottom > box.y1 + 1e-9:
                continue
            if not allow_cuts:
                if not block.truncated:
                    return block
            elif best is None or len(block.truncated) < len(best.truncated):
                best = block
                if len(block.truncated) <= 1:
                    return block
    return best


def clipped_text(content: LabelContent, box: Box, metrics: TextMetrics) -> TextBlock:
    """Last resort: the tightest setting, without the lines that do not fit."""
    block = set_text(content, box, FLOOR_PT, DENSITIES[-1], metrics)
    block.lines = [line for line in block.lines if line[1] + DESCENT * em(block.pt) <= box.y1 + 1e-9]
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
    splits = [["".join(units[:k]).rstrip(), "".join(units[k:]).lstrip()] for k in range(1, len(units))]
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


def qr_ops(matrix: Matrix, fit: QrFit, x: float, y: float, code: str, metrics: TextMetrics) -> list[DrawOp]:
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
        hint = centred_lines([SCAN_HINT], centre, body.y1 - text_height(1, size), size, False, metrics)
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


def heading_size(heading: str, note: str, width: float, max_pt: float, metrics: TextMetrics) -> float:
    """Largest size at which the heading row fits ``width`` (else FLOOR_PT)."""
    sizes = point_sizes(max_pt)
    return next((pt for pt in sizes if heading_width(heading, note, pt, metrics) <= width), FLOOR_PT)


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
        RectOp(inset, inset, w - 2 * inset, h - 2 * inset, stroke_mm=stroke) for inset, stroke in FRAME_RULES
    ]


def fit_body(
    content: LabelContent,
    placements: Sequence[tuple[list[DrawOp], Box]],
    max_pt: float,
    metrics: TextMetrics,
) -> tuple[list[DrawOp], TextBlock, bool]:
    """Choose the QR placement and text setting: complete text first, then the
    largest QR. Returns the QR ops, the text and whether text overflowed."""
    settings: Settings = {}
    for allow_cuts in (False, True):
        for qr, box in placements:
            block = fit_text(content, box, max_pt, metrics, allow_cuts, settings)
            if block:
                return qr, block, False
    qr, box = placements[0]
    return qr, clipped_text(content, box, metrics), True


def seal_placement(content: LabelContent, label: LabelSize, box: Box) -> tuple[ImageOp, Box] | None:
    """The seal at the bottom right of the text column, and the column left above it; None
    when there is no seal or the label is too small for one."""
    if not content.seal_png or not content.seal_px or min(label.width_mm, label.height_mm) < SEAL_MIN_SIDE_MM:
        return None
    width_px, height_px = content.seal_px
    side = min(SEAL_MAX_MM, SEAL_SHARE * box.height)
    scale = min(side / height_px, box.width / 2 / width_px)
    w, h = width_px * scale, height_px * scale
    seal = ImageOp(box.x1 - w, box.y1 - h, w, h, content.seal_png)
    return seal, Box(box.x0, box.y0, box.x1, box.y1 - h - SEAL_GAP_MM)


def fit_with_seal(
    content: LabelContent,
    placements: Sequence[tuple[list[DrawOp], Box]],
    label: LabelSize,
    metrics: TextMetrics,
) -> tuple[list[DrawOp], TextBlock] | None:
    """The first placement whose text still fits whole beside the seal (the seal then goes
    under the text); None when it fits on none, and the label goes without the seal."""
    settings: Settings = {}
    for qr, box in placements:
        placed = seal_placement(content, label, box)
        if placed is None:
            return None
        seal, text_box = placed
        block = fit_text(content, text_box, label.body_max_pt, metrics, False, settings)
        if block:
            return [*qr, seal], block
    return None


def compose(
    content: LabelContent, label: LabelSize, matrix: Matrix, metrics: TextMetrics, quantum_mm: float
) -> Layout:
    """Lay out one label. QR modules and the QR origin are multiples of
    ``quantum_mm`` (one device pixel) so raster output has crisp modules."""
    m = label.margin_mm
    inner = Box(m, m, label.width_mm - m, label.height_mm - m)
    heading, y = heading_ops(content.heading, content.status_note or "", inner, label.heading_max_pt, metrics)
    body = Box(inner.x0, y, inner.x1, inner.y1)
    area = qr_area(body, label)
    fits = qr_choices(label, len(matrix), content.code_text, area, quantum_mm, metrics)
    placements = [place_qr(fit, body, label, matrix, content.code_text, quantum_mm, metrics) for fit in fits]
    sealed = fit_with_seal(content, placements, label, metrics)
    if sealed:
        qr, text, overflow = *sealed, False
    else:
        qr, text, overflow = fit_body(content, placements, label.body_max_pt, metrics)
    ops = (*frame_ops(label), *heading, *qr, *text.ops(metrics))
    return Layout(label, ops, text.pt, text.density, tuple(text.truncated), overflow)
