"""A browser on an allowed origin passes the preflight (catalog C01, C11, C14, C15): an ok status (2xx),
its exact origin, credentials as declared, the method in exact case, the headers it asks for, the max age.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.context import CheckContext
from ...findings import Finding
from ...targets import Answer
from .expect import expect, granted_preflights
from ...cors_policy import SAFELISTED_METHODS, Policy, asked_headers
from .probes import cannot, preflight, shown
from .reading import ACAC, ACAH, ACAM, ACAO, ACMA, STATUS, at, grants_header, grants_method, lists, \
    read_problems, tokens
from .register import cors_check, finding

__all__: list[str] = []


def _status_problem(answer: Answer) -> str | None:
    if not answer.ok:
        return f"the preflight got no answer ({answer.error})"
    status = answer.status or 0
    if 300 <= status < 400:
        return (f"the preflight is redirected ({status} to {answer.headers.get('location', '?')}); "
                f"browsers fail a redirected preflight")
    if status in (401, 403):
        return (f"the preflight is refused with {status}: browsers send no credentials on a preflight, so it "
                f"must be answered before authentication")
    if status in (404, 405):
        return f"the preflight is answered {status}: OPTIONS is not routed"
    return None if 200 <= status < 300 else f"the preflight is answered {status}, not 2xx"


@cors_check("preflight-status", "preflight")
def preflight_status(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    for origin in policy.allowed:
        answer = preflight(ctx, origin, headers=policy.headers)
        problem = _status_problem(answer)
        if problem:
            yield finding(ctx, policy, STATUS, f"{cannot(ctx, origin)}: {problem}", answer)


@cors_check("preflight-allow-origin", "preflight")
def preflight_allow_origin(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in granted_preflights(ctx, policy):
        problem = read_problems(answer, origin, policy.credentials).get(ACAO)
        if problem:
            yield finding(ctx, policy, ACAO, f"{cannot(ctx, origin)}: {problem}", answer)


@cors_check("preflight-allow-credentials", "preflight")
def preflight_allow_credentials(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in granted_preflights(ctx, policy):
        expected = expect(ctx, policy, origin)
        got = answer.headers.get_list("access-control-allow-credentials")
        problem = read_problems(answer, origin, True).get(ACAC)
        if expected.credentials and problem:
            yield finding(ctx, policy, ACAC, f"{cannot(ctx, origin)} with credentials: {problem}", answer,
                          credentials_mode="include")
        # only exactly `true` lets credentials through (`false` is harmless), and never with ACAO `*`
        elif not expected.credentials and got == ["true"] and "*" not in answer.headers.get_list(ACAO[7:]):
            yield finding(ctx, policy, ACAC, f"a browser at {origin} may send the user's credentials to "
                          f"{shown(ctx)}: Access-Control-Allow-Credentials is {', '.join(got)!r}, but "
                          f"{expected.source} shares no credentials", answer, credentials_mode="include")


@cors_check("preflight-allowed-methods", "preflight")
def preflight_allowed_methods(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    method = ctx.operation.method
    for origin, answer in granted_preflights(ctx, policy):
        if grants_method(answer, method, policy.credentials):
            continue
        listed = tokens(answer, "access-control-allow-methods")
        other_case = [m for m in listed if m.upper() == method]
        if other_case and method not in SAFELISTED_METHODS:
            reason = (f"Access-Control-Allow-Methods lists it as {other_case[0]!r}, and browsers compare "
                      f"{method} case-sensitively")
        else:
            reason = f"{method} is not in Access-Control-Allow-Methods"
        if method in SAFELISTED_METHODS:  # browsers allow GET, HEAD and POST without it
            yield finding(ctx, policy, ACAM, f"the preflight of {shown(ctx)} from {origin}: {reason} (browsers "
                          f"allow {method} anyway)", answer, severity="note")
        else:
            yield finding(ctx, policy, ACAM, f"{cannot(ctx, origin)}: {reason}", answer)


@cors_check("preflight-allowed-headers", "preflight")
def preflight_allowed_headers(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in granted_preflights(ctx, policy):
        asked = asked_headers(expect(ctx, policy, origin).headers)  # never Accept & co: browsers don't ask
        missing = [h for h in asked if not grants_header(answer, h, policy.credentials)]
        if not missing:
            continue
        verb = "is" if len(missing) == 1 else "are"
        star = " ('*' never covers Authorization)" if "*" in tokens(answer, "access-control-allow-headers") \
            and any(h.lower() == "authorization" for h in missing) else ""
        yield finding(ctx, policy, ACAH, f"{cannot(ctx, origin)}: {lists(missing)} {verb} not in "
                      f"Access-Control-Allow-Headers{star}", answer)


def _max_age_problem(got: str | None, expected: int, source: str) -> tuple[str, str]:
    """(what the browser does, why) for an Access-Control-Max-Age that is not the expected one."""
    if got is None:
        return "preflights {shown} too often", (f"there is no Access-Control-Max-Age ({expected} s in {source}), "
                                                f"so browsers cache the preflight for 5 s and send one before "
                                                f"almost every call")
    reason = f"Access-Control-Max-Age is {got!r}, {expected} s in {source}"
    if got.isdigit() and int(got) > expected:
        return "keeps the preflight of {shown} longer than declared", reason
    return "preflights {shown} too often", reason


@cors_check("preflight-max-age", "preflight")
def preflight_max_age(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in granted_preflights(ctx, policy):
        expected = expect(ctx, policy, origin)
        got = answer.headers.get("access-control-max-age")
        if expected.max_age is None or got == str(expected.max_age):
            continue
        does, reason = _max_age_problem(got, expected.max_age, expected.source)
        yield finding(ctx, policy, ACMA, f"a browser at {origin} {does.format(shown=shown(ctx))}: {reason}", answer)


@cors_check("as-legacy-baseline", "preflight")
def as_legacy_baseline(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    if not policy.as_legacy:
        return
    for origin in policy.allowed:
        legacy = preflight(ctx, origin, headers=policy.headers, target="legacy")
        if not legacy.ok or origin not in legacy.headers.get_list("access-control-allow-origin"):
            yield finding(ctx, policy, "legacy:" + ACAO, f"the policy says `as_legacy`, but the legacy answers "
                          f"no CORS to {origin}'s preflight: the gateway was judged against the declared policy",
                          legacy, legacy=at(legacy, ACAO), severity="note")
