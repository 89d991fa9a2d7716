"""The gateway's own errors carry CORS (catalog C12): a browser must see the 401, 404 or 405 itself, not
"CORS error", and its script must read the headers the policy exposes (WWW-Authenticate, Allow)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ...engine.context import CheckContext
from ...findings import Finding
from ...targets import Answer
from ...cors_policy import SAFELISTED_METHODS, Policy, readable_unasked
from .probes import actual, path_methods, preflight, shown, unknown_path
from .reading import ACEH, grants_method, is_2xx, lists, read_problems, unexposed
from .register import cors_check, finding

__all__ = ["error_findings"]

# the 405 probe: a method the path does not offer, safelisted ones first (a browser sends those after
# any preflight; the others only where the preflight grants them)
_ERROR_PROBES = ("GET", "POST", "DELETE", "PUT", "PATCH")


def error_findings(ctx: CheckContext, policy: Policy, origin: str, answer: Answer, what: str,
                   readable: Iterable[str] = ()) -> Iterator[Finding]:
    """A browser must see the error itself, not "CORS error": ACAO (+ credentials) and the headers its
    script reads (WWW-Authenticate on a 401, Retry-After on a 429) when the policy exposes them."""
    if not answer.ok or (answer.status or 0) < 400:
        return  # not an error answer: the actual-request checks judge it
    seen = f"a browser at {origin} sees a CORS error instead of the {answer.status} ({what}) of {shown(ctx)}"
    problems = read_problems(answer, origin, policy.credentials)
    for location, problem in problems.items():
        yield finding(ctx, policy, location, f"{seen}: {problem} on it", answer)
    exposed = {e.lower() for e in policy.expose}
    wanted = [h for h in readable if h.lower() in exposed and not readable_unasked(h)]
    missing = unexposed(answer, wanted, policy.credentials)
    if missing and not problems:
        yield finding(ctx, policy, ACEH, f"a script at {origin} cannot read {lists(missing)} of the "
                      f"{answer.status} ({what}) of {shown(ctx)}: not in Access-Control-Expose-Headers", answer)


@cors_check("error-401", "errors")
def error_401(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    if not ctx.operation.protected:
        return
    origin = policy.allowed[0]
    answer = actual(ctx, origin, credentials=False)
    yield from error_findings(ctx, policy, origin, answer, "no token", ["WWW-Authenticate"])


@cors_check("error-404", "errors")
def error_404(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    origin = policy.allowed[0]
    answer = actual(ctx, origin, method="GET", path=unknown_path(ctx))
    yield from error_findings(ctx, policy, origin, answer, "unknown path")


@cors_check("error-405", "errors")
def error_405(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    offered = path_methods(ctx)
    method = next((m for m in _ERROR_PROBES if m not in offered), None)
    if method is None:
        return
    origin = policy.allowed[0]
    if method not in SAFELISTED_METHODS:
        asked = preflight(ctx, origin, method=method, headers=policy.headers)
        if not (is_2xx(asked) and grants_method(asked, method, policy.credentials)):
            return  # the browser stops at the preflight and never sees this 405
    answer = actual(ctx, origin, method=method)  # refused by routing: never reaches a handler
    yield from error_findings(ctx, policy, origin, answer, f"{method} not allowed", ["Allow"])
