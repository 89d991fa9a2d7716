"""Caches keep answers apart by origin (catalog C08): `Vary: Origin` on every origin-specific answer a
cache may store, and on the answer to a request without Origin; the legacy's Vary tokens kept.

Only what an HTTP cache may store and hand to another request is judged: GET and HEAD answers without
`Cache-Control: no-store`. Preflight answers are never stored by HTTP caches, and browsers key their
preflight cache by origin themselves, so a preflight needs no Vary.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.context import CheckContext
from ...findings import Finding
from ...cors_policy import Policy
from .probes import actual, safe, shown, unknown_path
from .reading import VARY, at, kept_by_caches, origin_specific, tokens, varies_by_origin
from .register import cors_check, finding

__all__: list[str] = []


@cors_check("vary-origin", "vary")
def vary_origin(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    origin = policy.allowed[0]
    answers = [("the gateway's 404", actual(ctx, origin, method="GET", path=unknown_path(ctx)))]
    if safe(ctx):
        answers.append(("the answer", actual(ctx, origin)))
        if not policy.wildcard:  # a cached answer without CORS headers must not reach a browser either
            answers.append(("the answer to a request without Origin", actual(ctx, None)))
    for what, answer in answers:
        if not answer.ok or not kept_by_caches(answer) or varies_by_origin(answer):
            continue
        if what.endswith("without Origin"):
            yield finding(ctx, policy, VARY, f"a shared cache may give a browser at {origin} the answer to "
                          f"{shown(ctx)} it kept for a request without Origin (no CORS headers): Vary does not "
                          f"name Origin", answer)
        elif origin_specific(answer):
            yield finding(ctx, policy, VARY, f"a shared cache may give a browser at another origin {what} of "
                          f"{shown(ctx)} it kept for {origin}: Vary does not name Origin", answer)


@cors_check("vary-keeps-legacy", "vary")
def vary_keeps_legacy(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    if not safe(ctx):
        return
    origin = policy.allowed[0]
    legacy, gateway = actual(ctx, origin, target="legacy"), actual(ctx, origin)
    if not (legacy.ok and gateway.ok) or legacy.status != gateway.status or not kept_by_caches(gateway):
        return  # e.g. rate limited: another answer, other headers; or nothing a cache keeps
    kept = {t.lower() for t in tokens(gateway, "vary")}
    lost = [t for t in tokens(legacy, "vary") if t.lower() not in kept and "*" not in kept]
    if lost:
        yield finding(ctx, policy, VARY, f"a shared cache may mix answers to {shown(ctx)}: the gateway's Vary drops "
                      f"{', '.join(lost)}, which the legacy sent", gateway, legacy=at(legacy, VARY))
