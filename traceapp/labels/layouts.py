"""Label geometry: sizes, sheets and what goes on a certificate.

Everything here is pure data: :class:`LabelSize` and :class:`SheetLayout`
describe the physical labels, :class:`LabelContent` the (final) text of one
certificate. The layout engine in :mod:`traceapp.labels.compose` turns
both into drawing operations.
"""

from __future__ import annotations

from dataclasses import dataclass

DPI_CHOICES = (203, 300)
RECEIPT_DPI = 203  # receipt printers' heads: 8 dots per mm
MAX_COPIES = 500
#: ESC/POS has no copy count: a receipt job repeats the raster image once per copy (some 60 KB
#: each on 80 mm paper), so its copies stop far lower than ZPL's ^PQ or TSPL's PRINT 1,n.
MAX_RECEIPT_COPIES = 20


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


def _size(name: str, width: float, height: float, title: str = "", framed: bool = False) -> LabelSize:
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


@dataclass(frozen=True)
class ReceiptPaper:
    """A receipt roll: its printable width (the head's dots at 203 dpi) and the profile
    (python-escpos' printer database) of a common printer that takes it."""

    name: str  #: ``58`` or ``80`` (mm of paper)
    label: LabelSize  #: the printable area the receipt is laid out on
    profile: str  #: python-escpos profile, for the head's width in dots


RECEIPT_PAPERS: dict[str, ReceiptPaper] = {
    p.name: p
    for p in (
        # 58 mm rolls: 48 mm printed, 384 dots (the POS-58 class of stall printers).
        ReceiptPaper("58", LabelSize("receipt-58", 48, 72, "58 mm"), "POS-5890"),
        # 80 mm rolls: 72 mm printed, 576 dots.
        ReceiptPaper("80", LabelSize("receipt-80", 72, 80, "80 mm"), "TM-T20II"),
    )
}


def label_size(name: str) -> LabelSize:
    """Look up a label size by name, or raise ValueError."""
    try:
        return LABEL_SIZES[name]
    except KeyError:
        raise ValueError(f"unknown label size {name!r}; choose from {sorted(LABEL_SIZES)}") from None


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


def check_copies(copies: int, limit: int = MAX_COPIES) -> None:
    """Raise ValueError unless 1 <= copies <= limit (MAX_COPIES unless told)."""
    if not 1 <= copies <= limit:
        raise ValueError(f"copies must be between 1 and {limit}, got {copies!r}")


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
# Certificate content
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
    #: The producer's seal or signature image (PNG) and its size in pixels, drawn where the
    #: label has room (``compose.SEAL_MIN_SIDE_MM``).
    seal_png: bytes | None = None
    seal_px: tuple[int, int] | None = None
