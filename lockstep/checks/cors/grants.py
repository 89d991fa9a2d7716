"""Only what is declared is granted (catalog C03): a preflight asking for a method the path does not
offer, or for a header the policy does not list, is not granted.

Most gateways answer every preflight with one method list (nginx add_header, Kong's `methods`, Envoy's
`allow_methods`, API Gateway's AllowMethods). The policy's `methods` says what that list may hold
(`as_document`: only each path's own methods); unset, a method the list adds is a note. A gateway that
grants whatever the preflight asks for (it echoes Access-Control-Request-Method or -Headers) fails
whatever `methods` says.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.context import CheckContext
from ...findings import Finding
from ...targets import Answer
from ...cors_policy import Policy
from .probes import path_methods, preflight, shown, where
from .reading import ACAH, ACAM, grants_header, grants_method, is_2xx, tokens
from .register import cors_check, finding

__all__ = ["PROBE_HEADER", "PROBE_METHODS"]

PROBE_HEADER = "X-Lockstep-Unlisted-Probe"  # a header no policy lists: granting it means echoing
# methods a browser preflights and that ACAM alone decides (GET, HEAD, POST pass without an ACAM entry)
PROBE_METHODS = ("DELETE", "PUT", "PATCH")


def _may_grant(ctx: CheckContext, policy: Policy) -> set[str]:
    """The methods ACAM may list here: the path's own, plus the policy's `methods` list."""
    offered = path_methods(ctx)
    return offered | set(policy.methods) if isinstance(policy.methods, tuple) else offered


def _severity(policy: Policy, echoed: bool) -> tuple[str, str]:
    """(severity, what the message adds) for a granted method outside the path's own."""
    if echoed:
        return "failure", "grants the method the preflight asked for"
    if policy.methods is None:
        return "note", ("grants the method the preflight asked for; it is on every preflight's list, and the "
                        "policy sets no `methods` (the methods the gateway may grant, or `as_document`)")
    if policy.methods == "as_document":
        return "failure", "grants the method the preflight asked for (`methods: as_document`)"
    return "failure", f"grants the method the preflight asked for, beyond the policy's `methods` " \
                      f"({', '.join(policy.methods)})"


@cors_check("ungranted-method", "grants")
def ungranted_method(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    may = _may_grant(ctx, policy)
    probe = next((m for m in PROBE_METHODS if m not in may), None)
    if probe is None:
        return
    origin = policy.allowed[0]
    answer = preflight(ctx, origin, method=probe, headers=policy.headers)
    if not (is_2xx(answer) and grants_method(answer, probe, policy.credentials)):
        return
    usual = preflight(ctx, origin, headers=policy.headers)  # the operation's own preflight (memoised)
    echoed = is_2xx(usual) and not grants_method(usual, probe, policy.credentials)
    severity, how = _severity(policy, echoed)
    offered = ", ".join(sorted(path_methods(ctx)))
    yield finding(ctx, policy, ACAM, f"a browser at {origin} may send {probe} to {where(ctx)}, which offers only "
                  f"{offered}: Access-Control-Allow-Methods {how}", answer, severity=severity)


def _star_only(answer: Answer, name: str) -> bool:
    """Granted by `*` alone (no credentials): any header but Authorization, as Fetch allows."""
    return name.lower() not in {t.lower() for t in tokens(answer, "access-control-allow-headers")}


@cors_check("ungranted-header", "grants")
def ungranted_header(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    origin = policy.allowed[0]
    answer = preflight(ctx, origin, headers=[*policy.headers, PROBE_HEADER])
    if not (is_2xx(answer) and grants_header(answer, PROBE_HEADER, policy.credentials)):
        return
    if _star_only(answer, PROBE_HEADER):
        yield finding(ctx, policy, ACAH, f"a browser at {origin} may send any header but Authorization to "
                      f"{shown(ctx)}: Access-Control-Allow-Headers is '*' (without credentials, as Fetch "
                      f"allows); the policy lists {', '.join(policy.headers) or 'none'}", answer, severity="note")
        return
    yield finding(ctx, policy, ACAH, f"a browser at {origin} may send {PROBE_HEADER} to {shown(ctx)}, a header the "
                  f"policy does not list: Access-Control-Allow-Headers grants what the preflight asked for", answer)
