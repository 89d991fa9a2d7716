"""Per-step figures -> the knee and the budget at `rate` -> findings (flow `load`) and the figures dict.

The knee (issue 14): the first step where, on the gateway or on the token service, the p95 doubles
against the first step's, or the error rate passes the budget. A p95 under `knee_floor_ms` counts as that
much when looking for the doubling (loopback answers in a few ms: 3 -> 7 ms is no knee). The legacy is
measured alongside, never judged: its figures say whether the gateway or what it fronts gave way.

Findings: a `knee` when the knee is below `rate`; a `budget` finding per figure that fails at `rate`
(gateway and token p95 against `p95_ms`, every stream's error rate against `error_rate`, the gateway's
p95 overhead against `overhead_p95_ms`); a `not-reached` finding when the run stopped before `rate`
without a knee to show for it; a `generator-limited` note when a step was not offered in full with no
sign of strain (the load generator, not the target, was the limit: more workers, or other hosts).
"""

from __future__ import annotations

from typing import Any

from ..contract import LoadSpec
from ..findings import Finding
from .model import rate_of

__all__ = ["FLOW", "OPERATION", "judge", "find_knee", "load_figures", "compact"]

FLOW = "load"
OPERATION = "auth path"
JUDGED = ("gateway", "token")
NAMES = {"gateway": "the gateway", "token": "the token service", "legacy": "the legacy"}
OFFERED_SHORTFALL = 0.9  # achieved under 90% of offered, without strain: the generator could not keep up


def find_knee(steps: list[dict[str, Any]], spec: LoadSpec) -> dict[str, Any] | None:
    """The first step where a judged stream doubles its p95 or passes the error budget, with why."""
    if not steps:
        return None
    for step in steps:
        reasons = []
        for stream in JUDGED:
            reason = _strain(step, steps[0], stream, spec)
            if reason:
                reasons.append(reason)
        if reasons:
            return {"step": step["index"], "rate": step["rate"], "streams": [r[0] for r in reasons],
                    "why": "; ".join(r[1] for r in reasons)}
    return None


def _strain(step: dict[str, Any], first: dict[str, Any], stream: str, spec: LoadSpec) -> tuple[str, str] | None:
    fig, base = step.get(stream), first.get(stream)
    if not fig or not fig["requests"]:
        return None
    limit = spec.budget.error_rate
    if fig["error_rate"] > limit:
        return stream, (f"{NAMES[stream]} failed {fig['error_rate']:.1%} of its requests (budget {limit:.1%}; "
                        f"{_statuses(fig['errors'])})")
    if base and base["requests"] and step is not first:
        reference = max(base["p95_ms"], spec.knee_floor_ms)
        if fig["p95_ms"] > 2 * reference:
            return stream, (f"{NAMES[stream]}'s p95 doubled: {fig['p95_ms']:.0f} ms against {base['p95_ms']:.0f} ms "
                            f"at {first['rate']:g}/s" + (f" (floor {spec.knee_floor_ms:g} ms)"
                                                         if reference > base["p95_ms"] else ""))
    return None


def _statuses(errors: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "no status"


def compact(fig: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stream's figures without the per-operation detail (for a finding's legacy/gateway values)."""
    if not fig:
        return None
    return {k: fig[k] for k in ("requests", "achieved_rps", "p50_ms", "p95_ms", "p99_ms", "error_rate", "errors")}


def judge(results: dict[str, Any], spec: LoadSpec) -> tuple[list[Finding], dict[str, Any]]:
    """Findings and the figures for summary.json from the runner's results."""
    steps = [_with_overhead(s) for s in results.get("steps", [])]
    knee = find_knee(steps, spec)
    rate = rate_of(spec)
    findings: list[Finding] = []
    if knee is not None and knee["rate"] < rate:
        findings.append(_knee_finding(knee, _step(steps, knee["step"]), rate))
    at_rate = next((s for s in steps if s["rate"] == rate), None)
    if at_rate is not None:
        findings += _budget_findings(at_rate, spec)
    elif knee is None or knee["rate"] >= rate:
        findings.append(Finding(FLOW, OPERATION, "not-reached", f"rate {rate:g}/s",
                                message=f"the run ended before the step at {rate:g}/s "
                                        f"({results.get('stopped_early') or 'no step at rate was measured'})"))
    findings += _shortfall_notes(steps, knee)
    return findings, load_figures(results, steps, knee, spec)


def _with_overhead(step: dict[str, Any]) -> dict[str, Any]:
    g, l = step.get("gateway"), step.get("legacy")
    if g and l and g["requests"] and l["requests"]:
        step = {**step, "overhead_p95_ms": round(g["p95_ms"] - l["p95_ms"], 1)}
    return step


def _step(steps: list[dict[str, Any]], index: int) -> dict[str, Any]:
    return next(s for s in steps if s["index"] == index)


def _knee_finding(knee: dict[str, Any], step: dict[str, Any], rate: float) -> Finding:
    token = compact(step.get("token"))
    shown = (f"; token service {token['achieved_rps']:g}/s, p95 {token['p95_ms']:g} ms, errors {token['error_rate']:.1%}"
             if token else "")
    message = (f"the auth path breaks at {knee['rate']:g}/s, below the contract's rate {rate:g}/s: {knee['why']}{shown}")
    return Finding(FLOW, OPERATION, "knee", f"step {knee['step']} at {knee['rate']:g}/s",
                   legacy=compact(step.get("legacy")), gateway=compact(step.get("gateway")), message=message)


def _budget_findings(step: dict[str, Any], spec: LoadSpec) -> list[Finding]:
    budget, found = spec.budget, []
    where = f"step {step['index']} at {step['rate']:g}/s"

    def add(what: str, measured: float, limit: float, unit: str) -> None:
        shown = f"{measured:.1%} > {limit:.1%}" if unit == "%" else f"{measured:g} ms > {limit:g} ms"
        found.append(Finding(FLOW, OPERATION, "budget", f"{where}: {what}", legacy=compact(step.get("legacy")),
                             gateway=compact(step.get("gateway")),
                             message=f"at the contract's rate {step['rate']:g}/s, {what} is over budget: {shown}"))

    for stream in ("gateway", "token"):
        fig = step.get(stream)
        if fig and fig["requests"] and budget.p95_ms is not None and fig["p95_ms"] > budget.p95_ms:
            add(f"{NAMES[stream]}'s p95", fig["p95_ms"], budget.p95_ms, "ms")
    for stream in ("gateway", "legacy", "token"):
        fig = step.get(stream)
        if fig and fig["requests"] and fig["error_rate"] > budget.error_rate:
            add(f"{NAMES[stream]}'s error rate", fig["error_rate"], budget.error_rate, "%")
    overhead = step.get("overhead_p95_ms")
    if overhead is not None and budget.overhead_p95_ms is not None and overhead > budget.overhead_p95_ms:
        add("the gateway's p95 overhead over the legacy", overhead, budget.overhead_p95_ms, "ms")
    return found


def _shortfall_notes(steps: list[dict[str, Any]], knee: dict[str, Any] | None) -> list[Finding]:
    notes = []
    for step in steps:
        if knee is not None and step["index"] >= knee["step"]:
            break
        g = step.get("gateway")
        if g and g["achieved_rps"] < OFFERED_SHORTFALL * step["rate"]:
            notes.append(Finding(FLOW, OPERATION, "generator-limited", f"step {step['index']} at {step['rate']:g}/s",
                                 gateway=g["achieved_rps"], severity="note",
                                 message=f"only {g['achieved_rps']:g}/s of {step['rate']:g}/s were offered with no "
                                         f"sign of strain: the load generator was the limit (try --load-workers, or "
                                         f"workers on other hosts)"))
    return notes


def load_figures(results: dict[str, Any], steps: list[dict[str, Any]], knee: dict[str, Any] | None,
                 spec: LoadSpec) -> dict[str, Any]:
    return {"rate": rate_of(spec), "token_rate": spec.token_rate, "budget": spec.budget.model_dump(),
            "knee": knee, "stopped_early": results.get("stopped_early"), "steps": steps,
            "generator_cpu_warning": results.get("cpu_warning", False)}
