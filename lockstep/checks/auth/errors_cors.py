"""CORS on the gateway's own auth errors (catalog C12): the 401 for a bad token and the 403 for a lacking
scope carry the CORS headers of an allowed origin, or a browser shows "CORS error" instead of the status.
(The plain 401 without a token is the CORS flow's `error-401`.)"""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.context import CheckContext
from ...engine.registry import check
from ...findings import Finding
from ...tokens import Variant, scope_lacking
from ...cors_policy import policy_for  # the per-operation CORS policy: core, shared by the CORS and auth flows
from .challenge import Problem, Verdict, grouped
from .material import material
from .sending import send_variant
from .skips import auth_slice, require

__all__ = ["errors_carry_cors"]

FLOW = "auth"


@check(FLOW, "errors-carry-cors", group="cors")
def errors_carry_cors(ctx: CheckContext) -> Iterator[Finding]:
    """The gateway's 401 (invalid token) and 403 (lacking scope) carry the CORS headers of an allowed origin."""
    if not ctx.operation.protected:
        return
    require(ctx, "cors")
    policy = policy_for(auth_slice(ctx).cors, ctx.operation)
    if not policy.enabled or not policy.allowed:
        return
    origin = policy.allowed[0]
    found = material(ctx)
    cases: list[Variant] = [found.variants().by_name("sig-flipped")]
    if found.signer is not None and ctx.operation.scopes:
        cases.append(scope_lacking(found.signer, found.token, ctx.operation.scopes,
                                   scope_claim=found.policy.scope_claim))
    problems: list[Problem] = []
    for variant in cases:
        answer = send_variant(ctx, variant, extra=[("Origin", origin)])
        if answer.error or not 400 <= (answer.status or 0) < 500:
            continue  # not an error answer: the refusal checks judge it
        acao = answer.headers.get_list("access-control-allow-origin")
        missing = []
        if not (acao == [origin] or (acao == ["*"] and not policy.credentials)):
            missing.append(f"Access-Control-Allow-Origin {acao[0] if acao else 'absent'}")
        if policy.credentials and answer.headers.get("access-control-allow-credentials") != "true":
            missing.append("Access-Control-Allow-Credentials absent")
        if missing:
            problems.append((variant, Verdict("auth-error-without-cors", f"Access-Control-Allow-Origin: {origin}",
                                              f"{answer.status} with {', '.join(missing)}"), answer))
    yield from grouped(ctx, problems)
