"""The whole contract."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ..errors import ContractError
from .base import _Model, _unknown
from .compare import CompareSpec, KnownDifference
from .cors import CorsPolicy
from .load import LoadSpec
from .policies import AuthPolicy, RoutesPolicy, LatencyPolicy
from .profiles import Profile, DEFAULT_PROFILES
from .selection import OperationSelection, ChecksSpec
from .targets import Targets

__all__ = ["Contract"]

class Contract(_Model):
    spec: str
    targets: Targets
    compare: CompareSpec = CompareSpec()
    cors: CorsPolicy | None = None
    auth: AuthPolicy | None = None
    routes: RoutesPolicy | None = None
    latency: LatencyPolicy | None = None
    load: LoadSpec | None = None  # the load flow's traffic and budget (lockstep/load/model.py)
    har: str | None = None  # a recorded-traffic file (HAR) to replay, relative to this file
    operations: OperationSelection = OperationSelection()
    checks: ChecksSpec = ChecksSpec()
    known_differences: list[KnownDifference] = []
    profiles: dict[str, Profile] = {}
    profile: str = "staging"
    seed: int | None = None
    # where the file lives: relative paths in it resolve from there (not a user key)
    base_dir: Path = Field(Path("."), exclude=True)
    file: str = Field("", exclude=True)

    @property
    def spec_path(self) -> Path:
        return (self.base_dir / self.spec).resolve()

    def profile_named(self, name: str) -> Profile:
        merged = {**DEFAULT_PROFILES, **self.profiles}
        if name not in merged:
            raise ContractError(_unknown("profile", name, list(merged)), file=self.file, where="profile")
        return merged[name]
