"""The parity flow: one case, both targets, learned noise, one finding per distinct difference."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..compare import Difference, compare, host_leaks
from ..exchange import CONCURRENT_METHODS, Exchange, Exchanger, build_request
from ..findings import Finding, FindingBook, Rules
from ..noise import NoiseMask
from ..report.curl import curl_command
from ..targets import Answer, Target
from ..views import View, view_of
from .conformance import conformance_failures

__all__ = ["Parity", "CaseOutcome"]


@dataclass
class CaseOutcome:
    """What one case produced: new findings (first of their kind), notes, and the exchange itself."""

    exchange: Exchange
    findings: list[Finding] = field(default_factory=list)
    judged: bool = True


class Parity:
    def __init__(self, legacy: Target, gateway: Target, *, headers: list[str], max_body_bytes: int,
                 rules: Rules, book: FindingBook, conformance: bool = True) -> None:
        self.legacy, self.gateway = legacy, gateway
        self.exchanger = Exchanger(legacy, gateway)
        self.headers, self.max_body_bytes = [h.lower() for h in headers], max_body_bytes
        self.rules, self.book, self.conformance = rules, book, conformance
        self.masks: dict[str, NoiseMask] = {}
        self.cases = 0

    def check(self, case: Any) -> CaseOutcome:
        ex = self.exchanger.run(case)
        self.cases += 1
        outcome = CaseOutcome(ex)
        note = _unjudgeable(ex)
        if note:
            outcome.judged = False
            self._record(outcome, case, note)
            return outcome
        l1, l2, gw = (self._view(a, t) for a, t in
                      ((ex.legacy, self.legacy), (ex.legacy_again, self.legacy), (ex.gateway, self.gateway)))
        mask = self.masks.setdefault(ex.operation, NoiseMask())
        if not mask.learn(l1, l2):
            outcome.judged = False
            self._record(outcome, case, _unstable(ex))
            return outcome
        diffs = self._confirmed(case, ex, l1, gw, mask)
        diffs += host_leaks(ex.gateway, self.legacy.base_url)
        for diff in diffs:
            if not self.rules.ignored(ex.operation, diff.location):
                self._record(outcome, case, _finding(ex.operation, diff))
        if self.conformance and l1.status == gw.status:
            self._conformance(outcome, case)
        return outcome

    def _confirmed(self, case: Any, ex: Exchange, l1: View, gw: View, mask: NoiseMask) -> list[Difference]:
        """Differences that survive one more legacy answer.

        Two legacy calls in flight together can agree on what is noise (a timestamp within the same
        millisecond). Before reporting a value difference, ask the legacy once more, later: what moves
        is learned as noise. Only where resending is harmless (safe methods and creates).
        """
        diffs = compare(l1, gw, mask)
        if not any(d.category in _RECHECKED for d in diffs) or case.method.upper() not in CONCURRENT_METHODS:
            return diffs
        third = self.exchanger.legacy.send(build_request(case, self.legacy))
        if third.ok and mask.learn(l1, self._view(third, self.legacy)):
            diffs = compare(l1, gw, mask)
        return diffs

    def _view(self, answer: Answer, target: Target) -> View:
        return view_of(answer, target.base_url, self.headers, self.max_body_bytes)

    def _conformance(self, outcome: CaseOutcome, case: Any) -> None:
        ex = outcome.exchange
        legacy_fails = conformance_failures(case, ex.legacy)
        for title, message in conformance_failures(case, ex.gateway).items():
            if title not in legacy_fails:
                self._record(outcome, case, Finding("parity", ex.operation, "conformance", title, None, None,
                                                    f"the gateway's answer breaks the contract the legacy keeps: {message}"))
        for title, message in legacy_fails.items():
            self._record(outcome, case, Finding("parity", ex.operation, "spec-gap", title, None, None,
                                                f"the legacy already breaks the document: {message}", severity="note"))

    def _record(self, outcome: CaseOutcome, case: Any, finding: Finding) -> None:
        finding = self.rules.apply_known(finding)
        if self.book.add(finding):
            finding.reproducers = self.reproducers(outcome.exchange)
            outcome.findings.append(finding)

    def reproducers(self, ex: Exchange) -> dict[str, str]:
        return {a.target: curl_command(a.method, a.url, a.request_headers, a.request_body,
                                       token_var=f"{a.target.upper()}_TOKEN")
                for a in (ex.legacy, ex.gateway)}

    def close(self) -> None:
        self.exchanger.close()


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
        return Finding("parity", ex.operation, "order-dependent", "status", ex.legacy.status,
                       ex.legacy_again.status, "the first legacy request changed what the second saw; "
                       "writes like this one are compared by the stateful flow", severity="note")
    return None


_RECHECKED = ("body-value", "header", "body-type", "missing-key", "extra-key")


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
    "header": "{where} differs",
    "host-leak": "the gateway hands out the legacy host ({l}); clients would bypass the gateway",
    "body-type": "the type at {where} differs",
    "body-value": "the value at {where} differs",
    "missing-key": "the gateway's answer lacks {where}",
    "extra-key": "the gateway's answer has {where}, the legacy's does not",
}


def _finding(operation: str, diff: Difference) -> Finding:
    message = _MESSAGES.get(diff.category, "{where} differs").format(
        g=diff.gateway, l=diff.legacy, where=diff.exact)
    if diff.category == "header":
        name = diff.location.split(":", 1)[1].title()
        message = (f"the gateway drops the {name} header" if diff.gateway is None else
                   f"the gateway adds a {name} header the legacy does not send" if diff.legacy is None else
                   f"the gateway's {name} differs from the legacy's")
    return Finding("parity", operation, diff.category, diff.location, diff.legacy, diff.gateway, message)
