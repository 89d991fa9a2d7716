"""One lockstep run: targets (or the demo stack), the engine's parts, and the xdist hand-off.

The session builds things and hands flows only what they need (a Judge, a Recorder, a Ledger, a
FlowRunner); no flow receives the session itself.
"""

from __future__ import annotations

from typing import Any

from .contract import DEMO, AuthSpec, TargetSpec
from .engine.context import DemoFacts, RunFacts
from .engine.flows import FlowRunner
from .engine.judge import Judge
from .engine.ledger import Ledger
from .engine.record import Recorder
from .engine.send import Sender
from .errors import ContractError
from .findings import Finding, FindingBook, Rules
from .operations import Operation
from .report.redact import register_secret
from .settings import Settings
from .targets import Target, check_credentials, fetch_client_credentials_token

__all__ = ["LockstepSession"]


class LockstepSession:
    def __init__(self, settings: Settings, operations: list[Operation] | None = None,
                 credential_probe: Operation | None = None) -> None:
        self.settings, self.credential_probe = settings, credential_probe
        contract = settings.contract
        self.book = FindingBook()
        self.rules = Rules(contract.compare.ignore, contract.known_differences)
        self.recorder = Recorder(self.rules, self.book)
        self.ledger = Ledger()
        self.document_operations = list(operations or [])
        self.disabled = tuple(d.check for d in contract.checks.disabled())
        self.stack: Any = None
        self.legacy: Target | None = None
        self.gateway: Target | None = None
        self._judge: Judge | None = None
        self._flows: FlowRunner | None = None
        self._sent: dict[str, dict] = {"cases": {}, "findings": {}, "timings": {}}  # already handed on
        self._unused: list[str] | None = None  # merged from workers (controller only)
        self.lost: list[str] = []
        if (settings.demo_faults or settings.demo_rate_limit) and not settings.uses_demo:
            raise ContractError("--demo-faults and --demo-rate-limit need the embedded demo stack; "
                                "drop --legacy-url/--gateway-url")

    # -- start and stop -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the demo stack if a target is `demo`, build both targets, probe them (raises)."""
        if self.settings.uses_demo:
            from .demo import DemoStack  # imported only when used: the demo pulls in servers

            self.stack = DemoStack(self.settings.demo_faults, rate_limit=self.settings.demo_rate_limit,
                                   gateway=self.settings.demo_gateway).start()
            register_secret(self.stack.signing_key_pem)
        targets = self.settings.contract.targets
        self.legacy = self._target("legacy", targets.legacy, self.settings.legacy_url)
        self.gateway = self._target("gateway", targets.gateway, self.settings.gateway_url)
        for target in (self.legacy, self.gateway):
            target.probe()
        if self.credential_probe is not None:  # a refused token is one line now, not hundreds of findings
            check_credentials(self.gateway, self.credential_probe.example_path, self.credential_probe.method)

    def _target(self, name: str, spec: TargetSpec, url: str) -> Target:
        if url == DEMO:
            url = self.stack.legacy_url if name == "legacy" else self.stack.gateway_url
        spec = spec.model_copy(update={"url": url, "prefix": spec.prefix if spec.url != DEMO else ""})
        token = self._token(spec.auth, spec)
        register_secret(token)
        profile = self.settings.profile
        return Target(name, spec, token=token, allowed_methods=profile.methods, rate=profile.rate,
                      max_body_bytes=self.settings.contract.compare.max_body_bytes)

    def _token(self, auth: AuthSpec | None, spec: TargetSpec) -> str | None:
        if auth is None:
            return None
        if auth.bearer is not None:
            value = auth.bearer.get_secret_value()
            if value == DEMO:
                if self.stack is None:
                    raise ContractError("`bearer: demo` needs the embedded demo stack", where="targets.*.auth")
                return self.stack.token()
            return value
        if auth.token_url and auth.client_id and auth.client_secret:
            secret = auth.client_secret.get_secret_value()
            register_secret(secret)
            return fetch_client_credentials_token(auth.token_url, auth.client_id, secret, auth.scope, spec.verify)
        raise ContractError("auth needs `bearer`, or `token_url` + `client_id` + `client_secret`",
                            where="targets.*.auth")

    def close(self) -> None:
        if self._judge:
            self._judge.close()
        for target in (self.legacy, self.gateway):
            if target:
                target.close()
        if self.stack is not None:
            self.stack.stop()
            self.stack = None

    # -- the engine's parts, built once ---------------------------------------------------------
    def judge(self) -> Judge:
        if self._judge is None:
            assert self.legacy and self.gateway, "start() first"
            compare = self.settings.contract.compare
            self._judge = Judge(self.legacy, self.gateway, headers=compare.headers,
                                max_body_bytes=compare.max_body_bytes, recorder=self.recorder,
                                disabled=frozenset(self._disabled_rules()))
        return self._judge

    def _disabled_rules(self) -> list[str]:
        return [d.split(".", 1)[1] if d.startswith("parity.") else d for d in self.disabled]

    def flows(self) -> FlowRunner:
        if self._flows is None:
            assert self.legacy and self.gateway, "start() first"
            sender = Sender({"legacy": self.legacy, "gateway": self.gateway}, self.ledger.count_case)
            self._flows = FlowRunner(self.settings.contract, self.facts(), sender, self.recorder,
                                     self.document_operations, self.ledger.figures, judge=self.judge,
                                     disabled=self.disabled, deadline=self.settings.profile.deadline)
        return self._flows

    def facts(self) -> RunFacts:
        profile, gateway = self.settings.profile, self.gateway
        stack = self.stack
        demo = DemoFacts(stack.issuer, stack.audience, stack.jwks_url, stack.token_url, stack.signing_key_pem,
                         stack.kid) if stack is not None else None
        safe_only = bool(profile.methods) and set(m.upper() for m in profile.methods) <= {"GET", "HEAD", "OPTIONS"}
        return RunFacts(profile=self.settings.profile_name, safe_only=safe_only, bursts=profile.bursts,
                        rate_ceiling=profile.rate or (gateway.spec.rate if gateway else None),
                        gateway_token=gateway.token if gateway else None,
                        verify=gateway.spec.verify if gateway else True, demo=demo,
                        timings=self.ledger.timings)

    # -- xdist hand-off -------------------------------------------------------------------------
    def drain(self) -> dict[str, Any]:
        """What happened since the last drain: sent with each test report, so a crashed worker loses
        at most the test it crashed in."""
        sent, ledger = self._sent, self.ledger
        cases = {op: n - sent["cases"].get(op, 0) for op, n in ledger.cases.items() if n != sent["cases"].get(op, 0)}
        findings = []
        for finding in self.book.all():
            before = sent["findings"].get(finding.key, 0)
            if finding.count != before:
                findings.append({**finding.to_dict(), "count": finding.count - before})
                sent["findings"][finding.key] = finding.count
        sent["cases"] = dict(ledger.cases)
        timings = {}
        for op, entry in ledger.timings.items():
            start = sent["timings"].get(op, 0)
            if len(entry["gateway"]) > start:
                timings[op] = {t: values[start:] for t, values in entry.items()}
                sent["timings"][op] = len(entry["gateway"])
        return {"cases": cases, "findings": findings, "figures": ledger.figures, "timings": timings,
                "unused_ignores": self.rules.unused_ignores()}

    def merge(self, payload: dict[str, Any]) -> None:
        ledger = self.ledger
        for op, n in payload.get("cases", {}).items():
            ledger.cases[op] += n
            ledger.operations.add(op)
        for data in payload.get("findings", []):
            data = dict(data)
            count = data.pop("count", 1)
            finding = Finding(**data)
            seen = self.book.get(finding.key)  # another worker may have found it too
            if seen is None:
                finding.count = count
                self.book.add(finding)
            else:
                seen.count += count
        for flow, values in payload.get("figures", {}).items():
            ledger.flow(flow).update(values)
        for op, entry in payload.get("timings", {}).items():
            mine = ledger.timings.setdefault(op, {"legacy": [], "gateway": []})
            for target, values in entry.items():
                mine[target].extend(values)
        if "unused_ignores" in payload:
            self._unused = payload["unused_ignores"] if self._unused is None else \
                [r for r in self._unused if r in payload["unused_ignores"]]

    def unused_ignores(self) -> list[str]:
        return self.rules.unused_ignores() if self._unused is None else self._unused
