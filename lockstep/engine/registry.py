"""Checks are plain functions registered by name under a flow, Schemathesis-style:

    @check("cors", "preflight-allow-origin", group="preflight")
    def preflight_allow_origin(ctx: CheckContext) -> Iterable[Finding]: ...

A check sends what it needs through `ctx.send` and yields findings; `group` lets one suite line run a
related set of checks. Parity's comparison rules are registered by name too (`rule`): the judge drops
the differences of a disabled rule. `load_all_checks()` imports every check module once; the contract's
`checks: {disable: [...]}` names checks as `flow.name` (or a bare name for every flow).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..findings import Finding
    from .context import CheckContext

__all__ = ["check", "rule", "checks_for", "rule_names", "all_checks", "load_all_checks", "RegisteredCheck",
           "is_disabled", "flow_policy", "policy_of"]

CHECK_MODULES = ("parity", "cors", "auth", "routes", "latency")  # under lockstep.checks


@dataclass(frozen=True)
class RegisteredCheck:
    flow: str
    name: str
    group: str
    func: Callable[["CheckContext"], Iterable["Finding"]] | None  # None: a parity rule applied by the judge
    doc: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.flow}.{self.name}"


_REGISTRY: dict[tuple[str, str], RegisteredCheck] = {}
_POLICIES: dict[str, Callable[[Any], Any]] = {}


def check(flow: str, name: str, *, group: str = "default") -> Callable:
    """Register `func(ctx) -> Iterable[Finding]` as check `flow.name`."""
    def register(func: Callable[["CheckContext"], Iterable["Finding"]]) -> Callable:
        _REGISTRY[(flow, name)] = RegisteredCheck(flow, name, group, func, (func.__doc__ or "").strip())
        return func

    return register


def rule(flow: str, name: str, doc: str) -> None:
    """Register a comparison rule the judge applies (a difference category), so it can be disabled by name."""
    _REGISTRY[(flow, name)] = RegisteredCheck(flow, name, "rules", None, doc)


def flow_policy(flow: str, slice_of: Callable[[Any], Any]) -> None:
    """How a flow's checks get their own slice of the contract (`ctx.policy`)."""
    _POLICIES[flow] = slice_of


def policy_of(flow: str, contract: Any) -> Any:
    return _POLICIES[flow](contract) if flow in _POLICIES else None


def is_disabled(flow: str, name: str, disabled: Iterable[str]) -> bool:
    off = set(disabled)
    return name in off or f"{flow}.{name}" in off


def checks_for(flow: str, *, group: str | None = None, disabled: Iterable[str] = ()) -> list[RegisteredCheck]:
    """The runnable checks of a flow (optionally one group), less the disabled ones."""
    off = tuple(disabled)
    return [c for c in _REGISTRY.values() if c.flow == flow and c.func is not None
            and (group is None or c.group == group) and not is_disabled(flow, c.name, off)]


def rule_names(flow: str) -> list[str]:
    return [c.name for c in _REGISTRY.values() if c.flow == flow and c.func is None]


def all_checks() -> list[RegisteredCheck]:
    return list(_REGISTRY.values())


def load_all_checks() -> list[RegisteredCheck]:
    """Import every check module (registering its checks) and return the registry."""
    for name in CHECK_MODULES:
        import_module(f"lockstep.checks.{name}")
    return all_checks()
