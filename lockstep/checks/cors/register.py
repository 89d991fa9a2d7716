"""How a CORS check is registered and how it reports: one policy per operation, one finding per location,
each finding with a curl reproducer and a browser probe (replay.py)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any

from ...engine.context import CheckContext
from ...engine.registry import check
from ...findings import Finding
from ...targets import Answer
from ...cors_policy import Policy, browser_can_send, policy_for
from .reading import at
from .replay import BROWSER, browser_probe

__all__ = ["cors_check", "finding", "FLOW"]

FLOW = "cors"
CorsCheck = Callable[[CheckContext, Policy], Iterable[Finding]]


def _policy_of(ctx: CheckContext, offered: bool) -> Policy | None:
    if ctx.policy is None or not browser_can_send(ctx.operation.method):
        return None  # no policy to judge against, or a method no browser can send (TRACE, CONNECT, TRACK)
    policy = policy_for(ctx.policy, ctx.operation)
    return None if offered and not policy.enabled else policy


def cors_check(name: str, group: str, *, offered: bool = True) -> Callable[[CorsCheck], CorsCheck]:
    """Register `func(ctx, policy)` as check `cors.<name>`; no policy (or CORS off here, when `offered`):
    nothing to judge. At most one finding per location."""
    def register(func: CorsCheck) -> CorsCheck:
        @functools.wraps(func)
        def run(ctx: CheckContext) -> list[Finding]:
            policy = _policy_of(ctx, offered)
            if policy is None:
                return []
            seen: set[str] = set()
            return [f for f in func(ctx, policy) if not (f.location in seen or seen.add(f.location))]

        check(FLOW, name, group=group)(run)
        return func

    return register


def finding(ctx: CheckContext, policy: Policy, location: str, message: str, answer: Answer | None, *,
            gateway: Any = None, legacy: Any = None, severity: str = "failure",
            credentials_mode: str | None = None) -> Finding:
    """A finding of the running check; `gateway` defaults to the answer's value at `location`."""
    if gateway is None and answer is not None:
        gateway = at(answer, location)
    found = ctx.finding(ctx.check_name, location, message, legacy=legacy, gateway=gateway, answer=answer,
                        severity=severity)
    if answer is not None:
        probe = browser_probe(answer, credentials_mode or policy.credentials_mode)
        found.reproducers[BROWSER] = json.dumps(probe)
    return found
