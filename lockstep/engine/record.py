"""Recording a finding: known differences applied, one entry per distinct finding, counts kept."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding, FindingBook, Rules

__all__ = ["Recorder"]


class Recorder:
    """The one place every flow hands its findings to (parity, stateful, HAR, checks, load)."""

    def __init__(self, rules: Rules, book: FindingBook) -> None:
        self.rules, self.book = rules, book

    def record(self, finding: Finding) -> bool:
        """Apply the contract's known differences; True if the finding is new (report it), False if it only
        adds to the count of one already recorded."""
        return self.book.add(self.rules.apply_known(finding))

    def record_all(self, findings: Iterable[Finding]) -> list[Finding]:
        """The new ones among `findings`, recorded."""
        return [f for f in findings if self.record(f)]
