"""A rate-limited answer carries CORS (catalog C12): a bounded burst, in waves, to one cheap public GET
until the gateway answers 429, whose CORS headers are then judged like the other errors'. Only where the
run's profile allows bursts (never smoke)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from ...engine.context import CheckContext
from ...errors import UnsafeRequestError
from ...findings import Finding
from ...operations import Operation
from ...targets import Answer
from .errors import error_findings
from ...cors_policy import Policy
from .probes import safe, shown
from .reading import STATUS
from .register import cors_check, finding

__all__ = ["rate_limit_operation", "BURST_LIMIT", "BURST_WAVE"]

BURST_LIMIT, BURST_WAVE = 150, 25  # at most this many requests, this many at a time


def rate_limit_operation(operations: Iterable[Operation]) -> Operation | None:
    """The one cheap safe operation the 429 burst may go to: a public GET without path parameters."""
    candidates = [o for o in operations if o.method == "GET" and not o.protected and "{" not in o.path]
    candidates.sort(key=lambda o: ("health" not in o.path and "health" not in o.tags, len(o.path)))
    return candidates[0] if candidates else None


@cors_check("error-429", "rate-limit")
def error_429(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    if not ctx.facts.bursts or not safe(ctx):
        raise UnsafeRequestError(f"the rate-limit burst ({BURST_LIMIT} requests) runs only on a safe operation "
                                 f"and in a profile that allows bursts (profile: {ctx.facts.profile})")
    chosen = rate_limit_operation(ctx.operations)
    if chosen is None or chosen.label != ctx.operation.label:
        raise UnsafeRequestError(f"the rate-limit burst goes to one cheap public GET only ({chosen or 'none here'})")
    origin = policy.allowed[0]
    answer, sent = _burst(ctx, origin)
    if answer is None:
        yield finding(ctx, policy, STATUS, f"no 429 after a burst of {sent} requests to {shown(ctx)}: the CORS "
                      f"headers of the gateway's rate-limit answer were not judged", None, severity="note")
        return
    yield from error_findings(ctx, policy, origin, answer, "rate limited", ["Retry-After"])


def _burst(ctx: CheckContext, origin: str) -> tuple[Answer | None, int]:
    """At most BURST_LIMIT requests, BURST_WAVE at a time, until one is answered 429 (no waiting and
    resending on 429 here: that answer is the point). Of the burst's answers only the 429 is kept."""
    first = len(ctx.answers)

    def one(_: int) -> Answer:
        return ctx.send("gateway", headers=[("Origin", origin)], retry=False)

    sent, limited = 0, None
    with ThreadPoolExecutor(max_workers=BURST_WAVE) as pool:
        while sent < BURST_LIMIT and limited is None:
            wave = list(pool.map(one, range(min(BURST_WAVE, BURST_LIMIT - sent))))
            sent += len(wave)
            limited = next((a for a in wave if a.status == 429), None)
            if limited is None and any(not a.ok for a in wave):
                break
    del ctx.answers[first:]
    if limited is not None:
        ctx.answers.append(limited)
    return limited, sent
