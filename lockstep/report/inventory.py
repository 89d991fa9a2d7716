"""The route inventory's terminal lines: one for the inventory, then one per route that needs a look."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .redact import redact

__all__ = ["inventory_lines", "MISSING", "HIDDEN"]

FLOW = "routes"
MISSING = (404, 405)  # what a gateway answers for a route it does not have
HIDDEN = (403, 404)  # what a public gateway may answer for a private path


def inventory_lines(figures: dict[str, Any]) -> list[str]:
    """One line for the inventory, then one per operation not routed, private path exposed, alias differing."""
    rows = figures.get(FLOW) or {}
    if not rows:
        return []
    by_kind: dict[str, Counter[str]] = {}
    for row in rows.values():
        by_kind.setdefault(row.get("kind", "operation"), Counter())[row.get("verdict", "?")] += 1
    parts = [f"{title} {sum(by_kind[kind].values())} (" + ", ".join(f"{n} {v}" for v, n in sorted(by_kind[kind].items()))
             + ")" for kind, title in (("operation", "operations"), ("private", "private paths"), ("alias", "aliases"))
             if kind in by_kind]
    lines = ["routes: " + "; ".join(parts)]
    for key, row in sorted(rows.items()):
        if row.get("verdict") in ("routed", "not reachable", "like its new path"):
            continue
        gateway = row.get("gateway")
        if isinstance(gateway, dict):  # a private path's variants: show those the gateway serves
            gateway = ", ".join(f"{what}: {status}" for what, status in gateway.items() if status not in HIDDEN)
        lines.append(f"  {row.get('verdict', '?'):>12}  {key}  (legacy {row.get('legacy')}; gateway {gateway})")
    return [redact(line) for line in lines]
