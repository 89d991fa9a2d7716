"""The HAR replay's terminal line: what was replayed, what differed, what was left out and why."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from .redact import redact

__all__ = ["har_lines"]

FLOW = "har"


def har_lines(figures: dict[str, Any]) -> list[str]:
    """The terminal's line: what was replayed, what differed, what was left out and why."""
    flow = figures.get(FLOW) or {}
    plan = flow.get("plan")
    if not plan:
        return []
    verdicts = Counter(row["verdict"].split(":")[0] for key, row in flow.items() if key != "plan")
    skipped = verdicts.pop("skipped", 0)
    if not verdicts and not skipped:  # the HAR tests did not run (-m parity, an interrupted run): nothing to say
        return []
    left_out = [f"{n} {reason.split(' (')[0]}" for reason, n in plan["ignored"].items()]
    left_out += [f"{skipped} unsafe for the profile"] if skipped else []
    line = (f"har: {Path(plan['file']).name}: {sum(verdicts.values())} of {plan['entries']} requests replayed ("
            + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())) + ")"
            + (f", {plan['unknown_routes']} unknown route(s)" if plan["unknown_routes"] else "")
            + (f"; left out: {', '.join(left_out)}" if left_out else ""))
    return [redact(line)]
