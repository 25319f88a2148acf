"""Drawing operations: the interface between the layout engine and the back ends.

Positions and sizes are in millimetres, origin top-left, y down. The PNG and
PDF back ends in :mod:`traceapp.labels.render` execute them verbatim, so
both outputs have the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from .text import ASCENT, DESCENT, PT_MM

QUIET_MODULES = 4  # QR quiet zone on every side, in modules

Matrix = tuple[tuple[bool, ...], ...]  # QR modules, True = dark, no quiet zone


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


@dataclass(frozen=True)
class ImageOp:
    """A picture (the producer's seal or signature) as PNG bytes, drawn into its box; its
    transparent parts leave what is under them."""

    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float
    png: bytes

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Bounding box (x0, y0, x1, y1)."""
        return (self.x_mm, self.y_mm, self.x_mm + self.w_mm, self.y_mm + self.h_mm)


DrawOp = TextOp | RectOp | QrOp | ImageOp
