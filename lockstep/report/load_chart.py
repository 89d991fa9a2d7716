"""The load flow's chart (an SVG for Allure): p95 and error rate against the offered rate, per step, for
the gateway, the legacy and the token service; the budget, the contract's rate and the knee marked."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

__all__ = ["load_chart"]

SERIES = (("gateway", "gateway", "#d9822b"), ("legacy", "legacy", "#4a78b5"), ("token", "token service", "#3a9d5d"))
_LEFT, _RIGHT, _TOP, _PANEL, _GAP = 64, 130, 30, 150, 46


def load_chart(figures: dict[str, Any], width: int = 720) -> str:
    """`figures`: lockstep.load.judge.load_figures (steps with gateway/legacy/token figures, knee, budget)."""
    steps = figures.get("steps") or []
    height = _TOP + 2 * _PANEL + _GAP + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<text x="{_LEFT}" y="16" font-size="13">auth path under load: p95 and errors against the offered rate '
           f'(requests/s per target)</text>']
    if not steps:
        out += [f'<text x="{_LEFT}" y="{_TOP + 40}">no step was measured</text>', "</svg>"]
        return "\n".join(out)
    span = width - _LEFT - _RIGHT

    def x(i: int) -> float:
        return round(_LEFT + (span * (i + 0.5) / len(steps)), 1)

    budget = figures.get("budget") or {}
    p95_values = [s[k]["p95_ms"] for s in steps for k, _, _ in SERIES if s.get(k) and s[k]["requests"]]
    p95_top = _nice_top(max([*p95_values, budget.get("p95_ms") or 0, 1.0]))
    err_values = [s[k]["error_rate"] for s in steps for k, _, _ in SERIES if s.get(k) and s[k]["requests"]]
    err_top = _nice_top(max([*err_values, budget.get("error_rate") or 0, 0.01]) * 100) / 100
    panels = ((_TOP, "p95, ms", "p95_ms", p95_top, budget.get("p95_ms"), lambda v: f"{v:g}"),
              (_TOP + _PANEL + _GAP, "errors", "error_rate", err_top, budget.get("error_rate"), lambda v: f"{v:.0%}"))
    for top, title, key, limit, line, fmt in panels:
        out += _panel(steps, x, top, title, key, limit, line, fmt, width)
    out += _markers(steps, x, figures, height)
    out += _axis(steps, x, _TOP + 2 * _PANEL + _GAP + 4)
    out.append("</svg>")
    return "\n".join(out)


def _panel(steps: list[dict[str, Any]], x: Callable[[int], float], top: float, title: str, key: str, limit: float,
           budget: float | None, fmt: Callable[[float], str], width: int) -> list[str]:
    def y(v: float) -> float:
        return round(top + _PANEL - _PANEL * min(v, limit) / limit, 1)

    out = [f'<text x="{_LEFT - 8}" y="{top + 4}" text-anchor="end">{fmt(limit)}</text>',
           f'<text x="{_LEFT - 8}" y="{top + _PANEL}" text-anchor="end">0</text>',
           f'<text x="{_LEFT}" y="{top - 6}" font-weight="bold">{html.escape(title)}</text>',
           f'<rect x="{_LEFT}" y="{top}" width="{width - _LEFT - _RIGHT}" height="{_PANEL}" fill="none" stroke="#ccc"/>']
    if budget is not None:
        out += [f'<line x1="{_LEFT}" y1="{y(budget)}" x2="{width - _RIGHT}" y2="{y(budget)}" stroke="#c0392b" '
                f'stroke-dasharray="2 2"/>',
                f'<text x="{width - _RIGHT + 4}" y="{y(budget) + 4}" fill="#c0392b">budget {fmt(budget)}</text>']
    for n, (stream, name, colour) in enumerate(SERIES):
        points = [(x(i), y(s[stream][key])) for i, s in enumerate(steps) if s.get(stream) and s[stream]["requests"]]
        if not points:
            continue
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                   f'points="{" ".join(f"{px},{py}" for px, py in points)}"/>')
        out += [f'<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>' for px, py in points]
        if key == "p95_ms":
            out.append(f'<text x="{width - _RIGHT + 4}" y="{top + 14 + 14 * n}" fill="{colour}">{name}</text>')
    return out


def _markers(steps: list[dict[str, Any]], x: Callable[[int], float], figures: dict[str, Any],
             height: float) -> list[str]:
    out = []
    bottom = _TOP + 2 * _PANEL + _GAP
    for i, step in enumerate(steps):
        if step["rate"] == figures.get("rate"):
            out += [f'<line x1="{x(i)}" y1="{_TOP}" x2="{x(i)}" y2="{bottom}" stroke="#555" stroke-dasharray="5 3"/>',
                    f'<text x="{x(i) + 3}" y="{_TOP + _PANEL + 14}" fill="#555">rate</text>']
        knee = figures.get("knee")
        if knee and knee["step"] == step["index"]:
            out += [f'<line x1="{x(i)}" y1="{_TOP}" x2="{x(i)}" y2="{bottom}" stroke="#c0392b" stroke-width="2"/>',
                    f'<text x="{x(i) + 3}" y="{_TOP + _PANEL + 28}" fill="#c0392b">knee</text>']
    return out


def _axis(steps: list[dict[str, Any]], x: Callable[[int], float], axis: float) -> list[str]:
    out = []
    for i, step in enumerate(steps):
        achieved = (step.get("gateway") or {}).get("achieved_rps")
        shown = f" ({achieved:g})" if achieved is not None and abs(achieved - step["rate"]) > 0.05 * step["rate"] else ""
        out.append(f'<text x="{x(i)}" y="{axis + 12}" text-anchor="middle">{step["rate"]:g}/s{shown}</text>')
    out.append(f'<text x="{_LEFT}" y="{axis + 28}" fill="#777">offered rate per step (achieved, where it fell '
               f'short); the token service gets its share of token requests at each step</text>')
    return out


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude
