"""Findings: what every flow reports, deduplicated per operation, with known differences applied.

A finding of severity `failure` fails its test unless the contract lists it as a known difference that
has not expired; a `note` (rate limited, order-dependent case, spec gap) is reported but fails nothing.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import asdict, dataclass, field
from typing import Any

from .contract import IgnoreRule, KnownDifference

__all__ = ["Finding", "FindingBook", "Rules", "FLOWS"]

FLOWS = ("parity", "cors", "auth", "stateful", "routes", "latency", "load")


@dataclass
class Finding:
    flow: str
    operation: str
    check: str  # parity: the difference category; other flows: the check's name
    location: str
    legacy: Any = None
    gateway: Any = None
    message: str = ""
    reproducers: dict[str, str] = field(default_factory=dict)
    severity: str = "failure"  # failure | note
    known: bool = False
    reason: str | None = None
    count: int = 1
    browser: dict[str, Any] | None = None  # a real browser's replay: {"verdict": blocked|allowed, "error", ...}

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.flow, self.operation, self.check, self.location

    @property
    def failing(self) -> bool:
        return self.severity == "failure" and not self.known

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def headline(self) -> str:
        where = f" at {self.location}" if self.location else ""
        sides = [f"{name} {value!r}" for name, value in (("legacy", self.legacy), ("gateway", self.gateway))
                 if value is not None]
        shown = f": {', '.join(sides)}" if sides else ""
        text = f"[{self.flow}] {self.operation}: {self.check}{where}{shown}"
        if self.message:
            text += f" — {self.message}"
        if self.known:
            text += f" (known: {self.reason})"
        return text


def _matches(pattern: str, value: str) -> bool:
    return pattern == value or fnmatch.fnmatchcase(value, pattern)


class Rules:
    """The contract's `compare.ignore` rules and `known_differences`, with use tracking."""

    def __init__(self, ignore: list[IgnoreRule], known: list[KnownDifference], today: dt.date | None = None) -> None:
        self.ignore, self.known = ignore, known
        self.today = today or dt.date.today()
        self.used_ignores: set[int] = set()

    def ignored(self, operation: str, location: str) -> bool:
        for i, rule in enumerate(self.ignore):
            if _matches(rule.operation, operation) and _matches(rule.where, location):
                self.used_ignores.add(i)
                return True
        return False

    def apply_known(self, finding: Finding) -> Finding:
        for entry in self.known:
            if entry.flow != finding.flow or not _matches(entry.operation, finding.operation):
                continue
            if not (_matches(entry.where, finding.location) or _matches(entry.where, finding.check)):
                continue
            if entry.until < self.today:
                finding.message = (finding.message + "; " if finding.message else "") + \
                    f"known difference expired on {entry.until} ({entry.reason}): fix it or renew the entry"
            else:
                finding.known, finding.reason = True, f"{entry.reason} (until {entry.until})"
            break
        return finding

    def unused_ignores(self) -> list[str]:
        return [f"compare.ignore[{i}] {r.operation} {r.where}" for i, r in enumerate(self.ignore)
                if i not in self.used_ignores]


class FindingBook:
    """Every finding of a run (or of one xdist worker), one entry per distinct key."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str, str, str], Finding] = {}

    def add(self, finding: Finding) -> bool:
        """Record; True if it is new for its operation (report it), False if it only adds a count."""
        seen = self._by_key.get(finding.key)
        if seen is not None:
            seen.count += 1
            return False
        self._by_key[finding.key] = finding
        return True

    def get(self, key: tuple[str, str, str, str]) -> Finding | None:
        return self._by_key.get(key)

    def all(self) -> list[Finding]:
        return list(self._by_key.values())

    def for_operation(self, flow: str, operation: str) -> list[Finding]:
        return [f for f in self._by_key.values() if f.flow == flow and f.operation == operation]
