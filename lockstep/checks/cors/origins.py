"""No other origin may call it (catalog C02, C05): another site, `null`, and look-alikes of each allowed
origin (the origin-validation mistakes real gateways make) get no Access-Control-Allow-Origin."""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.context import CheckContext
from ...findings import Finding
from ...targets import Answer
from ...cors_policy import Policy
from .probes import actual, preflight, safe, shown
from .reading import ACAO, STATUS
from .register import cors_check, finding

__all__ = ["fuzz_origins", "DISALLOWED"]

DISALLOWED = "https://evil.example"


def _look_alikes(allowed: str) -> list[tuple[str, str]]:
    scheme, _, rest = allowed.partition("://")
    host, _, port = rest.partition(":")
    found = [(f"{scheme}://{host}.evil.com", "prefix match"),
             (f"{scheme}://evil{host}", "suffix match"),
             (f"{scheme}://evil.{host}", "any subdomain"),
             (f"{scheme}://{host[:-1]}", "substring"),
             (f"{scheme}://{host}_.evil.com", "special character"),
             (f"{scheme}://{host}`.evil.com", "special character"),
             (f"{scheme}://{host}}}.evil.com", "special character"),
             (f"{scheme}://{host}:{int(port) + 1 if port else 8443}", "another port")]
    if "." in host:
        found.append((f"{scheme}://{host.replace('.', 'x', 1)}", "unescaped dot"))
    if scheme == "https":
        found.append((f"http://{rest}", "http for https"))
    return found


def fuzz_origins(policy: Policy) -> list[tuple[str, str]]:
    """(origin, what it probes) a strict allowlist refuses: catalog C02 and C05, none of them allowed."""
    found = [(DISALLOWED, "another site"), ("null", "null (sandboxed frame, file)")]
    for allowed in (o for o in policy.origins if o != "*"):
        found += _look_alikes(allowed)
    seen: set[str] = set()
    return [(o, why) for o, why in found if o not in policy.origins and not (o in seen or seen.add(o))]


def _origin_probes(ctx: CheckContext, policy: Policy, origin: str) -> Iterator[Answer]:
    yield preflight(ctx, origin, headers=policy.headers)
    if safe(ctx):  # the credentialed request a hostile page's script would make
        yield actual(ctx, origin)


def _grants(answer: Answer, origin: str, policy: Policy) -> bool:
    acao = answer.headers.get_list("access-control-allow-origin")
    if acao == ["*"]:  # with credentials: no-wildcard-with-credentials; else only if the policy says `*`
        return answer.headers.get("access-control-allow-credentials") != "true" and not policy.wildcard
    return origin in [t.strip() for v in acao for t in v.split(",")]


@cors_check("disallowed-origins", "origins", offered=False)
def disallowed_origins(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    candidates = fuzz_origins(policy) + [(o, "allowed elsewhere, not here") for o in policy.origins
                                         if not policy.enabled and o != "*"]
    granted: list[tuple[str, str, Answer]] = []
    for origin, why in candidates:
        for answer in _origin_probes(ctx, policy, origin):
            if answer.ok and (answer.status or 0) >= 500:
                yield finding(ctx, policy, STATUS, f"the gateway fails with {answer.status} on a request to "
                              f"{shown(ctx)} from {origin}", answer)
            if _grants(answer, origin, policy):
                granted.append((origin, why, answer))
                break
    if granted:
        answer = granted[0][2]
        with_credentials = answer.headers.get("access-control-allow-credentials") == "true"
        how = "with the user's credentials" if with_credentials else "and read the answer"
        listed = "; ".join(f"{o} ({why})" for o, why, _ in granted)
        yield finding(ctx, policy, ACAO, f"a page at {granted[0][0]} can call {shown(ctx)} {how}: "
                      f"Access-Control-Allow-Origin grants {len(granted)} origin(s) outside the policy: {listed}",
                      answer, gateway=[o for o, _, _ in granted],
                      credentials_mode="include" if with_credentials else "omit")
