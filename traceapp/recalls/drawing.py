"""Server-rendered SVG for people: the trace graph and bar charts (pure, no JavaScript)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from traceapp import svg
from traceapp.certificates.models import Unit
from traceapp.certificates.texts import quantity_text  # the unit in the page's language

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 150, 46, 40, 14, 10


def trace_svg(trace: dict[str, Any]) -> str:
    """The trace as columns by distance from the root, arrows labelled with quantities."""
    layers = _layers(trace)
    if not layers:
        return ""
    columns = max(layers.values()) + 1
    rows: dict[int, list[str]] = defaultdict(list)
    for code, layer in sorted(layers.items(), key=lambda kv: (kv[1], kv[0])):
        rows[layer].append(code)
    where = {
        code: (PAD + layer * (NODE_W + GAP_X), PAD + i * (NODE_H + GAP_Y))
        for layer, codes in rows.items()
        for i, code in enumerate(codes)
    }
    width = PAD * 2 + columns * NODE_W + (columns - 1) * GAP_X
    height = PAD * 2 + max(len(c) for c in rows.values()) * (NODE_H + GAP_Y)
    batches = {b["trace_code"]: b for b in trace["batches"]}
    parts = [
        _edge(link, where, trace["direction"])
        for link in trace["links"]
        if link["from"] in where and link["to"] in where
    ]
    parts += [_node(batches[code], x, y, code == trace["root"]) for code, (x, y) in where.items()]
    return svg.document(parts, size=(width, height), css_class="graph", width=width)


def _layers(trace: dict[str, Any]) -> dict[str, int]:
    """Breadth-first distance of each batch from the root along the trace's direction."""
    forward = trace["direction"] == "forward"
    nexts: dict[str, list[str]] = defaultdict(list)
    for link in trace["links"]:
        a, b = (link["from"], link["to"]) if forward else (link["to"], link["from"])
        nexts[a].append(b)
    layers, queue = {trace["root"]: 0}, deque([trace["root"]])
    while queue:
        code = queue.popleft()
        for following in nexts[code]:
            if following not in layers:
                layers[following] = layers[code] + 1
                queue.append(following)
    return layers


def _node(batch: dict[str, Any], x: int, y: int, root: bool) -> str:
    fill = "#fbe3e1" if batch.get("recalled") or batch.get("revoked") else "#e7efe9"
    stroke = "#0b6b3a" if root else "#9bb9a6"
    detail = f"{batch['trace_code'][:4]}… · {quantity_text(Decimal(batch['quantity']), Unit(batch['unit']))}"
    return svg.group(
        [
            svg.rect(x, y, NODE_W, NODE_H, rx=6, fill=fill, stroke=stroke, stroke_width=2 if root else 1),
            svg.text(x + 8, y + 19, batch["product_name"][:12], font_size=13, font_weight=600),
            svg.text(x + 8, y + 37, detail, font_size=11, fill="#444"),
        ]
    )


def _edge(link: dict[str, Any], where: dict[str, tuple[int, int]], direction: str) -> str:
    start, end = (link["from"], link["to"]) if direction == "forward" else (link["to"], link["from"])
    (x1, y1), (x2, y2) = where[start], where[end]
    x1, y1, x2, y2 = x1 + NODE_W, y1 + NODE_H // 2, x2, y2 + NODE_H // 2
    label = f"{link['consumed'] or ''}"
    middle = (round((x1 + x2) / 2), round((y1 + y2) / 2 - 3))
    return svg.line(x1, y1, x2, y2, stroke="#555", stroke_width=1.2) + svg.text(
        *middle, label, font_size=10, fill="#555", text_anchor="middle"
    )


def bar_chart(
    values: Sequence[tuple[str, float]], *, label: str, color: str = "#0b6b3a", suffix: str = ""
) -> str:
    """A small bar chart (one bar per label), values printed on the bars."""
    if not values:
        return ""
    width, height, bottom = 320, 140, 22
    top = max(v for _k, v in values) or 1
    bar = (width - 10) / len(values)
    parts = []
    for i, (key, value) in enumerate(values):
        h = (height - bottom - 14) * value / top
        x, y = 5 + i * bar, height - bottom - h
        parts += [
            svg.rect(x + 2, y, bar - 4, h, fill=color),
            svg.text(x + bar / 2, y - 2, f"{value:g}{suffix}", font_size=10, text_anchor="middle"),
            svg.text(x + bar / 2, height - 8, key, font_size=9, text_anchor="middle", fill="#555"),
        ]
    return svg.document(parts, size=(width, height), css_class="chart", width="100%", label=label)
