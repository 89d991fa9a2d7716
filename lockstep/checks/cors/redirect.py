"""A preflight is never redirected (catalog C15): browsers fail a redirected preflight. The variants of
the documented path (trailing slash, case) are what pages call by mistake; where the legacy redirects the
same variant too, the redirect is the API's own and pages calling the documented path never meet it."""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.context import CheckContext
from ...findings import Finding
from ...targets import Answer
from ...cors_policy import Policy
from .probes import preflight, shown
from .reading import STATUS
from .register import cors_check, finding

__all__: list[str] = []


def _variants(path: str) -> list[str]:
    found = [path.rstrip("/") + "/" if not path.endswith("/") else path.rstrip("/") or "/"]
    if path.upper() != path:
        found.append(path.upper())
    return found


def _redirected(answer: Answer) -> bool:
    return answer.ok and 300 <= (answer.status or 0) < 400


@cors_check("preflight-no-redirect", "redirect")
def preflight_no_redirect(ctx: CheckContext, policy: Policy) -> Iterator[Finding]:
    origin = policy.allowed[0]
    for variant in _variants(ctx.operation.example_path):
        answer = preflight(ctx, origin, headers=policy.headers, path=variant)
        if not _redirected(answer):
            continue
        message = (f"a browser at {origin} cannot {shown(ctx, path=variant)}: the preflight is redirected "
                   f"({answer.status} to {answer.headers.get('location', '?')}), and browsers fail a redirected "
                   f"preflight")
        legacy = preflight(ctx, origin, headers=policy.headers, path=variant, target="legacy")
        if _redirected(legacy):
            yield finding(ctx, policy, STATUS, f"{message}; the legacy redirects it too ({legacy.status}), so only "
                          f"pages calling this variant of the documented path meet it", answer,
                          legacy=legacy.status, severity="note")
        else:
            yield finding(ctx, policy, STATUS, message, answer)
