"""Server-rendered SVG for people: the trace graph and bar charts (pure, no JavaScript)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from html import escape
from typing import Any

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
    return (
        f'<svg class="graph" viewBox="0 0 {width} {height}" width="{width}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


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
    name = escape(batch["product_name"][:12])
    detail = escape(f"{batch['trace_code'][:4]}… · {batch['quantity']} {batch['unit']}")
    return (
        f'<g><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{2 if root else 1}"/>'
        f'<text x="{x + 8}" y="{y + 19}" font-size="13" font-weight="600">{name}</text>'
        f'<text x="{x + 8}" y="{y + 37}" font-size="11" fill="#444">{detail}</text></g>'
    )


def _edge(link: dict[str, Any], where: dict[str, tuple[int, int]], direction: str) -> str:
    start, end = (link["from"], link["to"]) if direction == "forward" else (link["to"], link["from"])
    (x1, y1), (x2, y2) = where[start], where[end]
    x1, y1, x2, y2 = x1 + NODE_W, y1 + NODE_H // 2, x2, y2 + NODE_H // 2
    label = escape(f"{link['consumed'] or ''}")
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#555" stroke-width="1.2"/>'
        f'<text x="{(x1 + x2) / 2:.0f}" y="{(y1 + y2) / 2 - 3:.0f}" font-size="10" fill="#555" '
        f'text-anchor="middle">{label}</text>'
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
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" fill="{color}"/>'
            f'<text x="{x + bar / 2:.1f}" y="{y - 2:.1f}" font-size="10" text-anchor="middle">'
            f'{value:g}{suffix}</text><text x="{x + bar / 2:.1f}" y="{height - 8}" font-size="9" '
            f'text-anchor="middle" fill="#555">{escape(key)}</text>'
        )
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )
