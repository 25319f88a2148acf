"""A temperature chart per leg as inline SVG: server-rendered, no JavaScript, a few hundred bytes.

Pure: readings and the allowed range in, an SVG string out (the caller marks it safe).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from traceapp import svg

Points = list[tuple[datetime, Decimal]]
Allowed = tuple[Decimal | None, Decimal | None] | None
XScale = Callable[[datetime], float]
YScale = Callable[[float], float]

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_Y = 320, 120, 34, 8, 12
MAX_POINTS = 240


def leg_svg(
    points: Sequence[tuple[datetime, Decimal]], allowed: Allowed, *, label: str, time_format: str = "%H:%M"
) -> str:
    """A line chart of one leg's readings with the allowed band shaded and excursions in red."""
    if len(points) < 2:
        return ""
    series = _thin(sorted(points))
    low, high = _bounds(series, allowed)
    x, y = _scales(series, low, high)
    parts = [
        _band(allowed, y, low, high),
        _line(series, x, y),
        _outside(series, allowed, x, y),
        _axis_labels(series, low, high, y, time_format),
    ]
    return svg.document(parts, size=(WIDTH, HEIGHT), css_class="chart", width="100%", label=label)


def _thin(series: Points) -> Points:
    """At most MAX_POINTS, keeping each bucket's extreme so no excursion disappears."""
    if len(series) <= MAX_POINTS:
        return series
    size = len(series) / MAX_POINTS
    buckets = [series[int(i * size) : int((i + 1) * size)] for i in range(MAX_POINTS)]
    return [max(b, key=lambda p: abs(p[1])) for b in buckets if b]


def _bounds(series: Points, allowed: Allowed) -> tuple[float, float]:
    values = [float(v) for _t, v in series]
    if allowed:
        values += [float(v) for v in allowed if v is not None]
    low, high = min(values) - 1, max(values) + 1
    return low, high


def _scales(series: Points, low: float, high: float) -> tuple[XScale, YScale]:
    start, end = series[0][0], series[-1][0]
    span = max((end - start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return PAD_LEFT + (moment - start).total_seconds() / span * (WIDTH - PAD_LEFT - PAD_RIGHT)

    def y(value: float) -> float:
        return PAD_Y + (high - value) / (high - low) * (HEIGHT - 2 * PAD_Y)

    return x, y


def _band(allowed: Allowed, y: YScale, low: float, high: float) -> str:
    if not allowed:
        return ""
    top = y(float(allowed[1])) if allowed[1] is not None else y(high)
    bottom = y(float(allowed[0])) if allowed[0] is not None else y(low)
    return svg.rect(PAD_LEFT, top, WIDTH - PAD_LEFT - PAD_RIGHT, max(bottom - top, 0.0), fill="#e3f1e7")


def _line(series: Points, x: XScale, y: YScale) -> str:
    points = [(x(t), y(float(v))) for t, v in series]
    return svg.polyline(points, fill="none", stroke="#1b1f23", stroke_width=1.5)


def _outside(series: Points, allowed: Allowed, x: XScale, y: YScale) -> str:
    if not allowed:
        return ""
    low, high = allowed
    dots = [(t, v) for t, v in series if (low is not None and v < low) or (high is not None and v > high)]
    return "".join(svg.circle(x(t), y(float(v)), 2.5, fill="#b3261e") for t, v in dots)


def _axis_labels(series: Points, low: float, high: float, y: YScale, time_format: str) -> str:
    start, end = series[0][0].strftime(time_format), series[-1][0].strftime(time_format)
    return (
        svg.text(2, y(high - 1) + 3, f"{high - 1:.0f}°C", font_size=10, fill="#555")
        + svg.text(2, y(low + 1) + 3, f"{low + 1:.0f}°C", font_size=10, fill="#555")
        + svg.text(PAD_LEFT, HEIGHT - 1, start, font_size=10, fill="#555")
        + svg.text(WIDTH - PAD_RIGHT, HEIGHT - 1, end, text_anchor="end", font_size=10, fill="#555")
    )
