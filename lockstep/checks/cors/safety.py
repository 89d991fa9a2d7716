"""Credentials never go with a wildcard, and there is exactly one Access-Control-Allow-Origin (catalog
C06, C07): whatever the legacy does, and whether or not the policy enables CORS here."""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.context import CheckContext
from ...findings import Finding
from ...targets import Answer
from .origins import DISALLOWED
from ...cors_policy import Policy
from .probes import actual, preflight, safe, shown
from .reading import ACAO, star_with_credentials
from .register import cors_check, finding

__all__: list[str] = []


def _safety_answers(ctx: CheckContext, policy: Policy) -> Iterator[tuple[str | None, Answer]]:
    """Preflights and (safe operations) actual requests from an allowed origin, another site, and none."""
    origins: list[str | None] = [*policy.allowed[:1], DISALLOWED]
    for origin in origins:
        yield origin, preflight(ctx, str(origin), headers=policy.headers)
    if safe(ctx):
        for origin in [*origins, None]:
            yield origin, actual(ctx, origin)


@cors_check("no-wildcard-with-credentials", "safety", offered=False)
def no_wildcard_with_credentials(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    # with a `*` policy that shares no credentials the pair is harmless: browsers refuse only the
    # credentialed calls, which the policy does not make
    harmless = policy.wildcard and not policy.credentials and policy.enabled
    for origin, answer in _safety_answers(ctx, policy):
        if star_with_credentials(answer):
            who = f"a browser at {origin}" if origin else "a browser"
            message = (f"{who} cannot call {shown(ctx)} with credentials: Access-Control-Allow-Origin is '*' while "
                       f"Access-Control-Allow-Credentials is 'true'; browsers refuse the wildcard with credentials, "
                       f"and the policy allows only {', '.join(policy.origins)}")
            if harmless:
                message = (f"Access-Control-Allow-Origin is '*' while Access-Control-Allow-Credentials is 'true' on "
                           f"{shown(ctx)}: browsers refuse only calls with credentials, which the policy (`*`, no "
                           f"credentials) does not make")
            yield finding(ctx, policy, ACAO, message, answer, severity="note" if harmless else "failure",
                          credentials_mode="include")


@cors_check("single-allow-origin", "safety", offered=False)
def single_allow_origin(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in _safety_answers(ctx, policy):
        acao = answer.headers.get_list("access-control-allow-origin")
        if len(acao) > 1 or any("," in v for v in acao):
            who = f"a browser at {origin}" if origin else "a browser"
            yield finding(ctx, policy, ACAO, f"{who} cannot {shown(ctx)}: Access-Control-Allow-Origin holds "
                          f"{', '.join(acao)!r}, and browsers accept exactly one value (is it added twice, by the "
                          f"gateway and by the upstream?)", answer)
