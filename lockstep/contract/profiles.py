"""Profiles: how hard and how safely a run tests (smoke, staging, deep, or the contract's own)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import _Model

__all__ = ["Profile", "DEFAULT_PROFILES"]

class Profile(_Model):
    methods: list[str] | None = None  # None: every method
    max_examples: int = Field(10, ge=1)
    rate: str | None = None
    sequences: int = Field(5, ge=0)  # stateful sequences per scenario; 0: no stateful flow
    sequence_repeat: int = Field(1, ge=1)  # how often a sequence repeats its writes
    negative: bool = False
    time_budget: float | None = Field(None, gt=0)  # seconds; tests starting later are skipped
    phases: list[Literal["examples", "coverage", "fuzzing"]] = ["examples", "fuzzing"]
    bursts: bool = True  # bounded bursts (the CORS 429 probe, auth and latency bursts); never on live
    deadline: float = Field(30, gt=0)  # seconds per operation and flow: its test then ends with what it judged


DEFAULT_PROFILES: dict[str, Profile] = {
    "smoke": Profile(methods=["GET", "HEAD", "OPTIONS"], max_examples=3, rate="10/s", sequences=0,
                     phases=["examples", "fuzzing"], time_budget=300, bursts=False, deadline=20),
    "staging": Profile(max_examples=10, sequences=5, deadline=30),
    "deep": Profile(max_examples=60, negative=True, phases=["examples", "coverage", "fuzzing"], sequences=25,
                    sequence_repeat=2, deadline=180),
}
