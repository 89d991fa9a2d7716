"""Latency of the auth path (catalog B27): p50/p95 of authenticated calls through the gateway and straight to
the legacy, and valid-token latency while a bounded burst of invalid tokens arrives (loopback only). The
figures land in summary.json; budgets in the contract turn them into checks."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ...engine.context import CheckContext
from ...engine.registry import check
from ...engine.stats import percentile
from ...findings import Finding
from ...targets import SAFE_METHODS, Answer
from .challenge import got, refused
from .material import material
from .sending import send_variant
from .skips import require

__all__ = ["latency", "burst", "milliseconds"]

FLOW = "auth"
BURST_THREADS = 8
BURST_VALID = 20
BURST_INVALID = ("sig-flipped", "alg-none", "foreign-key-real-kid", "kid-unknown", "jws-one-segment", "tampered-sub")
REFILL_SECONDS = 1.0  # let a per-route token bucket refill: the burst must meet auth, not the rate limiter


def milliseconds(values: list[float]) -> dict[str, float]:
    """p50 and p95 (linear, lockstep's one percentile) in milliseconds; {} for no values."""
    if not values:
        return {}
    return {"p50_ms": round(percentile(values, 50) * 1000, 2), "p95_ms": round(percentile(values, 95) * 1000, 2)}


def _clean(answer: Answer) -> bool:
    return answer.ok and answer.attempts == 1 and not refused(answer) and (answer.status or 0) < 500


def _applies(ctx: CheckContext) -> bool:
    return ctx.operation.protected and ctx.operation.method in SAFE_METHODS


@check(FLOW, "latency", group="latency")
def latency(ctx: CheckContext) -> Iterator[Finding]:
    """p50/p95 of authenticated calls through the gateway and straight to the legacy (figures)."""
    if not _applies(ctx):
        return
    require(ctx, "token", "focus")
    samples = material(ctx).policy.latency_samples
    timings: dict[str, list[float]] = {"legacy": [], "gateway": []}
    for target in timings:  # warm the connection pools
        ctx.send(target)
    for i in range(samples):
        for target in (("legacy", "gateway") if i % 2 == 0 else ("gateway", "legacy")):
            answer = ctx.send(target)
            if _clean(answer):
                timings[target].append(answer.elapsed)
    legacy, gateway = milliseconds(timings["legacy"]), milliseconds(timings["gateway"])
    figure: dict[str, Any] = {"samples": samples, "legacy": legacy, "gateway": gateway}
    if legacy and gateway:
        figure["overhead_p50_ms"] = round(gateway["p50_ms"] - legacy["p50_ms"], 2)
        figure["overhead_p95_ms"] = round(gateway["p95_ms"] - legacy["p95_ms"], 2)
    ctx.figures[f"latency {ctx.operation.label}"] = figure
    if len(timings["gateway"]) < samples // 2:
        yield ctx.finding("latency-not-measured", "latency", f"only {len(timings['gateway'])} of {samples} "
                          f"authenticated gateway calls were answered cleanly (refused, rate limited or failed)",
                          severity="note")
        return
    budget = material(ctx).policy.max_overhead_p95_ms
    if budget is not None and figure.get("overhead_p95_ms", 0) > budget:
        yield ctx.finding("latency-over-budget", "latency", f"the gateway adds {figure['overhead_p95_ms']} ms at "
                          f"p95 over the legacy (auth.max_overhead_p95_ms: {budget})",
                          legacy=legacy["p95_ms"], gateway=gateway["p95_ms"])


@check(FLOW, "burst", group="burst")
def burst(ctx: CheckContext) -> Iterator[Finding]:
    """Valid-token latency while a bounded burst of invalid tokens arrives (loopback only; figures)."""
    if not _applies(ctx):
        return
    require(ctx, "token", "loopback")
    found = material(ctx)
    variants = found.variants()
    invalid = [variants.by_name(n) for n in BURST_INVALID] + ([variants.by_name("expired")] if found.signer else [])
    ctx.send("gateway")  # warm up
    quiet = [a.elapsed for a in (ctx.send("gateway") for _ in range(BURST_VALID)) if _clean(a)]
    time.sleep(REFILL_SECONDS)
    total = found.policy.burst_requests
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=BURST_THREADS) as pool:
        futures = [pool.submit(send_variant, ctx, invalid[i % len(invalid)]) for i in range(total)]
        valid_answers = [ctx.send("gateway") for _ in range(BURST_VALID)]
        invalid_answers = [f.result() for f in futures]
    figure = _burst_figure(quiet, valid_answers, invalid_answers, time.perf_counter() - started)
    ctx.figures["burst"] = {"operation": ctx.operation.label, **figure}
    yield from _burst_findings(ctx, figure, valid_answers, invalid_answers)


def _burst_figure(quiet: list[float], valid: list[Answer], invalid: list[Answer], wall: float) -> dict[str, Any]:
    loaded = [a.elapsed for a in valid if _clean(a)]
    statuses = Counter(str(a.status or a.error) for a in invalid)
    figure: dict[str, Any] = {
        "invalid_requests": len(invalid), "threads": BURST_THREADS, "seconds": round(wall, 3),
        "invalid_statuses": dict(sorted(statuses.items())),
        "invalid": milliseconds([a.elapsed for a in invalid if a.ok]),
        "valid_quiet": milliseconds(quiet), "valid_under_burst": milliseconds(loaded),
        "rate_limited": sum(a.attempts > 1 or a.status == 429 for a in invalid + valid),
    }
    if quiet and loaded:
        figure["slowdown_p95"] = round(percentile(loaded, 95) / max(percentile(quiet, 95), 1e-6), 2)
    return figure


def _burst_findings(ctx: CheckContext, figure: dict[str, Any], valid: list[Answer],
                    invalid: list[Answer]) -> Iterator[Finding]:
    total = len(invalid)
    broken = [a for a in valid if not _clean(a) and a.status != 429]
    if broken:
        yield ctx.finding("valid-token-refused-under-burst", "burst", f"{len(broken)} of {len(valid)} valid "
                          f"calls failed while {total} invalid tokens arrived ({got(broken[0])})",
                          legacy="accepted", gateway=got(broken[0]), answer=broken[0])
    failed = [a for a in invalid if a.error or (a.status or 0) >= 500]
    if failed:  # whether each invalid token is refused is the forged line's question; here: does load break it
        yield ctx.finding("burst-server-errors", "burst", f"{len(failed)} of {total} invalid-token requests of "
                          f"the burst failed ({got(failed[0])}): a flood of bad tokens must be refused cheaply, "
                          f"not break the gateway", legacy="401", gateway=got(failed[0]), answer=failed[0])
    budget = material(ctx).policy.max_burst_slowdown
    if budget is not None and figure.get("slowdown_p95", 0) > budget:
        yield ctx.finding("burst-slowdown-over-budget", "burst", f"valid calls are {figure['slowdown_p95']}x "
                          f"slower at p95 under a burst of invalid tokens (auth.max_burst_slowdown: {budget})",
                          legacy=figure["valid_quiet"].get("p95_ms"), gateway=figure["valid_under_burst"].get("p95_ms"))
