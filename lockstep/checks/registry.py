"""Checks are plain functions registered by name under a flow, Schemathesis-style:

    @check("cors", "preflight-allowed", group="preflight")
    def preflight_allowed(ctx: FlowContext) -> Iterable[Finding]: ...

A check sends what it needs through `ctx` (which records every answer for the report) and yields
findings. `group` lets a suite's test run a related set of checks as one checklist line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from ..findings import Finding
from ..operations import Operation
from ..report.curl import curl_command
from ..targets import Answer, Target

if TYPE_CHECKING:
    from ..session import LockstepSession

__all__ = ["check", "checks_for", "FlowContext", "RegisteredCheck"]


@dataclass(frozen=True)
class RegisteredCheck:
    flow: str
    name: str
    group: str
    func: Callable[["FlowContext"], Iterable[Finding]]


_REGISTRY: dict[tuple[str, str], RegisteredCheck] = {}


def check(flow: str, name: str, *, group: str = "default") -> Callable:
    def register(func: Callable[["FlowContext"], Iterable[Finding]]) -> Callable:
        _REGISTRY[(flow, name)] = RegisteredCheck(flow, name, group, func)
        return func

    return register


def checks_for(flow: str, *, group: str | None = None, disabled: Iterable[str] = ()) -> list[RegisteredCheck]:
    off = set(disabled)
    return [c for c in _REGISTRY.values()
            if c.flow == flow and (group is None or c.group == group) and c.name not in off
            and f"{flow}.{c.name}" not in off]


@dataclass
class FlowContext:
    """What a check may use: the operation, both targets, the run's settings and session."""

    flow: str
    operation: Operation
    session: "LockstepSession"
    answers: list[Answer] = field(default_factory=list)
    check_name: str = ""

    @property
    def legacy(self) -> Target:
        assert self.session.legacy is not None
        return self.session.legacy

    @property
    def gateway(self) -> Target:
        assert self.session.gateway is not None
        return self.session.gateway

    def send(self, target: Target, method: str | None = None, *, path: str | None = None,
             headers: dict[str, str] | list[tuple[str, str]] | None = None, query: dict[str, Any] | None = None,
             body: bytes = b"", credentials: bool = True) -> Answer:
        """One request to `target` at this operation's example path (or `path`).

        `credentials=False` leaves out the target's own headers (token, identity): a browser's preflight,
        or an auth variant that brings its own Authorization. May raise UnsafeRequestError.
        """
        url = target.base_url + (path if path is not None else self.operation.example_path)
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query, doseq=True)
        merged: list[tuple[str, str]] = list(target.headers.items()) if credentials else []
        extra = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        names = {k.lower() for k, _ in extra}
        merged = [(k, v) for k, v in merged if k.lower() not in names] + extra
        request = httpx.Request(method or self.operation.method, url, headers=merged, content=body)
        answer = target.send(request)
        self.answers.append(answer)
        self.session.count_case(self.operation.label)
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
