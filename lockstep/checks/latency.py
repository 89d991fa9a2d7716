"""Latency overhead: per operation, what the gateway adds to the legacy's answer time (p50 and p95).

The figures come from the cases the parity flow (and the HAR replay) already sent: each judged case timed
the legacy's first answer and the gateway's, sent together (`session.timings`). No extra traffic, except:

- too few timings (fewer than MIN_SAMPLES: parity did not run in this process — `-m latency` alone, or
  xdist ran it on another worker): a bounded sample of the operation's example request, `latency.sample`
  per target (default 20), one after another, safe methods only; an unsafe operation is then not measured;
- `latency.burst: N` (default 0): N more example requests per target, BURST_IN_FLIGHT at a time (safe
  methods only), their times joining the distribution;
- a budget that looks broken on the parity timings is confirmed first, like parity confirms a difference:
  a fresh bounded sample decides (safe methods only). A p95 over a handful of answers is their slowest
  one; where no confirmation is possible (a write) and fewer than ROBUST answers were timed, a p95 breach
  fails only if the median overhead is over the p95 budget too (systematic, not one slow answer).

A failure only where the contract sets a budget (`latency: {p95_overhead_ms: 50, p50_overhead_ms: ...}`);
otherwise figures only. Figures land in summary.json (`figures.latency`) and in Allure, with a chart of
both distributions per operation (lockstep/report/latency_chart.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import allure

from ..contract import LatencyPolicy
from ..engine.context import CheckContext
from ..engine.registry import check, flow_policy
from ..engine.stats import percentile
from ..findings import Finding
from ..report.latency_chart import svg_chart
from ..targets import SAFE_METHODS, Answer

__all__ = ["FLOW", "distribution", "measure", "over_budget", "skip_reason", "MIN_SAMPLES", "ROBUST"]

FLOW = "latency"
flow_policy(FLOW, lambda contract: contract.latency)
MIN_SAMPLES = 5  # fewer parity timings than this: sample the example request instead
ROBUST = 20  # from this many answers on, a p95 is more than the slowest one or two
BURST_IN_FLIGHT = 8


def distribution(seconds: Sequence[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": _r(percentile(ms, 50)), "p95_ms": _r(percentile(ms, 95)),
            "mean_ms": _r(sum(ms) / len(ms)), "min_ms": _r(min(ms)), "max_ms": _r(max(ms))}


def measure(legacy: Sequence[float], gateway: Sequence[float]) -> dict[str, Any]:
    """Both distributions (seconds in, milliseconds out) and the overhead: gateway pXX minus legacy pXX."""
    a, b = distribution(legacy), distribution(gateway)
    return {"legacy": a, "gateway": b, "overhead_p50_ms": _r(b["p50_ms"] - a["p50_ms"]),
            "overhead_p95_ms": _r(b["p95_ms"] - a["p95_ms"])}


def over_budget(figure: dict[str, Any], policy: LatencyPolicy, *, robust: bool = True) -> list[tuple[str, float, float]]:
    """(which, budget, measured) for each budget the figure breaks; `robust=False`: few answers, no
    confirmation possible — a p95 breach counts only if the median overhead is over the p95 budget too."""
    found = []
    p50, p95 = figure["overhead_p50_ms"], figure["overhead_p95_ms"]
    if policy.p50_overhead_ms is not None and p50 > policy.p50_overhead_ms:
        found.append(("p50", policy.p50_overhead_ms, p50))
    if policy.p95_overhead_ms is not None and p95 > policy.p95_overhead_ms \
            and (robust or p50 > policy.p95_overhead_ms):
        found.append(("p95", policy.p95_overhead_ms, p95))
    return found


def skip_reason(profile: Any, profile_name: str, markexpr: str | None) -> str | None:
    """Why the latency flow does not run, or None. A profile that sends only safe methods (smoke: few cases,
    a live system's varying load) measures nothing unless `-m` asks for latency."""
    if not profile.bursts and "latency" not in (markexpr or ""):
        return (f"the {profile_name} profile measures no latency (its few cases say little and a live system's "
                "load varies); ask for it with -m latency")
    return None


def _r(value: float) -> float:
    return round(value, 2)


# ---------------------------------------------------------------- sending (only when parity left too little)

def _usable(answer: Answer) -> bool:
    return answer.ok and not answer.rate_limited and answer.attempts == 1


def _sample(ctx: CheckContext, n: int) -> tuple[list[float], list[float]]:
    """n example requests per target, one after another, the targets taking turns."""
    legacy, gateway = [], []
    for _ in range(n):
        for target, times in (("legacy", legacy), ("gateway", gateway)):
            answer = ctx.send(target)
            if _usable(answer):
                times.append(answer.elapsed)
        del ctx.answers[:-2]  # keep memory flat: the report shows the last pair only
    return legacy, gateway


def _burst(ctx: CheckContext, n: int) -> tuple[list[float], list[float]]:
    """n example requests per target, BURST_IN_FLIGHT at a time, the targets interleaved."""
    order = [t for _ in range(n) for t in ("legacy", "gateway")]
    with ThreadPoolExecutor(max_workers=BURST_IN_FLIGHT, thread_name_prefix="lockstep-burst") as pool:
        answers = list(pool.map(ctx.send, order))
    del ctx.answers[:-2]
    return ([a.elapsed for a in answers if a.target == "legacy" and _usable(a)],
            [a.elapsed for a in answers if a.target == "gateway" and _usable(a)])


# ---------------------------------------------------------------- the check

@check(FLOW, "overhead", group="overhead")
def overhead(ctx: CheckContext) -> Iterator[Finding]:
    op = ctx.operation
    policy = ctx.policy or LatencyPolicy()
    recorded = ctx.facts.timings.get(op.label, {"legacy": [], "gateway": []})
    legacy, gateway = list(recorded["legacy"]), list(recorded["gateway"])
    safe = op.method in SAFE_METHODS
    samples = {"parity": len(gateway)}
    if len(gateway) < MIN_SAMPLES:
        if not safe:
            _record(ctx, {"samples": samples, "verdict": "not measured"})
            yield ctx.finding("not-measured", "latency", f"only {len(gateway)} timed parity case(s) and {op.method} "
                              "is not sent just to time it: run the parity flow in the same process (no -m latency "
                              "alone, no xdist split)", severity="note")
            return
        more_legacy, more_gateway = _sample(ctx, policy.sample)
        legacy, gateway = legacy + more_legacy, gateway + more_gateway
        samples["sample"] = len(more_gateway)
    if policy.burst and safe:
        more_legacy, more_gateway = _burst(ctx, policy.burst)
        legacy, gateway = legacy + more_legacy, gateway + more_gateway
        samples["burst"] = len(more_gateway)
    if not legacy or not gateway:
        _record(ctx, {"samples": samples, "verdict": "not measured"})
        yield ctx.finding("not-measured", "latency", "no usable answer was timed (errors or rate limits)",
                          severity="note")
        return
    figure = {"samples": samples, **measure(legacy, gateway)}
    budget = {k: v for k, v in (("p50_overhead_ms", policy.p50_overhead_ms),
                                ("p95_overhead_ms", policy.p95_overhead_ms)) if v is not None}
    figure["budget"] = budget
    # a safe operation's breach is confirmed on a fresh sample below; a write's cannot be
    breaches = over_budget(figure, policy, robust=safe or len(gateway) >= ROBUST)
    judged = figure
    if breaches and safe and "sample" not in samples:
        fresh_legacy, fresh_gateway = _sample(ctx, policy.sample)
        if fresh_legacy and fresh_gateway:
            judged = figure["confirmation"] = {"samples": len(fresh_gateway), **measure(fresh_legacy, fresh_gateway)}
            breaches = over_budget(judged, policy)
    figure["verdict"] = "figures only" if not budget else "over budget" if breaches else "within budget"
    _record(ctx, figure)
    _attach(op.label, legacy, gateway, figure)
    for which, limit, measured in breaches:
        yield ctx.finding(f"{which}-over-budget", f"latency:{which}", f"the gateway adds {measured:g} ms at {which} "
                          f"(budget {limit:g} ms) over {judged['gateway']['n']} answers: legacy "
                          f"{judged['legacy'][which + '_ms']:g} ms, gateway {judged['gateway'][which + '_ms']:g} ms",
                          legacy=judged["legacy"][f"{which}_ms"], gateway=judged["gateway"][f"{which}_ms"],
                          answer=ctx.answers[-1] if ctx.answers else None)


def _record(ctx: CheckContext, figure: dict[str, Any]) -> None:
    ctx.figures[ctx.operation.label] = figure


def _attach(label: str, legacy: Sequence[float], gateway: Sequence[float], figure: dict[str, Any]) -> None:
    budget = figure.get("budget", {}).get("p95_overhead_ms")
    allure.attach(svg_chart(label, legacy, gateway, budget), name=f"latency: {label}",
                  attachment_type=allure.attachment_type.SVG)
    allure.attach(json.dumps(figure, indent=2), name="latency figures", attachment_type=allure.attachment_type.JSON)


