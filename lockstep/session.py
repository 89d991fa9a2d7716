"""One lockstep run: targets (or the demo stack), findings, counts. The pytest plugin drives it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .checks.parity import Parity
from .contract import DEMO, AuthSpec, TargetSpec
from .errors import ContractError
from .findings import Finding, FindingBook, Rules
from .report.redact import register_secret
from .settings import Settings
from .targets import Target, fetch_client_credentials_token

__all__ = ["LockstepSession"]


class LockstepSession:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        contract = settings.contract
        self.book = FindingBook()
        self.rules = Rules(contract.compare.ignore, contract.known_differences)
        self.cases: Counter[str] = Counter()
        self.operations: set[str] = set()
        self.figures: dict[str, Any] = {}  # measured values for the summary (e.g. auth latency), by flow
        # seconds per answer, by operation and target, from the parity cases already sent (latency flow)
        self.timings: dict[str, dict[str, list[float]]] = {}
        self.stack: Any = None
        self.legacy: Target | None = None
        self.gateway: Target | None = None
        self._parity: Parity | None = None
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
        if self._parity:
            self._parity.close()
        for target in (self.legacy, self.gateway):
            if target:
                target.close()
        if self.stack is not None:
            self.stack.stop()
            self.stack = None

    # -- flows ----------------------------------------------------------------------------------
    def parity(self) -> Parity:
        if self._parity is None:
            assert self.legacy and self.gateway, "start() first"
            compare = self.settings.contract.compare
            self._parity = Parity(self.legacy, self.gateway, headers=compare.headers,
                                  max_body_bytes=compare.max_body_bytes, rules=self.rules, book=self.book)
        return self._parity

    def count_case(self, operation: str) -> None:
        self.cases[operation] += 1
        self.operations.add(operation)

    def record_timing(self, operation: str, legacy: float, gateway: float) -> None:
        entry = self.timings.setdefault(operation, {"legacy": [], "gateway": []})
        entry["legacy"].append(legacy)
        entry["gateway"].append(gateway)

    # -- xdist hand-off -------------------------------------------------------------------------
    def drain(self) -> dict[str, Any]:
        """What happened since the last drain: sent with each test report, so a crashed worker loses
        at most the test it crashed in."""
        sent = self._sent
        cases = {op: n - sent["cases"].get(op, 0) for op, n in self.cases.items() if n != sent["cases"].get(op, 0)}
        findings = []
        for finding in self.book.all():
            before = sent["findings"].get(finding.key, 0)
            if finding.count != before:
                findings.append({**finding.to_dict(), "count": finding.count - before})
                sent["findings"][finding.key] = finding.count
        sent["cases"] = dict(self.cases)
        timings = {}
        for op, entry in self.timings.items():
            start = sent["timings"].get(op, 0)
            if len(entry["gateway"]) > start:
                timings[op] = {t: values[start:] for t, values in entry.items()}
                sent["timings"][op] = len(entry["gateway"])
        return {"cases": cases, "findings": findings, "figures": self.figures, "timings": timings,
                "unused_ignores": self.rules.unused_ignores()}

    def merge(self, payload: dict[str, Any]) -> None:
        for op, n in payload.get("cases", {}).items():
            self.cases[op] += n
            self.operations.add(op)
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
            self.figures.setdefault(flow, {}).update(values)
        for op, entry in payload.get("timings", {}).items():
            mine = self.timings.setdefault(op, {"legacy": [], "gateway": []})
            for target, values in entry.items():
                mine[target].extend(values)
        if "unused_ignores" in payload:
            self._unused = payload["unused_ignores"] if self._unused is None else \
                [r for r in self._unused if r in payload["unused_ignores"]]

    def unused_ignores(self) -> list[str]:
        return self.rules.unused_ignores() if self._unused is None else self._unused
