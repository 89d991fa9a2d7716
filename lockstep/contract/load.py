"""The load flow's traffic and budget."""

from __future__ import annotations

from pydantic import Field, field_validator

from ..rates import parse_rate
from .base import _Model

__all__ = ["LoadBudget", "LoadSpec"]

class LoadBudget(_Model):
    p95_ms: float | None = Field(None, gt=0)  # gateway and token service p95 at `rate`
    error_rate: float = Field(0.01, ge=0, lt=1)  # share of failed requests (any stream); also the early stop
    overhead_p95_ms: float | None = Field(None, gt=0)  # gateway p95 minus legacy p95 at `rate`


class LoadSpec(_Model):
    """The load flow's traffic and budget; lockstep/load/model.py turns it into steps. Bounded on purpose:
    at most 12 steps of at most 5000/s and 600 s each, safe reads only."""

    rate: str  # the traffic the cutover must hold, N/s
    duration: float = Field(60, gt=0, le=600)  # seconds at `rate`
    ramp: list[int] = []  # rising steps, requests/s; `rate` joins them
    step_duration: float = Field(10, ge=2, le=600)  # seconds each other step lasts
    operations: list[str] = Field(min_length=1)  # `GET /path` as in the document, driven by their examples
    token_rate: str | None = None  # token requests/s at `rate` (each step in proportion)
    budget: LoadBudget = LoadBudget()
    knee_floor_ms: float = Field(50, ge=0)  # a p95 under this counts as this much when looking for the doubling

    @field_validator("rate", "token_rate")
    @classmethod
    def _rates(cls, value: str | None) -> str | None:
        if value is not None and parse_rate(value)[0] > 5000:
            raise ValueError(f"{value}: more than 5000/s; split it over load workers on other hosts")
        return value

    @field_validator("ramp")
    @classmethod
    def _ramp(cls, steps: list[int]) -> list[int]:
        if any(s < 1 or s > 5000 for s in steps) or sorted(set(steps)) != steps or len(steps) > 11:
            raise ValueError("ramp: at most 11 rising steps, each 1 to 5000 requests/s")
        return steps

    @field_validator("operations")
    @classmethod
    def _operations(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            method, _, path = value.strip().partition(" ")
            if method.upper() not in ("GET", "HEAD") or not path.strip().startswith("/"):
                raise ValueError(f"{value!r}: write `GET /path` as in the document (only safe reads carry load)")
            out.append(f"{method.upper()} {path.strip()}")
        return out
