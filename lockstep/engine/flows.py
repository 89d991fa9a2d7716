"""Running a flow's registered checks on one operation: a narrow context per check, findings recorded."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import UnsafeRequestError
from ..findings import Finding
from ..operations import Operation
from ..targets import Answer
from .context import CheckContext, CheckSkipped, DeadlineReached, RunFacts
from .record import Recorder
from .registry import checks_for, policy_of
from .send import Sender

__all__ = ["FlowRunner", "FlowResult", "NoChecks"]


class NoChecks(LookupError):
    """A suite asked for a flow or group no check is registered under."""


@dataclass
class FlowResult:
    new: list[Finding] = field(default_factory=list)  # first of their kind: what the test reports
    skipped: list[str] = field(default_factory=list)  # "check: why", for checks the profile stopped
    ran: int = 0
    answers: list[Answer] = field(default_factory=list)  # of the checks that found something


class FlowRunner:
    """One per run: builds each check's context from the contract, the run's facts and the sender."""

    def __init__(self, contract: Any, facts: RunFacts, sender: Sender, recorder: Recorder,
                 operations: Sequence[Operation], figures: dict[str, Any], judge: Callable[[], Any] | None = None,
                 disabled: Sequence[str] = (), deadline: float | None = None) -> None:
        self.contract, self.facts, self.sender, self.recorder = contract, facts, sender, recorder
        self.operations, self.figures, self._judge = tuple(operations), figures, judge
        self.disabled, self.deadline = tuple(disabled), deadline
        self._caches: dict[str, dict[str, Any]] = {}

    def context(self, flow: str, operation: Operation, check_name: str = "") -> CheckContext:
        return CheckContext(flow, operation, self.sender, policy=policy_of(flow, self.contract),
                            operations=self.operations, facts=self.facts,
                            cache=self._caches.setdefault(flow, {}), figures=self.figures.setdefault(flow, {}),
                            judge=self._judge() if self._judge else None, check_name=check_name)

    def run(self, flow: str, operation: Operation, group: str | None = None) -> FlowResult:
        selected = checks_for(flow, group=group, disabled=self.disabled)
        if not selected:
            raise NoChecks(f"no {flow} checks registered{f' in group {group!r}' if group else ''} "
                           "(or all of them are disabled by the contract's `checks.disable`)")
        result = FlowResult()
        deadline_at = time.monotonic() + self.deadline if self.deadline else None
        for index, registered in enumerate(selected):
            ctx = self.context(flow, operation, registered.name)
            ctx.deadline_at = deadline_at
            try:
                findings = list(registered.func(ctx))  # type: ignore[misc]
            except (UnsafeRequestError, CheckSkipped) as exc:
                result.skipped.append(f"{registered.name}: {exc}")
                continue
            except DeadlineReached:
                findings = [self._past_deadline(flow, operation, [c.name for c in selected[index:]])]
                self._keep(result, findings, ctx)
                break
            result.ran += 1
            self._keep(result, findings, ctx)
        return result

    def _keep(self, result: FlowResult, findings: list[Finding], ctx: CheckContext) -> None:
        new = self.recorder.record_all(findings)
        if new:
            result.new.extend(new)
            result.answers.extend(ctx.answers[-6:])

    def _past_deadline(self, flow: str, operation: Operation, left: list[str]) -> Finding:
        return Finding(flow, operation.label, "deadline", "deadline", None, None,
                       f"the profile's deadline of {self.deadline:g} s per operation passed; not finished: "
                       f"{', '.join(left)}: raise the profile's `deadline`, or leave the operation out "
                       "(`operations: {exclude: [...]}` in the contract)", severity="note")
