"""Latency rendering: the SVG chart of both answer-time distributions per operation, and the terminal lines."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from ..engine.stats import percentile
from .redact import redact

__all__ = ["svg_chart", "latency_lines"]

FLOW = "latency"


def svg_chart(label: str, legacy: Sequence[float], gateway: Sequence[float], p95_budget: float | None = None,
              width: int = 640) -> str:
    """Both distributions as dot strips on one millisecond axis, p50 (solid) and p95 (dashed) marked; the
    budget, when set, drawn from the legacy's p95 (where the gateway's p95 may go)."""
    rows = [("legacy", [s * 1000 for s in legacy], "#4a78b5"), ("gateway", [s * 1000 for s in gateway], "#d9822b")]
    everything = [v for _, values, _ in rows for v in values] or [1.0]
    left, right, top = 70, 20, 34
    limit = max(everything)
    if p95_budget is not None and legacy:
        limit = max(limit, percentile(rows[0][1], 95) + p95_budget)
    step = _nice_step(limit / 5)
    limit = step * math.ceil(limit / step) or step
    span = width - left - right

    def x(ms: float) -> float:
        return round(left + span * ms / limit, 1)

    height = top + 2 * 50 + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<text x="{left}" y="16" font-size="13">{html.escape(redact(label))}: answer time, ms</text>']
    for i, (name, values, colour) in enumerate(rows):
        y = top + 25 + 50 * i
        out.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">{name}</text>')
        out.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#ddd"/>')
        for j, ms in enumerate(values):
            jitter = (j * 7) % 17 - 8
            out.append(f'<circle cx="{x(ms)}" cy="{y + jitter}" r="2.5" fill="{colour}" fill-opacity="0.5"/>')
        if values:
            for q, dash in ((50, ""), (95, ' stroke-dasharray="4 3"')):
                at = x(percentile(values, q))
                out.append(f'<line x1="{at}" y1="{y - 16}" x2="{at}" y2="{y + 16}" stroke="{colour}" '
                           f'stroke-width="2"{dash}/>')
            out.append(f'<text x="{width - right}" y="{y - 18}" text-anchor="end" fill="{colour}">'
                       f'p50 {percentile(values, 50):.1f} · p95 {percentile(values, 95):.1f} · n {len(values)}</text>')
    if p95_budget is not None and legacy:
        at = x(percentile(rows[0][1], 95) + p95_budget)
        out.append(f'<line x1="{at}" y1="{top}" x2="{at}" y2="{top + 100}" stroke="#c0392b" stroke-dasharray="2 2"/>')
        out.append(f'<text x="{at + 3}" y="{top + 8}" fill="#c0392b">p95 budget</text>')
    axis = top + 100 + 4
    out.append(f'<line x1="{left}" y1="{axis}" x2="{width - right}" y2="{axis}" stroke="#888"/>')
    tick = 0.0
    while tick <= limit + 1e-9:
        out.append(f'<line x1="{x(tick)}" y1="{axis}" x2="{x(tick)}" y2="{axis + 4}" stroke="#888"/>')
        out.append(f'<text x="{x(tick)}" y="{axis + 16}" text-anchor="middle">{tick:g}</text>')
        tick += step
    out.append("</svg>")
    return "\n".join(out)


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


# ---------------------------------------------------------------- the terminal's lines

def latency_lines(figures: dict[str, Any]) -> list[str]:
    rows = {op: f for op, f in (figures.get(FLOW) or {}).items() if "overhead_p95_ms" in f}
    if not rows:
        return []
    worst_op, worst = max(rows.items(), key=lambda kv: kv[1]["overhead_p95_ms"])
    budgets = {f"{k.split('_')[0]} {v:g} ms" for f in rows.values() for k, v in f.get("budget", {}).items()}
    over = sorted(op for op, f in rows.items() if f.get("verdict") == "over budget")
    lines = [f"latency (gateway minus legacy): {len(rows)} operations measured; largest p95 overhead "
             f"{worst['overhead_p95_ms']:+g} ms ({worst_op}); "
             + (f"budget {', '.join(sorted(budgets))}: {len(over)} over" if budgets else "no budget (figures only)")]
    for op in over:
        judged = rows[op].get("confirmation", rows[op])
        lines.append(f"  over budget  {op}: p50 {judged['overhead_p50_ms']:+g} ms, p95 {judged['overhead_p95_ms']:+g} ms")
    return [redact(line) for line in lines]
