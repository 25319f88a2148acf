"""承诺达标合格证 labels: layout, PNG/PDF/printer rendering and the bundled CJK font.

Pure functions only: nothing here imports the rest of traceapp, touches the
database or needs Flask. See :mod:`.layouts` for sizes and geometry,
:mod:`.text` for line breaking, :mod:`.compose` for the layout engine (it
emits the drawing operations of :mod:`.ops`), :mod:`.render` for the
output formats and :mod:`.printers` for the printers' own (ZPL, TSPL, ESC/POS).
"""

from .layouts import DPI_CHOICES, LABEL_SIZES, SHEETS, LabelContent, LabelSize, SheetLayout
from .render import font_path, label_pdf, label_png, missing_glyphs, qr_png, share_png, sheet_pdf

__all__ = [
    "DPI_CHOICES",
    "LABEL_SIZES",
    "SHEETS",
    "LabelContent",
    "LabelSize",
    "SheetLayout",
    "font_path",
    "label_pdf",
    "label_png",
    "missing_glyphs",
    "qr_png",
    "share_png",
    "sheet_pdf",
]
