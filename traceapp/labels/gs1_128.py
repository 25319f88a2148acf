"""GS1-128 barcodes: element strings with FNC1, encoded by reportlab's Code 128.

A GS1-128 symbol is a Code 128 symbol whose first data character is FNC1; a value of variable
length that is not the last one is closed by another FNC1 (GS1 General Specifications 5.4.1,
7.8.5). reportlab's ``Code128`` encodes FNC1 (written ``\\xf1``) and chooses the code sets
(digit pairs in set C), so here we only build the element string and turn the symbol's bar and
space widths into rectangles for the label layout.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.barcode.code128 import Code128

from .ops import RectOp

FNC1 = "\xf1"
QUIET_MODULES = 10  # Code 128 quiet zone on each side, in modules (ISO/IEC 15417)

#: Element strings whose AI starts with these two digits have a predefined length (AI + value),
#: GS1 General Specifications figure 7.8.5-2: no FNC1 follows them.
PREDEFINED_LENGTH = {
    "00": 20, "01": 16, "02": 16, "03": 16, "04": 18, "11": 8, "12": 8, "13": 8, "14": 8,
    "15": 8, "16": 8, "17": 8, "18": 8, "19": 8, "20": 4, "31": 10, "32": 10, "33": 10,
    "34": 10, "35": 10, "36": 10, "41": 16,
}  # fmt: skip


def _fixed(ai: str, value: str) -> bool:
    """Whether ``ai`` + ``value`` is an element string of predefined length."""
    length = PREDEFINED_LENGTH.get(ai[:2])
    return length is not None and len(ai) + len(value) == length


def element_string(pairs: Sequence[tuple[str, str]]) -> str:
    """The symbol's data: FNC1, then each AI and value, an FNC1 after every value that has no
    predefined length unless it is the last. Raises ValueError for no pairs or non-ASCII data."""
    if not pairs:
        raise ValueError("a GS1-128 symbol needs at least one element string")
    data = FNC1
    for i, (ai, value) in enumerate(pairs):
        if not (ai + value).isascii():
            raise ValueError(f"not ASCII: ({ai}){value}")
        data += ai + value
        if i < len(pairs) - 1 and not _fixed(ai, value):
            data += FNC1
    return data


def human_readable(pairs: Sequence[tuple[str, str]]) -> str:
    """The interpretation line printed under the bars: ``(01)09506000134352(10)LOT1``."""
    return "".join(f"({ai}){value}" for ai, value in pairs)


def order(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Element strings of predefined length first (they need no FNC1 after them), each group in
    the order given: the shortest symbol for the same data."""
    return [p for p in pairs if _fixed(*p)] + [p for p in pairs if not _fixed(*p)]


def widths(pairs: Sequence[tuple[str, str]]) -> list[int]:
    """Module widths of the symbol without quiet zones, alternating bar, space, bar, ...,
    starting and ending with a bar (start character to stop pattern)."""
    symbol = Code128(element_string(pairs), quiet=0)
    symbol.validate()
    symbol.encode()
    pattern = symbol.decompose()
    # reportlab's patterns: an upper-case letter is a bar, a lower-case one a space, A = 1.
    return [ord(c.upper()) - ord("A") + 1 for c in pattern]


def modules(pairs: Sequence[tuple[str, str]]) -> int:
    """Width of the symbol in modules, quiet zones included."""
    return sum(widths(pairs)) + 2 * QUIET_MODULES


def bar_ops(
    pairs: Sequence[tuple[str, str]], x_mm: float, y_mm: float, module_mm: float, height_mm: float
) -> list[RectOp]:
    """The bars as filled rectangles; (x_mm, y_mm) is the top-left of the left quiet zone."""
    ops = []
    x = x_mm + QUIET_MODULES * module_mm
    for i, width in enumerate(widths(pairs)):
        if i % 2 == 0:
            ops.append(RectOp(x, y_mm, width * module_mm, height_mm))
        x += width * module_mm
    return ops
