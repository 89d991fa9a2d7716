"""The refusal checks: forged and malformed credentials, claims only the issuer's key can sign, the scheme's
letter case, a valid token lacking the operation's scopes, and public operations that need no token.

Every verdict against the RFCs is then put to the legacy (legacy.py): where the legacy answers the same
credential the same way, the upstream decided, and the finding is a `spec-gap` note instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...engine.context import CheckContext
from ...engine.registry import check
from ...findings import Finding
from ...targets import SAFE_METHODS, Answer
from ...tokens import ACCEPTED, CHALLENGE, INVALID_TOKEN, LENIENT, OVERSIZE, REFUSED, Expect, Variant, scope_lacking
from .challenge import EXPECTED_TEXT, Problem, Verdict, bearer_challenge, got, grouped, judge, refused
from .legacy import LegacyWitness
from .material import material
from .sending import auth_path, plain_headers, send_valid, send_variant
from .skips import full, require

__all__ = ["refuse_forged", "refuse_claims", "scheme_case", "scope_403", "public_open", "variants_for"]

FLOW = "auth"
SCOPE_EXPECTED = '403 with `WWW-Authenticate: Bearer ... error="insufficient_scope"`'


def variants_for(ctx: CheckContext, *, needs_key: bool, expects: tuple[Expect, ...]) -> list[Variant]:
    found = material(ctx)
    return found.variants().select(*expects, needs_key=needs_key, core_only=not full(ctx),
                                   skip=found.policy.skip_variants)


def judged(ctx: CheckContext, variants: list[Variant], baseline: Answer | None,
           witness: LegacyWitness | None = None) -> list[Problem]:
    """Send each variant and judge its answer; verdicts the legacy shares become spec-gap notes."""
    witness = witness or LegacyWitness(ctx)
    problems: list[Problem] = []
    for variant in variants:
        problems += _problem(witness, variant, send_variant(ctx, variant), baseline)
    return problems


def _problem(witness: LegacyWitness, variant: Variant, answer: Answer, baseline: Answer | None) -> list[Problem]:
    verdict = judge(variant, answer, baseline)
    return [] if verdict is None else [(variant, witness.review(variant, verdict, answer), answer)]


@check(FLOW, "refuse-forged", group="forged")
def refuse_forged(ctx: CheckContext) -> Iterator[Finding]:
    """Missing, malformed and forged credentials: 401 (400 for a malformed request), a `Bearer` challenge."""
    if not ctx.operation.protected:
        return
    variants = variants_for(ctx, needs_key=False, expects=(CHALLENGE, INVALID_TOKEN, REFUSED, OVERSIZE, LENIENT))
    baseline = send_valid(ctx) if material(ctx).token else None
    witness = LegacyWitness(ctx)
    problems: list[Problem] = []
    missing = next((v for v in variants if v.name == "missing"), None)
    if missing is not None:
        answer = send_variant(ctx, missing)
        stop = _unauthenticated(ctx, answer, baseline)
        if stop is not None:
            yield stop
            return
        problems += _problem(witness, missing, answer, baseline)
    problems += judged(ctx, [v for v in variants if v is not missing], baseline, witness)
    yield from grouped(ctx, problems)


def _unauthenticated(ctx: CheckContext, answer: Answer, baseline: Answer | None) -> Finding | None:
    """Without any token, as with a valid one: the route is not served, or not authenticated at all."""
    if baseline is None or answer.error or answer.status != baseline.status:
        return None
    if answer.status in (404, 405):
        return ctx.finding("route-not-served", "status", f"the gateway answers {answer.status} with and without a "
                           f"token: the route is not served, so its auth was not judged (the parity and routes flows "
                           f"report the route)", gateway=answer.status, answer=answer, severity="note")
    if baseline.ok and bearer_challenge(answer) is None:
        return ctx.finding("route-not-protected", "variant missing",
                           f"without any token the gateway answers as with a valid one ({answer.status}, no "
                           f"`WWW-Authenticate: Bearer`): it does not authenticate this route, and whatever refusal "
                           f"there is comes from the upstream; every other variant reaches the upstream too",
                           legacy=EXPECTED_TEXT[CHALLENGE], gateway=got(answer), answer=answer)
    return None


@check(FLOW, "refuse-claims", group="claims")
def refuse_claims(ctx: CheckContext) -> Iterator[Finding]:
    """Tokens signed with the issuer's key but expired, not yet valid, for another audience or issuer ..."""
    if not ctx.operation.protected:
        return
    require(ctx, "key")
    found = material(ctx)
    variants = variants_for(ctx, needs_key=True, expects=(ACCEPTED, INVALID_TOKEN, REFUSED, LENIENT))
    control = next((v for v in variants if v.name == "minted-valid"), None)
    baseline = send_valid(ctx) if found.token else None
    if control is not None:
        answer = send_variant(ctx, control)
        like_baseline = baseline is not None and baseline.ok and answer.status == baseline.status
        if answer.error or (answer.status or 0) >= 500 or (refused(answer) and not like_baseline):
            kid = found.signer.kid if found.signer else None
            yield ctx.finding("signing-key-not-trusted", "variant minted-valid",
                              f"a valid token minted with auth.signing_key (kid {kid!r}) is refused: the key, kid, "
                              f"issuer or audience do not match the gateway's, so the expired / audience / issuer "
                              f"variants would pass for the wrong reason", legacy="accepted", gateway=got(answer),
                              answer=answer)
            return
    yield from grouped(ctx, judged(ctx, [v for v in variants if v.expect != ACCEPTED], baseline))


@check(FLOW, "scheme-case", group="scheme")
def scheme_case(ctx: CheckContext) -> Iterator[Finding]:
    """`bearer`, `BEARER`, `bEaReR` and the header name in other cases are answered like `Bearer`."""
    if not ctx.operation.protected:
        return
    require(ctx, "token")
    canonical = send_valid(ctx)
    if canonical.error or refused(canonical) or (canonical.status or 0) >= 500:
        yield ctx.finding("valid-token-refused", "variant canonical",
                          "the gateway refuses its own valid token (targets.gateway.auth) here: the scheme "
                          "variants cannot be compared", legacy="accepted", gateway=got(canonical),
                          answer=canonical, severity="note")
        return
    safe = ctx.operation.method in SAFE_METHODS
    witness = LegacyWitness(ctx)
    problems: list[Problem] = []
    for variant in variants_for(ctx, needs_key=False, expects=(ACCEPTED,)):
        answer = send_variant(ctx, variant)
        expected = f"{canonical.status}, as with `Bearer`"
        if answer.error or (answer.status or 0) >= 500:
            verdict = Verdict("server-error", expected, got(answer))
        elif refused(answer):
            verdict = Verdict("scheme-case-refused", expected, got(answer))
        elif safe and answer.status != canonical.status:
            verdict = Verdict("scheme-case-differs", expected, got(answer))
        else:
            continue
        problems.append((variant, witness.review(variant, verdict, answer), answer))
    yield from grouped(ctx, problems)


@check(FLOW, "scope-403", group="scope")
def scope_403(ctx: CheckContext) -> Iterator[Finding]:
    """A valid token lacking the operation's scopes: 403 (not 401, not accepted), `insufficient_scope`."""
    if not ctx.operation.protected or not ctx.operation.scopes:
        return
    require(ctx, "key")
    found = material(ctx)
    assert found.signer is not None
    variant = scope_lacking(found.signer, found.token, ctx.operation.scopes, scope_claim=found.policy.scope_claim)
    answer = send_variant(ctx, variant)
    verdict = _scope_verdict(ctx, answer)
    if verdict is None:
        return
    needs = ", ".join(sorted(ctx.operation.scopes))
    reviewed = LegacyWitness(ctx).review(variant, verdict, answer)
    yield from grouped(ctx, [(variant, reviewed, answer)], f" (the operation needs {needs})")


def _scope_verdict(ctx: CheckContext, answer: Answer) -> Verdict | None:
    status = answer.status or 0
    if answer.error or status >= 500:
        return Verdict("server-error", SCOPE_EXPECTED, got(answer))
    if status == 401 and bearer_challenge(answer) is None:
        return Verdict("scope-not-enforced", SCOPE_EXPECTED, got(answer) + " (no challenge: the upstream's refusal)")
    if status == 401:
        return Verdict("scope-refusal-status", SCOPE_EXPECTED, got(answer))
    if status == 404 and _hidden(ctx):
        return None  # RFC 9110 15.5.4: a server may hide a forbidden resource behind a 404
    if status != 403:
        return Verdict("scope-not-enforced", SCOPE_EXPECTED, got(answer))
    if (bearer_challenge(answer) or {}).get("error") != "insufficient_scope":
        return Verdict("scope-challenge", SCOPE_EXPECTED, got(answer), "note")
    return None


def _hidden(ctx: CheckContext) -> bool:
    """The 404 is the gateway hiding the resource, not the upstream's: with the full scopes it is served."""
    if not material(ctx).token:
        return False
    baseline = send_valid(ctx)
    return baseline.ok and not refused(baseline) and (baseline.status or 0) < 400


@check(FLOW, "public-open", group="public")
def public_open(ctx: CheckContext) -> Iterator[Finding]:
    """A public operation (`security: []`) answers without a token, as the legacy does."""
    if ctx.operation.protected:
        return
    path = auth_path(ctx.operation)
    gateway = ctx.send("gateway", path=path, headers=plain_headers(ctx), credentials=False)
    legacy = ctx.send("legacy", path=path, credentials=False)
    if refused(gateway) and not refused(legacy):
        yield ctx.finding("public-refused", "status", "the document marks this operation public (`security: []`) "
                          "but the gateway refuses it without a token", legacy=legacy.status, gateway=got(gateway),
                          answer=gateway)
