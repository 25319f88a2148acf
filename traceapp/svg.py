"""SVG primitives shared by every drawing (temperature charts, the trace graph, bar charts).

Pure: numbers and text in, markup out; the caller marks the result safe. Attribute values and
text are escaped here, so no drawing has to remember to. Numbers are written as they come, an
int as it is and a float to one decimal (a tenth of a unit is finer than any screen shows, and
every byte counts on the public page). Keyword names become attribute names: ``stroke_width``
is ``stroke-width`` and ``class_`` is ``class``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from html import escape

Number = int | float
Value = Number | str

NAMESPACE = "http://www.w3.org/2000/svg"


def number(value: Number) -> str:
    """An int as it is, a float to one decimal."""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _attributes(attrs: dict[str, Value]) -> str:
    return "".join([_attribute(keyword, value) for keyword, value in attrs.items()])


@lru_cache(maxsize=512, typed=True)
def _attribute(keyword: str, value: Value) -> str:
    # Memoised: a chart repeats the same few styles on every one of a few hundred dots. A pure
    # function of its arguments, so the memo is no state: any process computes the same.
    text = escape(value) if isinstance(value, str) else number(value)
    return f' {keyword.rstrip("_").replace("_", "-")}="{text}"'


def document(
    parts: Iterable[str], *, size: tuple[int, int], css_class: str, width: Value, label: str | None = None
) -> str:
    """The ``<svg>`` element: an image of ``size`` user units shown ``width`` wide."""
    named = _attributes({"class_": css_class, "viewBox": f"0 0 {size[0]} {size[1]}", "width": width})
    labelled = _attributes({"role": "img"} if label is None else {"role": "img", "aria_label": label})
    return f'<svg{named}{labelled} xmlns="{NAMESPACE}">{"".join(parts)}</svg>'


def group(parts: Iterable[str]) -> str:
    """A ``<g>`` around ``parts``."""
    return f"<g>{''.join(parts)}</g>"


def rect(x: Number, y: Number, width: Number, height: Number, **attrs: Value) -> str:
    """A rectangle from its top-left corner."""
    box = f'x="{number(x)}" y="{number(y)}" width="{number(width)}" height="{number(height)}"'
    return f"<rect {box}{_attributes(attrs)}/>"


def line(x1: Number, y1: Number, x2: Number, y2: Number, **attrs: Value) -> str:
    """A straight line."""
    ends = f'x1="{number(x1)}" y1="{number(y1)}" x2="{number(x2)}" y2="{number(y2)}"'
    return f"<line {ends}{_attributes(attrs)}/>"


def polyline(points: Iterable[tuple[float, float]], **attrs: Value) -> str:
    """A line through ``points`` (coordinates to one decimal)."""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline points="{coords}"{_attributes(attrs)}/>'


def circle(cx: Number, cy: Number, r: Number, **attrs: Value) -> str:
    """A dot."""
    return f'<circle cx="{number(cx)}" cy="{number(cy)}" r="{number(r)}"{_attributes(attrs)}/>'


def text(x: Number, y: Number, content: str, **attrs: Value) -> str:
    """Text whose baseline starts at (x, y) (or is centred there, with ``text_anchor``)."""
    return f'<text x="{number(x)}" y="{number(y)}"{_attributes(attrs)}>{escape(content)}</text>'
