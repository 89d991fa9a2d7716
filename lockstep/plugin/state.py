"""The run's state, kept in `config.stash` (one RunState per pytest run, controller and workers alike)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..session import LockstepSession
from ..settings import Settings

__all__ = ["RunState", "STATE", "ITEM_FINDINGS", "LABELLED", "state_of", "active", "activate", "deactivate"]


@dataclass
class RunState:
    settings: Settings
    schema: Any  # the Schemathesis schema, filtered by the profile and the contract's `operations`
    operations: list[Any]  # lockstep.operations.Operation: the ones this run tests
    session: LockstepSession
    har: Any = None  # lockstep.har.HarPlan, when there is traffic to replay
    totals: Counter[str] = field(default_factory=Counter)
    summary: dict[str, Any] | None = None
    exit_reason: str | None = None  # why the run stopped early (printed last, plainly)
    running: Any = None  # the test item being called (for the session-scoped parity_check)
    inferred_links: list[str] = field(default_factory=list)


STATE = pytest.StashKey[RunState]()
ITEM_FINDINGS = pytest.StashKey[list]()
LABELLED = pytest.StashKey[bool]()
_ACTIVE: list[pytest.Config] = []  # the config of the run in progress: suites read it at collection


def activate(config: pytest.Config) -> None:
    _ACTIVE.append(config)


def deactivate(config: pytest.Config) -> None:
    if config in _ACTIVE:
        _ACTIVE.remove(config)


def state_of(config: pytest.Config) -> RunState | None:
    return config.stash.get(STATE, None)


def active() -> RunState:
    """The run in progress, for the suites' module-level `lockstep_schema()` and friends."""
    state = state_of(_ACTIVE[-1]) if _ACTIVE else None
    if state is None:
        raise RuntimeError("lockstep's plugin is not active: run pytest from the project root "
                           "(its conftest.py loads lockstep.pytest_plugin)")
    return state
