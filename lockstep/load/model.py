"""The contract's `load:` section (lockstep.contract.LoadSpec) as steps, checks and skip reasons.

    load:
      rate: 200/s                      # the traffic the cutover must hold
      duration: 60                     # seconds at that rate
      ramp: [25, 50, 100, 200, 400]    # steps (requests/s to each target); `rate` joins them
      step_duration: 10                # seconds each other step lasts
      operations: [GET /recipes, GET /subscriptions/{subscription_id}]   # safe reads, by their example requests
      token_rate: 20/s                 # token requests at `rate`; each step in proportion
      budget: {p95_ms: 150, error_rate: 0.01, overhead_p95_ms: 30}
      knee_floor_ms: 50                # a p95 under this counts as this much when looking for the doubling

The model lives in lockstep.contract with the other policies (the core layer must not import flows).
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from typing import Any

from ..contract import LoadSpec
from ..errors import ContractError
from ..rates import parse_rate

__all__ = ["Step", "steps_of", "rate_of", "token_ratio", "check_operations", "load_skip_reason"]


@dataclass(frozen=True)
class Step:
    index: int  # 1-based, in the order run
    rate: float  # request pairs/s: this many requests/s to the gateway and as many to the legacy
    token_rate: float  # token requests/s
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rate_of(spec: LoadSpec) -> float:
    return parse_rate(spec.rate)[0]


def token_ratio(spec: LoadSpec) -> float:
    """Token requests per request pair: token_rate / rate (0 without a token_rate)."""
    return parse_rate(spec.token_rate)[0] / rate_of(spec) if spec.token_rate else 0.0


def steps_of(spec: LoadSpec) -> list[Step]:
    """The ramp with `rate` in it, rising; the step at `rate` lasts `duration`, the others `step_duration`."""
    rate, ratio = rate_of(spec), token_ratio(spec)
    rates = sorted({*(float(s) for s in spec.ramp), rate})
    return [Step(i, r, round(r * ratio, 3), spec.duration if r == rate else spec.step_duration)
            for i, r in enumerate(rates, 1)]


def check_operations(spec: LoadSpec, labels: list[str], *, file: str = "") -> None:
    """Every `load.operations` entry must be an operation of the document, and `rate` a whole number a
    second (one user per request pair); else one ContractError line naming the key."""
    known = set(labels)
    for i, label in enumerate(spec.operations):
        if label not in known:
            close = difflib.get_close_matches(label, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ContractError(f"{label!r} is not an operation of the document{hint}", file=file,
                                where=f"load.operations[{i}]")
    if rate_of(spec) != int(rate_of(spec)):
        raise ContractError(f"{spec.rate}: write a whole number of requests a second", file=file, where="load.rate")


def load_skip_reason(contract: Any, profile_name: str) -> str | None:
    """Why no load may be sent, or None: no `load:` section, the smoke profile, a target not `loadable`."""
    if contract.load is None:
        return "the contract has no `load:` section (rate, ramp, operations, budget): nothing to measure"
    if profile_name == "smoke":
        return "the smoke profile never sends load (it runs against live systems)"
    refused = [name for name in ("legacy", "gateway") if not getattr(contract.targets, name).loadable]
    if refused:
        return (f"the contract does not mark {' and '.join(refused)} `loadable: true`: load is never sent to a "
                f"target without that consent")
    return None
