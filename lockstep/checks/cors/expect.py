"""What to expect of the gateway's grants: the declared policy, or with `as_legacy` the legacy's answers
to the same requests (the origins and the safety rules always come from the policy)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ...engine.context import CheckContext
from ...targets import Answer
from ...cors_policy import Policy
from .probes import actual, preflight, safe
from .reading import grants_header, is_2xx, tokens

__all__ = ["Expect", "expect", "granted_preflights", "actual_legacy"]


@dataclass(frozen=True)
class Expect:
    credentials: bool
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    max_age: int | None
    source: str  # "the policy" | "the legacy"


def expect(ctx: CheckContext, policy: Policy, origin: str, legacy: Answer | None = None) -> Expect:
    """The declared grants, or with `as_legacy` the legacy's grants to the same request (if it answers
    CORS to this origin at all; as-legacy-baseline reports when it does not)."""
    declared = Expect(policy.credentials, policy.headers, policy.expose, policy.max_age, "the policy")
    if not policy.as_legacy:
        return declared
    legacy = legacy or preflight(ctx, origin, headers=policy.headers, target="legacy")
    if not legacy.ok or origin not in legacy.headers.get_list("access-control-allow-origin"):
        return declared
    age = legacy.headers.get("access-control-max-age")
    return Expect(legacy.headers.get("access-control-allow-credentials") == "true",
                  tuple(h for h in policy.headers if grants_header(legacy, h, policy.credentials)),
                  tuple(tokens(legacy, "access-control-expose-headers")),
                  int(age) if age and age.isdigit() else None, "the legacy")


def granted_preflights(ctx: CheckContext, policy: Policy) -> Iterator[tuple[str, Answer]]:
    """Each allowed origin's preflight, where it was answered 2xx (preflight-status owns the rest)."""
    for origin in policy.allowed:
        answer = preflight(ctx, origin, headers=policy.headers)
        if is_2xx(answer):
            yield origin, answer


def actual_legacy(ctx: CheckContext, policy: Policy, origin: str) -> Answer | None:
    """The legacy's answer to the actual request, where `as_legacy` takes the exposed headers from it."""
    return actual(ctx, origin, target="legacy") if policy.as_legacy and safe(ctx) else None
