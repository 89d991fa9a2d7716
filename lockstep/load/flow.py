"""The load flow from start to verdict, for the plugin's `load_check` fixture (which maps it onto pytest).

When it runs (the plugin decides, with `skip_reason`): only when asked, because it takes minutes and
sends real traffic: `-m` must name the `load` marker (`-m load`, `-m "load or parity"`); never on the
smoke profile; never without `loadable: true` on both targets. Then: the contract's operations checked
against the document, one quiet request each at rest, Locust's steps, the judgement.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..findings import Finding
from .judge import judge
from .model import check_operations, load_skip_reason
from .plan import LoadTargets, PlanError, at_rest, build_plan
from .runner import LoadRunError, Remote, run_locust

__all__ = ["skip_reason", "load_requested", "run_load", "LoadOutcome", "LoadTargets", "PlanError"]

_NAMED = re.compile(r"(?<![\w.-])load(?![\w.-])")
_NEGATED = re.compile(r"\bnot\s+\(?\s*load(?![\w.-])")


def load_requested(markexpr: str | None) -> bool:
    """True when `-m` names the load marker, not negated: the load flow is a run of its own kind."""
    expr = markexpr or ""
    return bool(_NAMED.search(expr)) and not _NEGATED.search(expr)


def skip_reason(contract: Any, profile_name: str, markexpr: str | None) -> str | None:
    reason = load_skip_reason(contract, profile_name)
    if reason:
        return reason
    if not load_requested(markexpr):
        return ("the load flow runs only when asked: it sends real traffic for a minute or more; run "
                "`pytest suites -m load` (add --load-workers N to spread the load generator over N processes)")
    return None


@dataclass
class LoadOutcome:
    findings: list[Finding]
    figures: dict[str, Any]
    progress: list[str] = field(default_factory=list)


def run_load(targets: LoadTargets, *, workers: int = 0, html: Path | None = None,
             progress: Callable[[str], None] = lambda line: None) -> LoadOutcome:
    """Plan, check at rest, run Locust, judge. Raises ContractError (an operation not in the document),
    PlanError (an example that fails at rest) or lockstep.load.runner.LoadRunError (no results)."""
    contract = targets.contract
    spec = contract.load
    check_operations(spec, [op.label for op in targets.operations], file=contract.file)
    plan = build_plan(targets, spec)
    problems = at_rest(plan, targets)
    if problems:
        raise PlanError("; ".join(problems) + ": load needs operations whose example requests succeed at rest")
    if plan.token_note:
        progress(f"load: {plan.token_note}")
    progress(f"load: {len(plan.steps)} steps ({', '.join(f'{s.rate:g}/s' for s in plan.steps)}), about "
             f"{plan.seconds:.0f} s, {'1 process' if not workers else f'a master and {workers} workers'}")
    if html is not None:  # the plan without secrets: what workers on other hosts are started with
        html.parent.mkdir(parents=True, exist_ok=True)
        plan.write(html.parent)
    remote = remote_workers(os.environ)
    run = run_locust(plan, workers=workers, html=html, progress=progress, remote=remote)
    findings, figures = judge(run.results, spec)
    figures.update({"workers": workers + (remote.workers if remote else 0), "worker_requests": run.worker_counts,
                    "total_requests": run.results.get("total_requests"), "seconds": run.seconds,
                    "token_note": plan.token_note, "html": str(html) if html else None})
    return LoadOutcome(findings, figures, run.progress)


def remote_workers(env: dict[str, str]) -> Remote | None:
    """$LOCKSTEP_LOAD_MASTER_BIND (host:port the master listens on) and $LOCKSTEP_LOAD_REMOTE_WORKERS (how many
    Locust workers on other hosts will join it), or None."""
    bind, count = env.get("LOCKSTEP_LOAD_MASTER_BIND"), env.get("LOCKSTEP_LOAD_REMOTE_WORKERS")
    if not bind and not count:
        return None
    host, _, port = (bind or "0.0.0.0:5557").rpartition(":")
    if not host or not port.isdigit() or not (count or "").isdigit() or int(count or 0) < 1:
        raise LoadRunError("remote load workers need LOCKSTEP_LOAD_MASTER_BIND=host:port and "
                           "LOCKSTEP_LOAD_REMOTE_WORKERS=N (N >= 1)")
    return Remote(host, int(port), int(count or 0))
