"""Who decided, the gateway or the upstream? A gateway forwards `Authorization` upstream, and an upstream may
judge credentials itself (a case-sensitive `Bearer ` check, its own 401 without a challenge). Where the
legacy answers the same credential the same way, the behaviour is the API's own: a `spec-gap` note, never a
gateway finding.

The legacy's answer can only excuse what it can soundly decide:
- a refusal the RFCs would word otherwise (wrong status, no challenge, another error code, a refused scheme
  case or lacking scope): excused when the legacy accepts the canonical `Bearer <token>` request and answers
  the variant with the same refusal (status, Bearer challenge or none, error code);
- a 5xx: only for variants a gateway may let through (lenient ones, scheme case), where the upstream failed;
- an accepted credential: only where the catalog says "as the legacy" (a raw token, a token in the query:
  B04, B09), and only when the legacy authenticates itself (it refuses a request without any credential).
  A legacy that does no auth answers 200 to everything: that never excuses a forged token let through.
"""

from __future__ import annotations

from typing import Any

from ...engine.context import CheckContext
from ...errors import UnsafeRequestError
from ...targets import Answer
from ...tokens import ACCEPTED, LENIENT, Variant
from .challenge import REFUSAL_STATUSES, Verdict, got, refused, shape
from .material import material
from .sending import auth_path, plain_headers, wire

__all__ = ["LegacyWitness", "AS_LEGACY", "SAME_WAY"]

AS_LEGACY = frozenset({"raw-token", "query-only"})
SAME_WAY = frozenset({"wrong-refusal-status", "no-bearer-challenge", "wrong-error-code", "scheme-case-refused",
                      "scheme-case-differs", "scope-refusal-status", "scope-not-enforced"})
ACCEPTANCES = frozenset({"token-accepted", "not-refused"})


class LegacyWitness:
    """The legacy's answers to the credentials the gateway was judged on, asked only when a verdict needs them
    (a faithful gateway costs the legacy nothing); each distinct request is sent once."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self._answers: dict[Any, Answer | None] = {}

    def review(self, variant: Variant, verdict: Verdict, gateway: Answer) -> Verdict:
        """The verdict, or a `spec-gap` note where the legacy answers this credential the same way."""
        legacy = self._decided(variant, verdict, gateway)
        if legacy is None:
            return verdict
        return Verdict("spec-gap", verdict.expected, f"{verdict.got}, as the legacy: {got(legacy)}", "note", legacy)

    def _decided(self, variant: Variant, verdict: Verdict, gateway: Answer) -> Answer | None:
        if not _eligible(variant, verdict):
            return None
        canonical = self.canonical()
        if canonical is None or not _accepts(canonical):
            return None  # the legacy refuses the valid token too: its refusals say nothing about this variant
        legacy = self.send([(k, wire(v)) for k, v in variant.headers], variant.query)
        if legacy is None or not legacy.ok or legacy.rate_limited:
            return None
        if verdict.check in ACCEPTANCES:
            same = self.authenticates() and legacy.status == canonical.status and not refused(legacy)
        else:
            same = shape(legacy) == shape(gateway) and legacy.status != canonical.status
            same = same and (verdict.check in ("server-error", "scheme-case-differs")
                             or (legacy.status or 0) in REFUSAL_STATUSES)
        return legacy if same else None

    def canonical(self) -> Answer | None:
        """The legacy's answer to `Bearer <the gateway token>` beside its own headers (None: not sent)."""
        token = material(self.ctx).token
        return self.send([("Authorization", f"Bearer {token}")]) if token else None

    def authenticates(self) -> bool:
        """The legacy judges credentials itself: it accepts the valid token and refuses a request without any."""
        canonical, missing = self.canonical(), self.send([])
        return canonical is not None and _accepts(canonical) and missing is not None and refused(missing)

    def send(self, headers: list[tuple[str, Any]], query: dict[str, str] | None = None) -> Answer | None:
        key = (tuple(headers), tuple(sorted((query or {}).items())))
        if key not in self._answers:
            try:
                self._answers[key] = self.ctx.send("legacy", path=auth_path(self.ctx.operation),
                                                   headers=plain_headers(self.ctx, "legacy") + headers,
                                                   query=query or None, credentials=False)
            except UnsafeRequestError:  # the legacy may not receive this method: no comparison
                self._answers[key] = None
        return self._answers[key]


def _eligible(variant: Variant, verdict: Verdict) -> bool:
    if verdict.check in SAME_WAY:
        return True
    if verdict.check == "server-error":
        return variant.expect in (LENIENT, ACCEPTED)
    return verdict.check in ACCEPTANCES and variant.name in AS_LEGACY


def _accepts(answer: Answer) -> bool:
    return answer.ok and not answer.rate_limited and not refused(answer) and (answer.status or 0) < 500
