"""Judging a pair of answers: the comparison engine of parity, stateful, HAR replay and routes.

`Judge.judge` learns noise from the two legacy answers, confirms what looks like a difference with one
more legacy answer, and compares (translating the gateway's own ids into the legacy's where a caller
says which ids pair up). `Judge.case` is the parity flow's whole walk for one Schemathesis case.
Each difference category is a parity rule registered by name (lockstep/checks/parity.py); a rule the
contract disables is dropped here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..compare import Difference, compare, host_leaks
from ..exchange import Exchange, Exchanger, build_request
from ..findings import Finding
from ..noise import NoiseMask
from ..report.curl import curl_command
from ..targets import Answer, Target
from ..views import View, view_of
from .conformance import conformance_failures
from .record import Recorder

__all__ = ["Judge", "CaseOutcome", "Verdict", "reproducer", "NoDocument"]

Resend = Callable[[], Answer]  # one more legacy answer to the same request
_RECHECKED = ("body-value", "header", "body-type", "missing-key", "extra-key")


class NoDocument:
    """Stands in for a Schemathesis case where the document has no operation: nothing to conform to."""

    def validate_response(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class CaseOutcome:
    """What one case produced: new findings (first of their kind) and the exchange itself."""

    exchange: Exchange
    findings: list[Finding] = field(default_factory=list)
    judged: bool = True


@dataclass
class Verdict:
    """Differences of one exchange, or why it could not be judged (a note)."""

    differences: list[Difference] = field(default_factory=list)
    note: Finding | None = None
    conformance: list[tuple[str, str, str]] = field(default_factory=list)  # (side, title, message)


class Judge:
    def __init__(self, legacy: Target, gateway: Target, *, headers: list[str], max_body_bytes: int,
                 recorder: Recorder, disabled: frozenset[str] = frozenset()) -> None:
        self.legacy, self.gateway = legacy, gateway
        self.exchanger = Exchanger(legacy, gateway)
        self.headers, self.max_body_bytes = [h.lower() for h in headers], max_body_bytes
        self.recorder, self.rules = recorder, recorder.rules
        self.disabled = disabled  # parity rule names (difference categories, `conformance`, `spec-gap`)
        self.masks: dict[str, NoiseMask] = {}

    def case(self, case: Any) -> CaseOutcome:
        ex = self.exchanger.run(case)
        outcome = CaseOutcome(ex)
        # judged cases only: a write the legacy applied twice with the same status is harmless a third time
        verdict = self.judge(case, ex, lambda: self.legacy.send(build_request(case, self.legacy)))
        outcome.judged = verdict.note is None
        for finding in self.findings_of(ex, verdict, flow="parity"):
            self.record(outcome, finding)
        return outcome

    def judge(self, case: Any, ex: Exchange, resend: Resend | None,
              translate: dict[str, str] | None = None) -> Verdict:
        note = _unjudgeable(ex)
        if note:
            return Verdict(note=note)
        l1, l2 = self.view(ex.legacy, self.legacy), self.view(ex.legacy_again, self.legacy)
        gw = _translated(self.view(ex.gateway, self.gateway), translate or {})
        mask = self.masks.setdefault(ex.operation, NoiseMask())
        if not mask.learn(l1, l2):
            return Verdict(note=_unstable(ex))
        diffs = compare(l1, gw, mask)
        if resend and any(d.category in _RECHECKED for d in diffs):
            # two legacy calls in flight together can agree on noise (a timestamp within one millisecond):
            # one more, later legacy answer teaches the mask instead of yielding a false finding
            third = resend()
            if third.ok and mask.learn(l1, self.view(third, self.legacy)):
                diffs = compare(l1, gw, mask)
        diffs += host_leaks(ex.gateway, self.legacy.base_url)
        diffs = [d for d in diffs if d.category not in self.disabled and not self.rules.ignored(ex.operation, d.location)]
        whole = ex.legacy.digest is None and ex.gateway.digest is None  # a digest cannot be schema-checked
        checked = "conformance" not in self.disabled and whole and l1.status == gw.status
        conformance = self._conformance(case, ex, diffs) if checked else []
        return Verdict(diffs, None, conformance)

    def findings_of(self, ex: Exchange, verdict: Verdict, *, flow: str, step: str = "") -> list[Finding]:
        if verdict.note:
            verdict.note.flow = flow
            return [verdict.note]
        found = [_finding(flow, ex.operation, d, step) for d in verdict.differences]
        for side, title, message in verdict.conformance:
            if side == "gateway":
                found.append(Finding(flow, ex.operation, "conformance", step + title, None, None,
                                     f"the gateway's answer breaks the contract the legacy keeps: {message}"))
            elif "spec-gap" not in self.disabled:
                found.append(Finding(flow, ex.operation, "spec-gap", step + title, None, None,
                                     f"the legacy already breaks the document: {message}", severity="note"))
        return found

    def _conformance(self, case: Any, ex: Exchange, diffs: list[Difference]) -> list[tuple[str, str, str]]:
        gateway_fails = conformance_failures(case, ex.gateway)
        if not gateway_fails and not diffs:
            return []  # the same answer (up to learned noise) as the legacy's, and it conforms: so does the legacy's
        legacy_fails = conformance_failures(case, ex.legacy)
        out = [("gateway", t, m) for t, m in gateway_fails.items() if t not in legacy_fails]
        return out + [("legacy", t, m) for t, m in legacy_fails.items()]

    def record(self, outcome: CaseOutcome, finding: Finding) -> None:
        if self.recorder.record(finding):
            finding.reproducers = finding.reproducers or self.reproducers(outcome.exchange)
            outcome.findings.append(finding)

    def view(self, answer: Answer, target: Target) -> View:
        return view_of(answer, target.base_url, self.headers, self.max_body_bytes)

    def reproducers(self, ex: Exchange) -> dict[str, str]:
        return {a.target: reproducer(a) for a in (ex.legacy, ex.gateway)}

    def close(self) -> None:
        self.exchanger.close()


def reproducer(answer: Answer) -> str:
    return curl_command(answer.method, answer.url, answer.request_headers, answer.request_body,
                        token_var=f"{answer.target.upper()}_TOKEN")


def _translated(view: View, ids: dict[str, str]) -> View:
    """The gateway's view with its own resource ids replaced by the legacy's paired ones."""
    if not ids:
        return view

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            for mine, theirs in ids.items():
                value = value.replace(mine, theirs)
            return value
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    body = swap(view.body) if view.kind in ("json", "text") else view.body
    return dataclasses.replace(view, headers={k: swap(v) for k, v in view.headers.items()}, body=body)


def _unjudgeable(ex: Exchange) -> Finding | None:
    for answer in (ex.legacy, ex.legacy_again, ex.gateway):
        if answer.error:
            return Finding("parity", ex.operation, "transport", answer.target, None, None,
                           f"{answer.target} did not answer: {answer.error}")
    for answer in (ex.legacy, ex.legacy_again, ex.gateway):
        if answer.rate_limited:
            return Finding("parity", ex.operation, "rate-limited", answer.target, None, answer.status,
                           f"{answer.target} kept answering {answer.status} after waiting as told; not a "
                           "difference", severity="note")
    if ex.order_dependent:
        return _unstable(ex)
    return None


def _unstable(ex: Exchange) -> Finding:
    if ex.legacy.method in ("GET", "HEAD", "OPTIONS"):
        return Finding("parity", ex.operation, "legacy-unstable", "status", ex.legacy.status,
                       ex.legacy_again.status, "the legacy answered the same request with two statuses; "
                       "this case is not judged", severity="note")
    return Finding("parity", ex.operation, "order-dependent", "status", ex.legacy.status, ex.legacy_again.status,
                   "the first legacy request changed what the second saw; writes like this one are compared by "
                   "the stateful flow", severity="note")


_MESSAGES = {
    "status": "the gateway answers {g} where the legacy answers {l}",
    "route-missing": "the gateway does not route this operation: {g} where the legacy answers {l}",
    "host-leak": "the gateway hands out the legacy host ({l}); clients would bypass the gateway",
    "body-type": "the type at {where} differs",
    "body-value": "the value at {where} differs",
    "missing-key": "the gateway's answer lacks {where}",
    "extra-key": "the gateway's answer has {where}, the legacy's does not",
}


def _finding(flow: str, operation: str, diff: Difference, step: str = "") -> Finding:
    message = _MESSAGES.get(diff.category, "{where} differs").format(g=diff.gateway, l=diff.legacy, where=diff.exact)
    if diff.category == "header":
        name = diff.location.split(":", 1)[1].title()
        message = (f"the gateway drops the {name} header" if diff.gateway is None else
                   f"the gateway adds a {name} header the legacy does not send" if diff.legacy is None else
                   f"the gateway's {name} differs from the legacy's")
    return Finding(flow, operation, diff.category, step + diff.location, diff.legacy, diff.gateway, message)
