"""lockstep's exceptions. Every one carries a message a user can act on; none is a bug report.

    LockstepError
    ├── ContractError        the contract or the OpenAPI document cannot be used (before any request)
    ├── UnsafeRequestError   a request the profile or the target's `writable: false` forbids
    └── TargetUnreachable    a target did not answer the start-up probe
"""

from __future__ import annotations

__all__ = ["LockstepError", "ContractError", "UnsafeRequestError", "TargetUnreachable"]


class LockstepError(Exception):
    """Base of everything lockstep raises on purpose."""


class ContractError(LockstepError):
    """The contract, a `${VAR}` it names, or the OpenAPI document is unusable."""

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None) -> None:
        self.file, self.where = file, where
        prefix = file or ""
        if where:
            prefix = f"{prefix}: {where}" if prefix else where
        super().__init__(f"{prefix}: {message}" if prefix else message)


class UnsafeRequestError(LockstepError):
    """A non-safe method would have been sent where only safe ones are allowed."""


class TargetUnreachable(LockstepError):
    """A target did not answer at all (refused, unresolvable, TLS, timeout)."""
