"""What a run counts besides its findings: cases per operation, answer times, figures by flow."""

from __future__ import annotations

from collections import Counter
from typing import Any

__all__ = ["Ledger"]


class Ledger:
    def __init__(self) -> None:
        self.cases: Counter[str] = Counter()
        self.operations: set[str] = set()
        self.figures: dict[str, Any] = {}  # by flow: summary.json's `figures`
        # seconds per answer, by operation and target, from the parity cases already sent (latency flow)
        self.timings: dict[str, dict[str, list[float]]] = {}

    def count_case(self, operation: str) -> None:
        self.cases[operation] += 1
        self.operations.add(operation)

    def record_timing(self, operation: str, legacy: float, gateway: float) -> None:
        entry = self.timings.setdefault(operation, {"legacy": [], "gateway": []})
        entry["legacy"].append(legacy)
        entry["gateway"].append(gateway)

    def flow(self, name: str) -> dict[str, Any]:
        """The figures of one flow (created empty)."""
        return self.figures.setdefault(name, {})
