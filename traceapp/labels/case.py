"""Case and pallet labels: PTI-style case labels and SSCC pallet labels, 100x50 mm (4x2 in).

A case label carries the product, GTIN and lot in a GS1-128 barcode ((01) GTIN, (13) pack date
when known, (10) lot), the voice pick code printed as the Produce Traceability Initiative
shows it (a box: two small digits, then two large ones reversed out of black), the quantity
and our QR. A pallet label carries the SSCC in a GS1-128 barcode ((00)), its contents and the
QR of the pallet's page. Both are laid out here as the drawing operations of :mod:`.ops` and
drawn by the PNG and PDF back ends of :mod:`.render`, like the certificates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from . import gs1_128
from .compose import Layout
from .layouts import LabelSize, check_copies, check_dpi
from .ops import QUIET_MODULES, DrawOp, QrOp, RectOp, TextOp
from .render import METRICS, PDF_GRID_DPI, _one_bit, _pdf, _png_bytes, _raster, qr_matrix
from .text import ASCENT, PT_MM, colon, ellipsize, measurer

CASE_SIZE = LabelSize("100x50", 100, 50, "100×50 mm")
MARGIN = 3.0
BAR_HEIGHT_MM = 12.0
MAX_MODULE_MM = 0.5


@dataclass(frozen=True)
class CaseContent:
    """What goes on a case or pallet label; all strings final (translated, formatted).

    ``elements`` are the GS1-128 barcode's (AI, value) pairs; ``voice_pick`` the four digits,
    or None (a pallet label); ``lines`` the (label, value) rows beside the QR.
    """

    title: str
    elements: tuple[tuple[str, str], ...]
    lines: tuple[tuple[str, str], ...]
    qr_payload: str
    voice_pick: str | None = None
    status_note: str | None = None


def _text(x: float, baseline: float, text: str, pt: float, bold: bool = False, white: bool = False) -> TextOp:
    bold = bold and METRICS.can_bold(text)
    return TextOp(x, baseline, text, pt, bold, METRICS.width(text, pt, bold), white)


def _fit(text: str, width: float, pt: float, bold: bool = False) -> str:
    return ellipsize(text, width, measurer(METRICS, pt, bold and METRICS.can_bold(text)))


def voice_pick_ops(code: str, right: float, top: float) -> tuple[list[DrawOp], float]:
    """The voice pick code box, its right edge at ``right``: the first two digits small, the
    last two large in white on black (as on PTI's sample labels). Returns the ops and its left."""
    small_pt, large_pt, pad = 14.0, 26.0, 1.0
    height = large_pt * PT_MM * 1.0 + 2 * pad
    small_w = METRICS.width(code[:2], small_pt, True)
    large_w = METRICS.width(code[2:], large_pt, True)
    width = small_w + large_w + 5 * pad
    left = right - width
    baseline = top + pad + ASCENT * large_pt * PT_MM - 0.5
    ops: list[DrawOp] = [
        RectOp(left, top, width, height, stroke_mm=0.4),
        _text(left + pad * 1.5, baseline, code[:2], small_pt, bold=True),
        RectOp(right - large_w - 2 * pad, top, large_w + 2 * pad, height),
        _text(right - large_w - pad, baseline, code[2:], large_pt, bold=True, white=True),
    ]
    return ops, left


def barcode_ops(
    elements: Sequence[tuple[str, str]], top: float, grid_mm: float
) -> tuple[list[DrawOp], float]:
    """The GS1-128 symbol centred across the label, its module a whole number of ``grid_mm``
    (printer dots) and at most 0.5 mm, then its interpretation line. Returns the ops and the
    top of the barcode block. Raises ValueError if the symbol cannot fit."""
    modules = gs1_128.modules(elements)
    dots = int(min(CASE_SIZE.width_mm - 2, MAX_MODULE_MM * modules) / modules / grid_mm)
    if dots < 1:
        raise ValueError("the GS1-128 data is too long for the label")
    module = dots * grid_mm
    x = (CASE_SIZE.width_mm - modules * module) / 2
    hri = gs1_128.human_readable(elements)
    hri_pt = 7.0
    hri_base = CASE_SIZE.height_mm - MARGIN
    bars_top = hri_base - ASCENT * hri_pt * PT_MM - 0.8 - BAR_HEIGHT_MM
    bars_top = max(bars_top, top)
    ops: list[DrawOp] = list(gs1_128.bar_ops(elements, x, bars_top, module, BAR_HEIGHT_MM))
    width = METRICS.width(hri, hri_pt, False)
    ops.append(_text((CASE_SIZE.width_mm - width) / 2, hri_base, hri, hri_pt))
    return ops, bars_top


def compose_case(content: CaseContent, grid_mm: float) -> Layout:
    """The layout of a case or pallet label, QR modules and bars on the ``grid_mm`` grid."""
    ops: list[DrawOp] = []
    right = CASE_SIZE.width_mm - MARGIN
    title_right = right
    if content.voice_pick:
        box, title_right = voice_pick_ops(content.voice_pick, right, MARGIN)
        ops += box
        title_right -= 2
    title_pt = 14.0
    title = _fit(content.title, title_right - MARGIN, title_pt, True)
    ops.append(_text(MARGIN, MARGIN + ASCENT * title_pt * PT_MM, title, title_pt, bold=True))
    bars, bars_top = barcode_ops(content.elements, 0, grid_mm)
    ops += bars
    # The QR at the right, between the header and the barcode.
    qr_top = MARGIN + (12.0 if content.voice_pick else 8.0)
    matrix = qr_matrix(content.qr_payload)
    side = bars_top - 1.0 - qr_top
    per = len(matrix) + 2 * QUIET_MODULES
    module = max(1, int(side / per / grid_mm)) * grid_mm
    qr_left = right - per * module + QUIET_MODULES * module
    ops.append(QrOp(qr_left, qr_top, module, matrix))
    # The rows at the left.
    body_pt = 8.0
    step = body_pt * PT_MM * 1.25
    text_right = qr_left - 1.0
    baseline = qr_top + ASCENT * body_pt * PT_MM
    rows = list(content.lines)
    if content.status_note:
        rows.insert(0, ("", content.status_note))
    for label, value in rows:
        if baseline > bars_top - 1.0:
            break
        prefix = label + colon(label) if label else ""
        prefix_w = METRICS.width(prefix, body_pt, False)
        if prefix:
            ops.append(_text(MARGIN, baseline, prefix, body_pt))
        ops.append(
            _text(MARGIN + prefix_w, baseline, _fit(value, text_right - MARGIN - prefix_w, body_pt), body_pt)
        )
        baseline += step
    return Layout(CASE_SIZE, tuple(ops), body_pt, "case", (), False)


def case_image(content: CaseContent, dpi: int = 300) -> Image.Image:
    """One case or pallet label as a 1-bit image (0 = ink) at the printer's resolution: what
    the PNG holds and the printer formats (:mod:`.printers`) carry."""
    check_dpi(dpi)
    return _one_bit(_raster(compose_case(content, 25.4 / dpi), dpi))


def case_png(content: CaseContent, dpi: int = 300) -> bytes:
    """One case or pallet label as a 1-bit PNG at the printer's resolution."""
    return _png_bytes(case_image(content, dpi), dpi)


def case_pdf(content: CaseContent, copies: int = 1) -> bytes:
    """Vector PDF, one label per page at 100x50 mm, ``copies`` pages."""
    check_copies(copies)
    layout = compose_case(content, 25.4 / PDF_GRID_DPI)
    return _pdf(layout, (CASE_SIZE.width_mm, CASE_SIZE.height_mm), [[(0.0, 0.0)]] * copies)
