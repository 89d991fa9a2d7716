"""reports/summary.json (for CI and dashboards) and the terminal table; both redacted."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

from ..findings import Finding
from .redact import redact

__all__ = ["build_summary", "write_summary", "terminal_lines"]


def build_summary(*, findings: list[Finding], cases: dict[str, int], operations: list[str], totals: dict[str, int],
                  settings: Any, interrupted: bool, exit_status: int, unused_ignores: list[str],
                  lost: list[str] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    failing = [f for f in findings if f.severity == "failure"]
    notes = [f for f in findings if f.severity != "failure"]
    return {
        "lockstep": 1,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "profile": getattr(settings, "profile_name", None),
        "safe_methods_only": bool(settings and settings.profile.methods
                                  and set(settings.profile.methods) <= {"GET", "HEAD", "OPTIONS"}),
        "seed": getattr(settings, "seed", None),
        "targets": {"legacy": getattr(settings, "legacy_url", None), "gateway": getattr(settings, "gateway_url", None)},
        "demo_faults": list(getattr(settings, "demo_faults", ())),
        "interrupted": interrupted,
        "exit_status": exit_status,
        "operations": len(operations),
        "cases": sum(cases.values()),
        "cases_by_operation": dict(sorted(cases.items())),
        "totals": totals,
        "by_category": dict(Counter(f"{f.flow}:{f.check}" for f in failing if not f.known)),
        "findings": [_entry(f) for f in failing],
        "notes": [_entry(f) for f in notes],
        "unused_ignores": unused_ignores,
        "lost": lost or [],
        **(extra or {}),
    }


def _entry(f: Finding) -> dict[str, Any]:
    return {"flow": f.flow, "operation": f.operation, "check": f.check, "location": f.location,
            "legacy": f.legacy, "gateway": f.gateway, "known": f.known, "message": f.message,
            "reason": f.reason, "count": f.count, "reproducers": f.reproducers,
            **({"browser": f.browser} if f.browser else {})}


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(redact(json.dumps(summary, indent=2, default=str)) + "\n", encoding="utf-8")
    tmp.replace(path)


def terminal_lines(summary: dict[str, Any], limit: int = 30) -> list[str]:
    findings = summary["findings"]
    failing = [f for f in findings if not f["known"]]
    lines = [f"{'operations':>10} {'cases':>7} {'findings':>9} {'known':>6} {'notes':>6}",
             f"{summary['operations']:>10} {summary['cases']:>7} {len(failing):>9} "
             f"{len(findings) - len(failing):>6} {len(summary['notes']):>6}"]
    if summary["by_category"]:
        lines.append("findings by category: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["by_category"].items())))
    for f in failing[:limit]:
        where = f" at {f['location']}" if f["location"] else ""
        lines.append(f"FINDING [{f['flow']}] {f['operation']}: {f['check']}{where} — {f['message']}")
    if len(failing) > limit:
        lines.append(f"... and {len(failing) - limit} more in reports/summary.json")
    notes = Counter(f"{n['flow']}:{n['check']}" for n in summary["notes"])
    if notes:
        lines.append("notes (not failures): " + ", ".join(f"{k} {v}" for k, v in sorted(notes.items())))
    for rule in summary["unused_ignores"]:
        lines.append(f"unused ignore rule (matches nothing, remove it?): {rule}")
    if summary.get("interrupted"):
        lines.append("the run was interrupted: the summary holds what ran")
    return [redact(line) for line in lines]
