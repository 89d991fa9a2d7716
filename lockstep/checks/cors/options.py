"""A plain OPTIONS (no preflight's headers) is answered like the legacy (catalog C04): the CORS layer must
not swallow it (same status class, same Allow)."""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.context import CheckContext
from ...findings import Finding
from ...cors_policy import Policy
from .probes import where
from .reading import ALLOW, STATUS, at, tokens
from .register import cors_check, finding

__all__: list[str] = []


@cors_check("plain-options", "plain-options", offered=False)
def plain_options(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    legacy, gateway = ctx.send("legacy", "OPTIONS"), ctx.send("gateway", "OPTIONS")
    if not legacy.ok:
        return
    shown = f"a plain OPTIONS {where(ctx)} (no preflight)"
    if not gateway.ok or (gateway.status or 0) // 100 != (legacy.status or 0) // 100:
        yield finding(ctx, policy, STATUS, f"{shown} is answered {gateway.status or gateway.error}, the legacy "
                      f"answered {legacy.status}", gateway, legacy=legacy.status)
        return
    allow_l = {t.upper() for t in tokens(legacy, "allow")}
    allow_g = {t.upper() for t in tokens(gateway, "allow")}
    if allow_l != allow_g:
        yield finding(ctx, policy, ALLOW, f"{shown} answers Allow {', '.join(sorted(allow_g)) or '(none)'}, the "
                      f"legacy {', '.join(sorted(allow_l)) or '(none)'}", gateway, legacy=at(legacy, ALLOW))
