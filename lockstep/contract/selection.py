"""Which operations a run tests, and which checks the contract turns off."""

from __future__ import annotations

import fnmatch
from typing import Any

from .base import _Model

__all__ = ["OperationSelector", "OperationSelection", "DisabledCheck", "ChecksSpec"]

class OperationSelector(_Model):
    """Operations ALL given keys match: a path glob, a method, a tag, an operationId."""

    path: str | None = None
    method: str | None = None
    tag: str | None = None
    operation_id: str | None = None

    def matches(self, op: Any) -> bool:
        return ((self.path is None or fnmatch.fnmatchcase(op.path, self.path))
                and (self.method is None or op.method == self.method.upper())
                and (self.tag is None or self.tag in op.tags)
                and (self.operation_id is None or op.operation_id == self.operation_id))


class OperationSelection(_Model):
    """Which of the document's operations every flow tests: `include` (default: all), less `exclude`."""

    include: list[OperationSelector] = []
    exclude: list[OperationSelector] = []

    def selects(self, op: Any) -> bool:
        included = not self.include or any(s.matches(op) for s in self.include)
        return included and not any(s.matches(op) for s in self.exclude)


class DisabledCheck(_Model):
    check: str  # flow.name (cors.error-429) or a bare name for every flow
    reason: str = "disabled by the contract"


class ChecksSpec(_Model):
    disable: list[DisabledCheck | str] = []

    def disabled(self) -> list[DisabledCheck]:
        return [d if isinstance(d, DisabledCheck) else DisabledCheck(check=d) for d in self.disable]
