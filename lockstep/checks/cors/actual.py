"""A script on an allowed origin may read the answer (catalog C09, C10, C13): the actual request's answer
carries the origin, credentials as declared, and the headers scripts read in Expose-Headers."""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.context import CheckContext
from ...findings import Finding
from .expect import actual_legacy, expect
from ...cors_policy import Policy, readable_unasked
from .probes import actual_request, shown
from .reading import ACAO, ACEH, at, kept_by_caches, lists, read_problems, unexposed, varies_by_origin
from .replay import with_unexposed
from .register import cors_check, finding

__all__: list[str] = []


@cors_check("actual-allow-origin", "actual")
def actual_allow_origin(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    for origin in policy.allowed:
        answer = actual_request(ctx, origin)
        for location, problem in read_problems(answer, origin, policy.credentials).items():
            yield finding(ctx, policy, location, f"a script at {origin} cannot read the {answer.status} answer to "
                          f"{shown(ctx)}: {problem}", answer)
    if policy.wildcard and policy.enabled:  # C09: a static `*` does not depend on Origin
        answer = actual_request(ctx, None)
        # without it, only a cache can hand this answer to a browser's CORS request: Vary: Origin or
        # no-store keeps it from doing so
        cached = kept_by_caches(answer) and not varies_by_origin(answer)
        if answer.headers.get("access-control-allow-origin") != "*" and cached:
            yield finding(ctx, policy, ACAO + "#without-origin", f"the answer to {shown(ctx)} without an Origin "
                          f"header lacks the declared static 'Access-Control-Allow-Origin: *', and Vary does not "
                          f"name Origin: a cache may hand it to a browser's CORS request", answer,
                          gateway=at(answer, ACAO))


@cors_check("exposed-headers", "actual")
def exposed_headers(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    origin = policy.allowed[0]
    answer = actual_request(ctx, origin)
    expected = expect(ctx, policy, origin, actual_legacy(ctx, policy, origin))
    wanted = [h for h in expected.expose if not readable_unasked(h)]  # Content-Type & co need no entry
    missing = unexposed(answer, wanted, policy.credentials)
    if missing and not read_problems(answer, origin, policy.credentials):
        found = finding(ctx, policy, ACEH, f"a script at {origin} cannot read {lists(missing)} of the answer to "
                        f"{shown(ctx)}: not in Access-Control-Expose-Headers", answer)
        with_unexposed(found, missing)
        yield found
