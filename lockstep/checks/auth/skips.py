"""Why an auth check cannot run here: no gateway token, no signing key, no CORS policy, a rate ceiling that
keeps the heavy lines to the identity probes, a gateway that is not on this machine (no burst)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ...engine.context import CheckContext, CheckSkipped
from .material import AuthSlice, material

__all__ = ["CannotRun", "skip_reason", "require", "full", "loopback", "auth_slice"]

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class CannotRun(CheckSkipped):
    """A check that cannot run in this run (the message says why): the flow runner reports it skipped."""


def auth_slice(ctx: CheckContext) -> AuthSlice:
    return ctx.policy if isinstance(ctx.policy, AuthSlice) else AuthSlice()


def skip_reason(ctx: CheckContext, *needs: str) -> str | None:
    """Why a checklist line cannot run here (None: it can). needs: token, key, cors, focus, loopback."""
    found = material(ctx)
    for need in needs:
        reason = None
        if need == "token" and found.token is None:
            reason = ("the gateway target has no token (targets.gateway.auth): the lines that need a valid token "
                      "cannot run")
        elif need == "key" and found.signer is None:
            reason = f"needs the issuer's signing key: {found.no_key}"
        elif need == "cors" and auth_slice(ctx).cors is None:
            reason = "the contract declares no `cors:` policy: the CORS headers of auth errors cannot be judged"
        elif need == "focus" and not full(ctx):
            probes = ", ".join(found.policy.identity_probe) or "no operation (auth.identity_probe is empty)"
            reason = f"under the rate ceiling of profile {ctx.facts.profile} this is measured on {probes} only"
        elif need == "loopback":
            reason = _no_burst(ctx)
        if reason:
            return reason
    return None


def require(ctx: CheckContext, *needs: str) -> None:
    """Raise CannotRun if a need is not met."""
    reason = skip_reason(ctx, *needs)
    if reason:
        raise CannotRun(reason)


def _no_burst(ctx: CheckContext) -> str | None:
    if not loopback(ctx.base_url("gateway")):
        return "the invalid-token burst is sent only to a gateway on this machine (127.0.0.1, ::1, localhost)"
    if ctx.facts.rate_ceiling:
        return "the profile sets a request-rate ceiling: no burst is sent"
    if not ctx.facts.bursts:
        return f"profile {ctx.facts.profile} sends no bursts (`bursts: false`)"
    return None


def full(ctx: CheckContext) -> bool:
    """The full variant set here? Always, unless a rate ceiling applies: then on the identity probes only."""
    if not ctx.facts.rate_ceiling:
        return True
    return ctx.operation.label in material(ctx).policy.identity_probe


def loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS
