"""Replaying recorded requests through the parity comparison (legacy twice, the gateway once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ..engine.judge import Judge, NoDocument
from ..engine.ledger import Ledger
from ..errors import UnsafeRequestError
from ..exchange import CONCURRENT_METHODS, Exchange
from ..findings import Finding
from ..report.redact import redact
from ..targets import Answer, Target
from .read import FLOW
from .plan import HarEntry

__all__ = ["HarReplay", "Replayed"]

# ---------------------------------------------------------------- replay

@dataclass
class Replayed:
    exchange: Exchange
    findings: list[Finding]  # this entry's findings (also those already seen on an earlier entry)


class HarReplay:
    """Sends recorded requests to both targets and judges them with the parity flow's own comparison."""

    def __init__(self, judge: Judge, ledger: Ledger, schema: Any = None) -> None:
        self.parity, self.ledger, self.schema = judge, ledger, schema
        self.recorder = judge.recorder

    def request(self, entry: HarEntry, target: Target) -> httpx.Request:
        url = target.base_url + entry.path + (f"?{entry.query}" if entry.query else "")
        own = {k.lower() for k in target.headers}
        headers = [(k, v) for k, v in entry.headers if k.lower() not in own] + list(target.headers.items())
        return httpx.Request(entry.method, url, headers=headers, content=entry.body)

    def send(self, entry: HarEntry) -> Exchange:
        """Legacy twice and the gateway once: together for safe methods, one after another otherwise."""
        legacy, gateway = self.parity.legacy, self.parity.gateway
        for target in (legacy, gateway):
            target.guard(entry.method)  # the profile's rules and `writable: false`, before anything is sent
        return self.parity.exchanger.send(entry.label, self.request(entry, legacy), self.request(entry, legacy),
                                          self.request(entry, gateway))

    def replay(self, entry: HarEntry) -> Replayed:
        try:
            ex = self.send(entry)
        except UnsafeRequestError as exc:
            self.ledger.flow(FLOW)[str(entry)] = {"request": entry.shown, "verdict": "skipped", "reason": str(exc)}
            raise
        legacy = self.parity.legacy
        resend = (lambda: legacy.send(self.request(entry, legacy))) \
            if entry.method in CONCURRENT_METHODS | {"POST"} else None
        verdict = self.parity.judge(self._case(entry), ex, resend)
        # flow parity (summary.json's documented flows); the `har #N:` prefix keeps recorded requests'
        # findings apart from the generated cases' own
        found = self.parity.findings_of(ex, verdict, flow="parity", step=f"har #{entry.index}: ")
        if not entry.known:
            found.append(Finding("parity", entry.label, "unknown-route", f"har #{entry.index}: route", None, None,
                                 f"real clients call {redact(entry.label)} (recorded in the HAR) and the document "
                                 "does not describe it: a spec gap; replayed and compared all the same",
                                 severity="note"))
        for finding in found:
            finding.message = f"{finding.message} — recorded request #{entry.index}"
        if entry.known:  # an unknown route is no operation of the summary's count
            self.ledger.count_case(entry.label)
            if verdict.note is None:
                self.ledger.record_timing(entry.label, ex.legacy.elapsed, ex.gateway.elapsed)
        recorded = [self._record(ex, f) for f in found]
        self._figure(entry, ex, recorded)
        return Replayed(ex, recorded)

    def _case(self, entry: HarEntry) -> Any:
        if self.schema is None or entry.template is None or entry.method == "HEAD":
            return NoDocument()
        try:
            operation = self.schema[entry.template][entry.method]
            return operation.Case(path_parameters=dict(entry.path_parameters))
        except Exception:  # an operation Schemathesis cannot build a case for: judged without conformance
            return NoDocument()

    def _record(self, ex: Exchange, finding: Finding) -> Finding:
        """Into the run's book (deduplicated, counted); this entry's test fails on it either way."""
        finding.reproducers = finding.reproducers or self.parity.reproducers(ex)
        self.recorder.record(finding)
        return finding

    def _figure(self, entry: HarEntry, ex: Exchange, findings: list[Finding]) -> None:
        failing = [f for f in findings if f.failing]
        notes = [f.check for f in findings if f.severity == "note"]
        verdict = "differs" if failing else ("not judged: " + notes[0]) if notes and any(
            n not in ("unknown-route", "spec-gap") for n in notes) else "same"
        # one key per entry at the flow's top level: xdist workers' figures merge key by key
        self.ledger.flow(FLOW)[str(entry)] = {"request": entry.shown, "legacy": _status(ex.legacy),
                                              "gateway": _status(ex.gateway), "verdict": verdict,
                                              "stripped": entry.stripped}


def _status(answer: Answer) -> int | str | None:
    return answer.status if answer.error is None else answer.error
