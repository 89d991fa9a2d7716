"""migration.yaml -> a validated Contract.

Values come from the file, `${VAR}` / `${VAR:-default}` environment variables, and pytest options, in
that order of rising precedence (options are applied by `with_overrides`). Every problem is raised as a
ContractError naming the file and the key, before any request is sent.

The sections live in modules of their own (targets, compare, profiles, cors, policies, selection, load);
this package re-exports every public name, so `from lockstep.contract import X` keeps working.
"""

from __future__ import annotations

from .base import DEMO
from .targets import AuthSpec, Timeouts, TargetSpec, Targets, check_target_url
from .compare import DEFAULT_COMPARE_HEADERS, IgnoreRule, CompareSpec, KnownDifference
from .profiles import Profile, DEFAULT_PROFILES
from .cors import CorsOverride, CorsPolicy
from .policies import AuthPolicy, RouteAlias, RoutesPolicy, LatencyPolicy
from .selection import OperationSelector, OperationSelection, DisabledCheck, ChecksSpec
from .load import LoadBudget, LoadSpec
from .model import Contract
from .loader import load_contract

__all__ = ["DEMO", "AuthSpec", "Timeouts", "TargetSpec", "Targets", "check_target_url", "DEFAULT_COMPARE_HEADERS", "IgnoreRule", "CompareSpec", "KnownDifference", "Profile", "DEFAULT_PROFILES", "CorsOverride", "CorsPolicy", "AuthPolicy", "RouteAlias", "RoutesPolicy", "LatencyPolicy", "OperationSelector", "OperationSelection", "DisabledCheck", "ChecksSpec", "LoadBudget", "LoadSpec", "Contract", "load_contract"]
