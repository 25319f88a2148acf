"""Render certificates: PNG for thermal printers and chat apps, vector PDF.

One layout (see :func:`traceapp.labels.compose.compose`) is computed in
millimetres and executed by two small back ends, Pillow and reportlab, so a
label looks the same in every format. Both use the bundled Noto Sans SC
subset in ``fonts/``; nothing depends on system fonts.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFont
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from . import qr
from .compose import Layout, compose
from .layouts import (
    LabelContent,
    LabelSize,
    check_copies,
    check_dpi,
    label_size,
    sheet_layout,
    sheet_positions,
)
from .ops import QUIET_MODULES, ImageOp, Matrix, QrOp, RectOp, TextOp
from .text import HEADING, PT_MM

__all__ = [
    "HEADING",
    "LabelContent",
    "font_path",
    "label_image",
    "label_pdf",
    "label_png",
    "layout_label",
    "missing_glyphs",
    "qr_matrix",
    "qr_png",
    "share_png",
    "sheet_pdf",
]

FONT_DIR = Path(__file__).with_name("fonts")
_FONT_FILES = {False: "NotoSansSC-Subset-Regular.ttf", True: "NotoSansSC-Subset-Bold.ttf"}
_PDF_FONT_NAMES = {False: "TraceNotoSansSC", True: "TraceNotoSansSC-Bold"}
PDF_GRID_DPI = 300  # PDF QR modules sit on this grid (and so on a 600 dpi one)
SHARE_DPI = 300
INK_THRESHOLD = 128  # 1-bit output: pixels at least half covered become black


# --------------------------------------------------------------------------
# Fonts and metrics
# --------------------------------------------------------------------------


def font_path(bold: bool = False) -> Path:
    """Path of the bundled TrueType face (Bold covers only short fixed strings)."""
    return FONT_DIR / _FONT_FILES[bold]


@cache
def _pdf_font(bold: bool) -> str:
    """Register a bundled face with reportlab (once) and return its name."""
    name = _PDF_FONT_NAMES[bold]
    pdfmetrics.registerFont(TTFont(name, str(font_path(bold))))
    return name


@cache
def _cmap(bold: bool) -> frozenset[int]:
    """Code points a bundled face can render."""
    return frozenset(pdfmetrics.getFont(_pdf_font(bold)).face.charToGlyph)


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` the bundled regular face cannot render (whitespace
    is always printable: the layout turns it into spaces)."""
    cmap = _cmap(False)
    return {ch for ch in text if ord(ch) not in cmap and not ch.isspace()}


@lru_cache(maxsize=65536)
def _em_width(text: str, bold: bool) -> float:
    """Advance width of ``text`` in em."""
    return pdfmetrics.stringWidth(text, _pdf_font(bold), 1.0)


class BundledMetrics:
    """:class:`~traceapp.labels.text.TextMetrics` of the bundled faces,
    using the advance widths reportlab writes into the PDF."""

    def width(self, text: str, size_pt: float, bold: bool) -> float:
        """Advance width of ``text`` in mm."""
        return _em_width(text, bold) * size_pt * PT_MM

    def measurer(self, size_pt: float, bold: bool) -> Callable[[str], float]:
        """``width`` for one size and face, as one call."""
        em_width = _em_width
        return lambda text: em_width(text, bold) * size_pt * PT_MM

    def can_bold(self, text: str) -> bool:
        """True if the (small) bold subset has every character of ``text``."""
        cmap = _cmap(True)
        return all(ord(ch) in cmap for ch in text)


METRICS = BundledMetrics()


# --------------------------------------------------------------------------
# QR
# --------------------------------------------------------------------------


def qr_matrix(payload: str) -> Matrix:
    """Module matrix (True = dark, no quiet zone) of the smallest QR symbol for
    ``payload``: level Q when that needs no larger version than level M (built once,
    at that level: see :mod:`.qr`)."""
    return qr.symbol(payload)


def dark_runs(matrix: Matrix) -> Iterator[tuple[int, int, int]]:
    """Horizontal runs of dark modules as (row, first column, length)."""
    for row, modules in enumerate(matrix):
        start = None
        for col, dark in enumerate((*modules, False)):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                yield row, start, col - start
                start = None


def qr_png(payload: str, *, box_px: int = 8, border: int = QUIET_MODULES) -> bytes:
    """The bare QR code as a 1-bit PNG, ``box_px`` pixels per module."""
    if box_px < 1 or border < 0:
        raise ValueError("box_px must be >= 1 and border >= 0")
    matrix = qr_matrix(payload)
    side = (len(matrix) + 2 * border) * box_px
    image = Image.new("1", (side, side), 1)
    draw = ImageDraw.Draw(image)
    for row, col, length in dark_runs(matrix):
        x, y = (col + border) * box_px, (row + border) * box_px
        draw.rectangle((x, y, x + length * box_px - 1, y + box_px - 1), fill=0)
    return _png_bytes(image, None)


# --------------------------------------------------------------------------
# Raster back end (Pillow)
# --------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _pil_font(bold: bool, size_px: float) -> ImageFont.FreeTypeFont:
    """A bundled face at ``size_px`` pixels per em."""
    return ImageFont.truetype(str(font_path(bold)), size=size_px)


GLYPH_STEP = 16  # glyphs are rendered at 1/16-pixel offsets (and kept: see _glyph)


@lru_cache(maxsize=8192)
def _glyph(bold: bool, size_px: float, char: str, start: tuple[float, float]) -> tuple[Any, tuple[int, int]]:
    """The antialiased mask of one glyph, baseline-left at ``start`` (pixel fractions), and the
    offset of its top-left; what ``ImageDraw.text`` renders, kept because the same glyphs come
    back on every label (headings, field names, digits)."""
    return _pil_font(bold, size_px).getmask2(char, "L", anchor="ls", start=start)


def _raster_text(draw: ImageDraw.ImageDraw, op: TextOp, scale: float) -> None:
    """One line of text, glyph by glyph at the layout's (the PDF's) advances:
    FreeType rounds advances to whole pixels, which would drift a line off its
    measured width by several pixels. Each glyph lands within 1/32 pixel of its place."""
    size_px = round(op.size_pt * PT_MM * scale, 2)
    fill = 255 if op.white else 0
    y = round(op.y_mm * scale * GLYPH_STEP) / GLYPH_STEP
    row, y_start = int(y), y - int(y)
    x = op.x_mm
    for char in op.text:
        if not char.isspace():
            at = round(x * scale * GLYPH_STEP) / GLYPH_STEP
            column = int(at)
            mask, (dx, dy) = _glyph(op.bold, size_px, char, (at - column, y_start))
            draw.draw.draw_bitmap((column + dx, row + dy), mask, fill)
        x += METRICS.width(char, op.size_pt, op.bold)


def _raster_rect(draw: ImageDraw.ImageDraw, op: RectOp, scale: float) -> None:
    """Filled rectangle, or an outline of at least one pixel drawn inside the box."""
    x0, y0, x1, y1 = (round(v * scale) for v in op.box)
    if op.stroke_mm:
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=0, width=max(1, round(op.stroke_mm * scale)))
    else:
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=0)


def _raster_qr(draw: ImageDraw.ImageDraw, op: QrOp, scale: float) -> None:
    """QR modules as whole-pixel squares (the layout snapped them to the pixel grid)."""
    px = round(op.module_mm * scale)
    x0 = round(op.x_mm * scale) + QUIET_MODULES * px
    y0 = round(op.y_mm * scale) + QUIET_MODULES * px
    for row, col, length in dark_runs(op.matrix):
        x, y = x0 + col * px, y0 + row * px
        draw.rectangle((x, y, x + length * px - 1, y + px - 1), fill=0)


@lru_cache(maxsize=16)
def _seal_image(png: bytes) -> Image.Image:
    """A seal as RGBA (a JPEG's, opaque)."""
    return Image.open(io.BytesIO(png)).convert("RGBA")


def _raster_image(image: Image.Image, op: ImageOp, scale: float) -> None:
    """The seal in grey, darkening what is under it (its transparent parts leave it alone)."""
    x0, y0, x1, y1 = (round(v * scale) for v in op.box)
    if x1 <= x0 or y1 <= y0:
        return
    seal = _seal_image(op.png).resize((x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
    grey = Image.new("L", seal.size, 255)
    grey.paste(seal.convert("L"), mask=seal.getchannel("A"))
    box = (x0, y0, x1, y1)
    image.paste(ImageChops.darker(image.crop(box), grey), box)


def _raster(layout: Layout, dpi: int) -> Image.Image:
    """Draw a layout as an antialiased greyscale image."""
    scale = dpi / 25.4
    size = (round(layout.size.width_mm * scale), round(layout.size.height_mm * scale))
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for op in layout.ops:
        match op:
            case TextOp():
                _raster_text(draw, op, scale)
            case RectOp():
                _raster_rect(draw, op, scale)
            case QrOp():
                _raster_qr(draw, op, scale)
            case ImageOp():
                _raster_image(image, op, scale)
    return image


def _one_bit(image: Image.Image) -> Image.Image:
    """Threshold greyscale to pure black and white (no dithering) for thermal heads."""
    return image.point([0 if v < INK_THRESHOLD else 255 for v in range(256)], "1")


def _png_bytes(image: Image.Image, dpi: int | None) -> bytes:
    """Encode a 1-bit or greyscale PNG (its resolution recorded when given) with Pillow at zlib
    level 1: 0.6 ms for a 40x30 label at 203 dpi against 1.0 at the default level and 3 with
    ``optimize``, for files about 5 % larger (labels are sent to a printer, not stored)."""
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1, **({"dpi": (dpi, dpi)} if dpi else {}))
    return out.getvalue()


# --------------------------------------------------------------------------
# PDF back end (reportlab)
# --------------------------------------------------------------------------


def _pdf_text(canvas: Canvas, op: TextOp, height_mm: float) -> None:
    """One line of text with the embedded face."""
    canvas.setFillGray(1 if op.white else 0)
    canvas.setFont(_pdf_font(op.bold), op.size_pt)
    canvas.drawString(op.x_mm * mm, (height_mm - op.y_mm) * mm, op.text)


def _pdf_rect(canvas: Canvas, op: RectOp, height_mm: float) -> None:
    """Filled rectangle, or an outline stroked inside the box."""
    inset = op.stroke_mm / 2
    x, y = (op.x_mm + inset) * mm, (height_mm - op.y_mm - op.h_mm + inset) * mm
    w, h = (op.w_mm - op.stroke_mm) * mm, (op.h_mm - op.stroke_mm) * mm
    canvas.setFillGray(0)
    canvas.setStrokeGray(0)
    canvas.setLineWidth(op.stroke_mm * mm)
    canvas.rect(x, y, w, h, stroke=int(op.stroke_mm > 0), fill=int(op.stroke_mm == 0))


def _pdf_qr(canvas: Canvas, op: QrOp, height_mm: float) -> None:
    """QR modules as one filled path of rectangles: vector, and no seams between them. Drawn
    in module units (one ``cm`` to place and scale them), so each run is four small integers
    written by us rather than four points formatted by reportlab."""
    m = op.module_mm
    left, top = (op.x_mm + QUIET_MODULES * m) * mm, (height_mm - op.y_mm - QUIET_MODULES * m) * mm
    canvas.setFillGray(0)
    canvas.addLiteral(f"q {m * mm:.6f} 0 0 {-m * mm:.6f} {left:.4f} {top:.4f} cm")
    canvas.addLiteral(_qr_path(op.matrix))
    canvas.addLiteral("Q")


@lru_cache(maxsize=64)
def _qr_path(matrix: Matrix) -> str:
    """The dark runs of ``matrix`` as PDF rectangles in module units (y down), filled."""
    return " ".join(f"{col} {row} {length} 1 re" for row, col, length in dark_runs(matrix)) + " f"


def _pdf_image(canvas: Canvas, op: ImageOp, height_mm: float) -> None:
    """The seal in its own colours, its transparency kept (a soft mask)."""
    reader = ImageReader(_seal_image(op.png))
    y = (height_mm - op.y_mm - op.h_mm) * mm
    canvas.drawImage(reader, op.x_mm * mm, y, op.w_mm * mm, op.h_mm * mm, mask="auto")


def _pdf_label_form(canvas: Canvas, layout: Layout) -> str:
    """Draw the label once as a form XObject that every copy reuses."""
    size = layout.size
    canvas.beginForm("label", 0, 0, size.width_mm * mm, size.height_mm * mm)
    for op in layout.ops:
        match op:
            case TextOp():
                _pdf_text(canvas, op, size.height_mm)
            case RectOp():
                _pdf_rect(canvas, op, size.height_mm)
            case QrOp():
                _pdf_qr(canvas, op, size.height_mm)
            case ImageOp():
                _pdf_image(canvas, op, size.height_mm)
    canvas.endForm()
    return "label"


def _pdf(
    layout: Layout, page_mm: tuple[float, float], pages: Sequence[Sequence[tuple[float, float]]]
) -> bytes:
    """A PDF whose pages carry copies of the label at the given top-left positions (mm)."""
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(page_mm[0] * mm, page_mm[1] * mm),
        invariant=1,
        initialFontName=_pdf_font(False),
    )
    canvas.setTitle(HEADING)
    canvas.setCreator("traceapp")
    form = _pdf_label_form(canvas, layout)
    for positions in pages:
        for x, y in positions:
            canvas.saveState()
            canvas.translate(x * mm, (page_mm[1] - y - layout.size.height_mm) * mm)
            canvas.doForm(form)
            canvas.restoreState()
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def _compose(content: LabelContent, size: LabelSize, dpi: int) -> Layout:
    """Layout with QR modules on the ``dpi`` pixel grid."""
    return compose(content, size, qr_matrix(content.qr_payload), METRICS, 25.4 / dpi)


def layout_label(content: LabelContent, size: str = "60x40", dpi: int = PDF_GRID_DPI) -> Layout:
    """The layout label_png/label_pdf draw; its ``truncated`` and ``overflow``
    tell whether text had to be shortened or dropped to fit."""
    check_dpi(dpi)
    return _compose(content, label_size(size), dpi)


def label_image(content: LabelContent, size: LabelSize, dpi: int) -> Image.Image:
    """One label as a 1-bit image (mode ``"1"``, 0 = ink) at ``dpi``: what the PNG holds and
    what the printer formats (:mod:`.printers`) carry as their bitmap."""
    check_dpi(dpi)
    return _one_bit(_raster(_compose(content, size, dpi), dpi))


def label_png(content: LabelContent, size: str = "60x40", dpi: int = 300) -> bytes:
    """One label as a 1-bit PNG at the printer's resolution (dpi in the file)."""
    return _png_bytes(label_image(content, label_size(size), dpi), dpi)


def label_pdf(content: LabelContent, size: str = "60x40", copies: int = 1) -> bytes:
    """Vector PDF, one label per page, page size = label size, ``copies`` pages."""
    check_copies(copies)
    layout = layout_label(content, size)
    page = (layout.size.width_mm, layout.size.height_mm)
    return _pdf(layout, page, [[(0.0, 0.0)]] * copies)


def sheet_pdf(content: LabelContent, sheet: str = "a4-3x8", copies: int | None = None) -> bytes:
    """Labels on die-cut sheets; ``copies`` defaults to one full sheet."""
    grid = sheet_layout(sheet)
    copies = grid.per_page if copies is None else copies
    check_copies(copies)
    slots = sheet_positions(grid)
    pages = [slots[: copies - start] for start in range(0, copies, grid.per_page)]
    layout = _compose(content, grid.label, PDF_GRID_DPI)
    return _pdf(layout, (grid.page_w_mm, grid.page_h_mm), pages)


def share_png(content: LabelContent) -> bytes:
    """The framed e-certificate image for chat apps (greyscale, antialiased)."""
    layout = layout_label(content, "share", SHARE_DPI)
    return _png_bytes(_raster(layout, SHARE_DPI), SHARE_DPI)
