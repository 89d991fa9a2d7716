"""What the suites call at collection: the run's schema, settings, operations, scenarios, HAR entries."""

from __future__ import annotations

from typing import Any

import pytest

from ..settings import Settings
from ..stateful import scenarios_of
from .state import active

__all__ = ["lockstep_schema", "lockstep_settings", "lockstep_operations", "lockstep_scenarios",
           "lockstep_har_entries", "none_to_run"]


def lockstep_schema() -> Any:
    """The Schemathesis schema of the run, for `@schema.parametrize()` in the suites."""
    return active().schema


def lockstep_settings() -> Settings:
    """The run's resolved settings (contract, profile, seed, targets)."""
    return active().settings


def lockstep_operations() -> list[Any]:
    """The operations this run tests (lockstep.operations.Operation): the contract's selection and the profile's
    methods applied, for parametrize."""
    return active().operations


def none_to_run(name: str, reason: str) -> list[Any]:
    """One skipped placeholder saying why a suite's parameter list is empty (instead of pytest's "got empty
    parameter set")."""
    return [pytest.param(None, id=name, marks=pytest.mark.skip(reason=reason))]


def lockstep_scenarios() -> list[Any]:
    """The stateful scenarios (declared or inferred links), or one skipped placeholder saying why none run."""
    state = active()
    settings = state.settings
    if settings.profile.sequences == 0:
        return none_to_run("no-sequences", f"the {settings.profile_name} profile runs no stateful sequences "
                                           "(safe methods only)")
    scenarios = scenarios_of(state.schema, repeat_writes=settings.profile.sequence_repeat)
    if not scenarios:
        return none_to_run("no-links", "no write sequence can be built: the document declares no OpenAPI links "
                                       "and none could be inferred from its response schemas and path parameters")
    return scenarios


def lockstep_har_entries() -> list[Any]:
    """The recorded requests to replay (lockstep.har.HarEntry), or one skipped placeholder saying why none."""
    plan = active().har
    if plan is None:
        return none_to_run("no-har", "no recorded traffic to replay: pass --har FILE (a HAR exported by a browser "
                                     "or a proxy) or set `har:` in the contract")
    return plan.entries
