"""A test's verdict from its findings: failing ones fail it, known ones make it xfail, notes pass."""

from __future__ import annotations

import pytest

from ..findings import Finding
from ..report.redact import redact
from .state import ITEM_FINDINGS

__all__ = ["LockstepFailure", "verdict", "failure_text"]


class LockstepFailure(AssertionError):
    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("\n".join(f.headline() for f in findings))
        self.findings = findings


def verdict(item: pytest.Item) -> None:
    """Raise for the item's findings once all its cases ran."""
    found = item.stash.get(ITEM_FINDINGS, [])
    failing = [f for f in found if f.failing]
    if failing:
        raise LockstepFailure(failing)
    known = [f for f in found if f.known and f.severity == "failure"]
    if known:
        pytest.xfail("known difference(s): " + "; ".join(f.headline() for f in known))


def failure_text(findings: list[Finding]) -> str:
    """The report's text for a failed test: one line per finding and its reproducers, redacted."""
    lines = [f"{len(findings)} finding(s):"]
    for f in findings:
        lines.append("  " + f.headline())
        lines += [f"    reproduce ({t}): {c}" for t, c in f.reproducers.items()]
    return redact("\n".join(lines))
