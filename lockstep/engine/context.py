"""What a check receives: the operation, a `send`, its own policy slice, the document's operations, a
per-run cache and a place for figures. No session: a check is unit-testable with `httpx.MockTransport`
targets and an in-memory document (see tests/unit/helpers.py `flow_runner`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding
from ..operations import Operation
from ..report.curl import curl_command
from ..targets import Answer
from .send import HeaderItems, Sender

__all__ = ["CheckContext", "RunFacts", "DemoFacts", "DeadlineReached", "CheckSkipped"]


class CheckSkipped(Exception):
    """A check that cannot run here (no signing key, no CORS policy, the profile forbids a burst): its
    message says why, and the suite line skips with it when no check of the line ran."""


class DeadlineReached(Exception):
    """The operation's deadline (the profile's `deadline`) passed: this check sends nothing more."""


@dataclass(frozen=True)
class DemoFacts:
    """The embedded demo stack's auth facts, for `demo` values in the contract's `auth:`."""

    issuer: str
    audience: str
    jwks_url: str
    token_url: str
    signing_key_pem: str
    kid: str


@dataclass(frozen=True)
class RunFacts:
    """Read-only facts of the run a check may need beside its policy."""

    profile: str = "staging"
    safe_only: bool = False  # the profile sends only GET, HEAD and OPTIONS
    bursts: bool = True  # the profile allows bounded bursts (not smoke)
    rate_ceiling: str | None = None  # the profile's or the gateway's request-rate ceiling
    gateway_token: str | None = None
    verify: bool | str = True  # the gateway's TLS setting, for fetching its JWKS
    demo: DemoFacts | None = None
    # seconds per answer by operation and target, from the parity cases already sent (the latency flow)
    timings: dict[str, dict[str, list[float]]] = field(default_factory=dict)


@dataclass
class CheckContext:
    flow: str
    operation: Operation
    sender: Sender
    policy: Any = None  # this flow's slice of the contract (registry.flow_policy)
    operations: tuple[Operation, ...] = ()  # every operation of the document
    facts: RunFacts = field(default_factory=RunFacts)
    cache: dict[str, Any] = field(default_factory=dict)  # per run and flow, shared by the flow's checks
    figures: dict[str, Any] = field(default_factory=dict)  # this flow's figures in summary.json
    judge: Any = None  # the engine's Judge, for checks that compare a pair of answers (routes)
    check_name: str = ""
    answers: list[Answer] = field(default_factory=list)
    deadline_at: float | None = None  # time.monotonic() after which sending raises DeadlineReached

    def base_url(self, target: str = "gateway") -> str:
        return self.sender.base_url(target)

    def send(self, target: str, method: str | None = None, *, path: str | None = None,
             headers: HeaderItems | None = None, query: dict[str, Any] | None = None, body: bytes = b"",
             credentials: bool = True, retry: bool = True, url: str | None = None) -> Answer:
        """One request to `target` (`legacy` or `gateway`) at this operation's example path (or `path`,
        or the full `url`). May raise UnsafeRequestError, or DeadlineReached past the operation's deadline."""
        if self.deadline_at is not None and time.monotonic() > self.deadline_at:
            raise DeadlineReached(self.operation.label)
        answer = self.sender.send(target, method or self.operation.method,
                                  path if path is not None else self.operation.example_path,
                                  operation=self.operation.label, headers=headers, query=query, body=body,
                                  credentials=credentials, retry=retry, url=url)
        self.answers.append(answer)
        return answer

    def finding(self, name: str, location: str, message: str, *, legacy: Any = None, gateway: Any = None,
                answer: Answer | None = None, severity: str = "failure") -> Finding:
        """A finding of this flow and operation, with a curl reproducer of `answer`'s request."""
        found = Finding(self.flow, self.operation.label, name, location, legacy, gateway, message,
                        severity=severity)
        if answer is not None:
            found.reproducers = {answer.target: curl_command(answer.method, answer.url, answer.request_headers,
                                                             answer.request_body, f"{answer.target.upper()}_TOKEN")}
        return found
