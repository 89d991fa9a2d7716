"""Auth: per operation, the gateway lets in exactly the right callers and says no the right way.

Which operations are protected, and with which scopes, comes from the document's `security`; the token
variants come from lockstep.tokens; the contract's `auth:` (AuthPolicy) says where the issuer's keys are.
Expected answers are RFC 6750's: no credential -> 401 with a `WWW-Authenticate: Bearer` challenge; a bad
token -> 401 with `error="invalid_token"`; a malformed request -> 400 (or such a 401); a valid token
lacking the scope -> 403; never a 5xx. Checks, by group (one suite line each), with the catalog case
(../shared/reference/cors-auth-catalog.md):

    forged    refuse-forged: missing, empty, bare scheme, wrong scheme, raw token, whitespace, two
              Authorization headers, header + ?access_token=, token only in the query, malformed JWS
              shapes, oversize, odd bytes, flipped/stripped signature, tampered claims, alg none (all
              casings), RS256->HS256 confusion, weak HMAC secrets, embedded jwk / foreign jku / x5u, kid
              tricks, foreign keys (B01-B04, B06-B18, B26)
    claims    refuse-claims (signing key): a minted valid token is accepted (the control), then expired,
              not-yet-valid, odd exp types, wrong/missing aud, wrong iss (case, trailing slash), missing
              exp/sub, unknown crit, RS512 with the same key (B19-B23)
    scheme    scheme-case: `bearer`, `BEARER`, `bEaReR`, header-name case answered like `Bearer` (B05)
    scope     scope-403 (signing key): a valid token without the operation's scopes gets 403 (B25, B26)
    public    public-open: public operations answer without a token like the legacy does
    identity  identity-headers: client-sent identity headers (X-User-Id and friends, case, underscore and
              duplicate variants, with and without a token) never act as the caller's identity upstream,
              seen through the identity probe (`GET /users/me`) against the legacy's own answers (B24)
    cors      errors-carry-cors: the gateway's 401 invalid_token and 403 insufficient_scope carry the
              CORS headers of an allowed origin (C12; the plain 401 is the CORS flow's)
    latency   latency: p50/p95 of authenticated calls, gateway vs legacy (B27), figures in summary.json
    burst     burst: valid-token latency while a bounded burst of invalid tokens arrives (B27)

Findings are grouped per check and operation; each names every variant concerned. Every token built is
registered with the redactor; messages carry variant names, never tokens.
"""

from __future__ import annotations

import json
import re
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import serialization

from ..contract import DEMO, AuthPolicy
from ..findings import Finding
from ..report.curl import curl_command
from ..report.redact import register_secret
from ..targets import SAFE_METHODS, Answer
from ..tokens import (ACCEPTED, CHALLENGE, INVALID_TOKEN, LENIENT, OVERSIZE, REFUSED, Signer, Variant, VariantSet,
                      build_variants, public_key_from_jwks, public_key_pem, scope_lacking, unverified)
from .registry import FlowContext, check

if TYPE_CHECKING:
    from ..session import LockstepSession

__all__ = ["FLOW", "AuthMaterial", "material_for", "skip_reason", "judge", "bearer_challenge", "percentile"]

FLOW = "auth"
REFUSAL_STATUSES = frozenset({400, 401, 403, 407, 413, 431})
ALLOWED = {CHALLENGE: (401,), INVALID_TOKEN: (401,), REFUSED: (400, 401), OVERSIZE: (400, 401, 413, 431)}
EXPECTED_TEXT = {CHALLENGE: '401 with a `WWW-Authenticate: Bearer` challenge',
                 INVALID_TOKEN: '401 with `WWW-Authenticate: Bearer ... error="invalid_token"`',
                 REFUSED: "400, or 401 with a `WWW-Authenticate: Bearer` challenge", OVERSIZE: "400, 401, 413 or 431",
                 LENIENT: "any answer but a 5xx"}
VARIANTS_TTL = 300.0  # seconds a built variant set is reused (minted tokens live 10 minutes)
LISTED = 12  # variant names listed in one finding's message
BURST_THREADS = 8
BURST_VALID = 20
REPRODUCE = "VARIANT_TOKEN"  # the reproducer's shell variable: `python -m lockstep.tokens NAME` prints it


# ---------------------------------------------------------------- what the run knows about auth

@dataclass
class AuthMaterial:
    """The gateway's token and the issuer's keys as far as the contract (or the demo stack) gives them."""

    policy: AuthPolicy
    token: str | None
    header: dict[str, Any]
    claims: dict[str, Any]
    signer: Signer | None
    no_key: str | None  # why there is no signer
    public_key: str | None
    no_public_key: str | None
    _variants: VariantSet | None = field(default=None, repr=False)
    _built_at: float = field(default=0.0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def subject(self) -> str | None:
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) and sub else None

    def variants(self) -> VariantSet:
        """The variant set, rebuilt every few minutes so that time claims stay what they say."""
        with self._lock:
            if self._variants is None or time.monotonic() - self._built_at > VARIANTS_TTL:
                self._variants = build_variants(self.token, public_key=self.public_key, signer=self.signer,
                                                scope_claim=self.policy.scope_claim)
                self._built_at = time.monotonic()
            return self._variants


_MATERIALS: "weakref.WeakKeyDictionary[LockstepSession, AuthMaterial]" = weakref.WeakKeyDictionary()
_MATERIALS_LOCK = threading.Lock()


def material_for(session: "LockstepSession") -> AuthMaterial:
    with _MATERIALS_LOCK:
        found = _MATERIALS.get(session)
        if found is None:
            found = _MATERIALS[session] = _material(session)
            variants = found.variants()
            not_run = dict(variants.not_run)
            if found.no_key:
                not_run = {k: (found.no_key if "signing key" in v else v) for k, v in not_run.items()}
            if found.no_public_key and "hs256-confusion" in not_run:
                not_run["hs256-confusion"] = found.no_public_key
            if not_run:
                session.figures.setdefault(FLOW, {})["variants not run"] = not_run
        return found


def _material(session: "LockstepSession") -> AuthMaterial:
    policy = session.settings.contract.auth or AuthPolicy()
    stack = session.stack
    token = session.gateway.token if session.gateway is not None else None
    register_secret(token)
    header, claims = unverified(token)

    def resolved(value: str | None, attr: str) -> str | None:
        if value == DEMO:
            return (getattr(stack, attr, None) or None) if stack is not None else None
        return value or None

    issuer = resolved(policy.issuer, "issuer") or _str(claims.get("iss"))
    audience = resolved(policy.audience, "audience") or claims.get("aud")
    kid = resolved(policy.kid, "kid") or _str(header.get("kid"))
    key_pem, no_key = _signing_key(policy, stack)
    signer = None
    if key_pem is not None:
        signer = Signer(key_pem, kid, issuer, audience if isinstance(audience, (str, list)) else None,
                        policy.algorithm)
    public, no_public = None, None
    jwks_url = resolved(policy.jwks_url, "jwks_url")
    if jwks_url:
        public, no_public = _fetch_public_key(jwks_url, _str(header.get("kid")) or kid, session)
    if public is None and key_pem is not None:
        public, no_public = public_key_pem(key_pem), None
    elif public is None and no_public is None:
        no_public = "no issuer public key: set auth.jwks_url (or auth.signing_key)"
    return AuthMaterial(policy, token, header, claims, signer, no_key, public, no_public)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _signing_key(policy: AuthPolicy, stack: Any) -> tuple[str | None, str | None]:
    """(PEM, None) or (None, why not): the key is PEM text or a PEM file's path, from the environment."""
    if policy.signing_key is None:
        return None, ("the contract gives no auth.signing_key (staging only: `signing_key: \"${AUTH_SIGNING_KEY}\"` "
                      "with the issuer's private key PEM, or its path, in that environment variable)")
    value = policy.signing_key.get_secret_value().strip()
    if value == DEMO:
        if stack is None:
            return None, ("auth.signing_key is `demo` but the targets are not the demo stack: export "
                          "AUTH_SIGNING_KEY with the staging issuer's private key (PEM text or a file path)")
        value = stack.signing_key_pem
    elif not value:
        return None, "auth.signing_key is empty (is AUTH_SIGNING_KEY exported?)"
    elif not value.startswith("-----BEGIN"):
        path = Path(value).expanduser()
        if not path.is_file():
            return None, "auth.signing_key is neither PEM text nor the path of a readable PEM file"
        value = path.read_text(encoding="utf-8")
    register_secret(value)
    try:
        serialization.load_pem_private_key(value.encode(), password=None)
    except (ValueError, TypeError):
        return None, "auth.signing_key does not load as an unencrypted private key PEM"
    return value, None


def _fetch_public_key(url: str, kid: str | None, session: "LockstepSession") -> tuple[str | None, str | None]:
    verify = session.gateway.spec.verify if session.gateway is not None else True
    try:
        response = httpx.get(url, timeout=10.0, trust_env=False, verify=verify, follow_redirects=False)
        pem = public_key_from_jwks(response.json(), kid) if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, TypeError, KeyError):
        pem = None
    return (pem, None) if pem else (None, f"the JWKS at auth.jwks_url gave no RSA public key ({url})")


# ---------------------------------------------------------------- what a suite asks before running a line

def skip_reason(session: "LockstepSession", operation: Any = None, *needs: str) -> str | None:
    """Why a checklist line cannot run here (None: it can). needs: token, key, cors, focus, loopback."""
    material = material_for(session)
    for need in needs:
        if need == "token" and material.token is None:
            return ("the gateway target has no token (targets.gateway.auth): the lines that need a valid "
                    "token cannot run")
        if need == "key" and material.signer is None:
            return f"needs the issuer's signing key: {material.no_key}"
        if need == "cors" and session.settings.contract.cors is None:
            return "the contract declares no `cors:` policy: the CORS headers of auth errors cannot be judged"
        if need == "focus" and operation is not None and not _full(session, operation):
            return (f"under the rate ceiling of profile {session.settings.profile_name} this is measured on "
                    f"{material.policy.identity_probe} only")
        if need == "loopback":
            if session.gateway is None or not _loopback(session.gateway.base_url):
                return "the invalid-token burst is sent only to a gateway on this machine (127.0.0.1, ::1, localhost)"
            if _ceiling(session):
                return "the profile sets a request-rate ceiling: no burst is sent"
    return None


def _ceiling(session: "LockstepSession") -> str | None:
    return session.settings.profile.rate or (session.gateway.spec.rate if session.gateway else None)


def _full(session: "LockstepSession", operation: Any) -> bool:
    """The full variant set here? Always, unless a rate ceiling applies: then on the identity probe only."""
    if not _ceiling(session):
        return True
    probe = material_for(session).policy.identity_probe
    return probe is not None and operation.label == probe


def _loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "::1", "localhost")


# ---------------------------------------------------------------- sending and judging one variant

def _wire(value: str) -> str | bytes:
    """Odd bytes travel as raw latin-1 bytes (httpx encodes str headers as ASCII)."""
    return value if value.isascii() else value.encode("latin-1")


def _plain_headers(ctx: FlowContext) -> list[tuple[str, Any]]:
    """The gateway target's own headers minus its credential and any identity header."""
    off = {"authorization"} | {h.lower() for h in _policy(ctx).identity_headers}
    return [(k, v) for k, v in ctx.gateway.spec.headers.items() if k.lower() not in off]


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def auth_path(operation: Any) -> str:
    """Where the auth checks send an operation's requests. A safe operation: its example path. A write with
    path parameters: the same path naming a resource that does not exist (the auth decision comes first;
    a correct gateway's answer is the upstream's 404, and no seed data is consumed). Writes go without a
    body, so a request let through by mistake fails the upstream's validation instead of writing."""
    if operation.method in SAFE_METHODS or "{" not in operation.path:
        return operation.example_path
    template, example = operation.path.split("/"), operation.example_path.split("/")
    if len(template) != len(example):
        return operation.example_path
    return "/".join(_absent(e) if re.fullmatch(r"\{[^}]+\}", t) else e for t, e in zip(template, example))


def _absent(value: str) -> str:
    if _UUID.match(value):
        return "00000000-0000-4000-8000-00000000dead"
    return "987654321" if value.isdigit() else "lockstep-absent"


def send_variant(ctx: FlowContext, variant: Variant, *, extra: Iterable[tuple[str, str]] = ()) -> Answer:
    headers = _plain_headers(ctx) + [(k, _wire(v)) for k, v in variant.headers] + list(extra)
    return ctx.send(ctx.gateway, path=auth_path(ctx.operation), headers=headers,  # type: ignore[arg-type]
                    query=variant.query or None, credentials=False)


def send_valid(ctx: FlowContext) -> Answer:
    """The canonical request: the gateway target's own token, `Bearer`."""
    return ctx.send(ctx.gateway, path=auth_path(ctx.operation))


def bearer_challenge(answer: Answer) -> dict[str, str] | None:
    """The parameters of the Bearer challenge in WWW-Authenticate ({} if bare), None if there is none."""
    for value in answer.headers.get_list("www-authenticate"):
        for challenge in _challenges(value):
            if challenge[0].lower() == "bearer":
                return challenge[1]
    return None


def _challenges(value: str) -> list[tuple[str, dict[str, str]]]:
    """`Bearer realm="x", error="y", Basic realm="z"` -> [("Bearer", {...}), ("Basic", {...})]."""
    out: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " ,":
            i += 1
        start = i
        while i < n and value[i] not in " ,=":
            i += 1
        token = value[start:i]
        if not token:
            break
        if i < n and value[i] == "=":  # a parameter of the current challenge
            i += 1
            if i < n and value[i] == '"':
                i += 1
                chars = []
                while i < n and value[i] != '"':
                    if value[i] == "\\" and i + 1 < n:
                        i += 1
                    chars.append(value[i])
                    i += 1
                i += 1
                param = "".join(chars)
            else:
                start = i
                while i < n and value[i] != ",":
                    i += 1
                param = value[start:i].strip()
            if out:
                out[-1][1][token.lower()] = param
        else:
            out.append((token, {}))
    return out


@dataclass(frozen=True)
class Verdict:
    check: str
    expected: str
    got: str
    severity: str = "failure"


def _got(answer: Answer) -> str:
    if answer.error:
        return answer.error
    challenge = bearer_challenge(answer)
    text = str(answer.status)
    if challenge is not None:  # worded so that no redaction pattern (`Bearer <credential>`) matches it
        text += f' (challenge: Bearer, error="{challenge["error"]}")' if "error" in challenge else " (challenge: Bearer)"
    return text


def refused(answer: Answer) -> bool:
    """An auth refusal: 401/403/407, or a 400 that carries a challenge."""
    status = answer.status or 0
    return status in (401, 403, 407) or (status == 400 and answer.headers.get("www-authenticate") is not None)


def judge(variant: Variant, answer: Answer, baseline: Answer | None = None) -> Verdict | None:
    """What is wrong with the gateway's answer to an invalid variant (None: nothing).

    `baseline`: the gateway's answer to the same request with its valid token. An answer equal to it (and
    not an auth refusal) was let through, whatever its status: a write without a body gets the upstream's
    400 or 404, which is not the gateway saying no."""
    expected = EXPECTED_TEXT.get(variant.expect, variant.expect)
    if answer.error:
        if "LocalProtocolError" in answer.error or "Illegal header" in answer.error:
            return None  # the HTTP client could not send it: nothing reached the gateway
        return Verdict("transport-error", expected, answer.error)
    if answer.rate_limited:
        return Verdict("rate-limited", expected, f"{answer.status} after waiting as told", "note")
    status = answer.status or 0
    if status >= 500:
        return Verdict("server-error", expected, _got(answer))
    if variant.expect == LENIENT:
        return None
    allowed = ALLOWED.get(variant.expect)
    if allowed is None:
        return None
    if status not in allowed:
        let_through = (baseline is not None and baseline.ok and not refused(baseline)
                       and status == baseline.status and bearer_challenge(answer) is None)
        if status in REFUSAL_STATUSES and not let_through:
            return Verdict("wrong-refusal-status", expected, _got(answer))
        return Verdict("token-accepted" if variant.presents_token else "not-refused", expected, _got(answer))
    if status == 401:
        challenge = bearer_challenge(answer)
        if challenge is None:
            return Verdict("no-bearer-challenge", expected, _got(answer))
        if variant.expect == INVALID_TOKEN and challenge.get("error") != "invalid_token":
            return Verdict("wrong-error-code", expected, _got(answer))
    return None


MESSAGES = {
    "token-accepted": "the gateway let these invalid credentials through",
    "not-refused": "the gateway let a request without a credential through",
    "server-error": "the gateway failed (5xx) on these credentials",
    "transport-error": "the gateway dropped the connection or did not answer",
    "wrong-refusal-status": "refused with the wrong status",
    "no-bearer-challenge": "the 401 carries no `WWW-Authenticate: Bearer` challenge (is the refusal the upstream's?)",
    "wrong-error-code": 'the challenge does not say error="invalid_token"',
    "rate-limited": "still rate limited after waiting as told: not judged",
    "scheme-case-refused": "the auth scheme and header name are case-insensitive (RFC 9110 11.1): refused here",
    "scheme-case-differs": "answered otherwise than the same request with `Bearer`",
    "scope-refusal-status": "401 asks `who are you?` of a caller the gateway knows: lacking scope is a 403",
    "scope-not-enforced": "the operation's scopes are not enforced",
    "scope-challenge": 'the 403 does not say error="insufficient_scope" (RFC 6750 3.1)',
    "auth-error-without-cors": "a browser on an allowed origin sees a CORS error instead of the gateway's auth error",
}


def grouped(ctx: FlowContext, problems: list[tuple[Variant, Verdict, Answer]],
            extra: str = "") -> Iterator[Finding]:
    """One finding per check: located at the first variant concerned, naming every variant."""
    by_check: dict[str, list[tuple[Variant, Verdict, Answer]]] = {}
    for item in problems:
        by_check.setdefault(item[1].check, []).append(item)
    for name, items in by_check.items():
        first_variant, first_verdict, first_answer = items[0]
        shown = "; ".join(f"{v.name} ({v.description}) -> {verdict.got}" for v, verdict, _ in items[:LISTED])
        if len(items) > LISTED:
            shown += f"; and {len(items) - LISTED} more: {', '.join(v.name for v, _, _ in items[LISTED:])}"
        message = f"{MESSAGES.get(name, name)}: {shown}; expected {first_verdict.expected}{extra}"
        if first_variant.presents_token:
            message += f" (reproduce: {REPRODUCE}=$(python -m lockstep.tokens {first_variant.name}))"
        found = ctx.finding(name, f"variant {first_variant.name}", message, legacy=first_verdict.expected,
                            gateway=first_verdict.got, severity=first_verdict.severity)
        found.reproducers = {"gateway": curl_command(first_answer.method, first_answer.url,
                                                     first_answer.request_headers, first_answer.request_body,
                                                     REPRODUCE)}
        yield found


def _policy(ctx: FlowContext) -> AuthPolicy:
    return material_for(ctx.session).policy


def _variants(ctx: FlowContext, *, needs_key: bool, expects: tuple[str, ...]) -> list[Variant]:
    material = material_for(ctx.session)
    return material.variants().select(*expects, needs_key=needs_key,  # type: ignore[arg-type]
                                      core_only=not _full(ctx.session, ctx.operation),
                                      skip=material.policy.skip_variants)




# ---------------------------------------------------------------- the checks

@check(FLOW, "refuse-forged", group="forged")
def refuse_forged(ctx: FlowContext) -> Iterator[Finding]:
    """Missing, malformed and forged credentials: 401 (400 for a malformed request), a `Bearer` challenge."""
    if not ctx.operation.protected:
        return
    variants = _variants(ctx, needs_key=False, expects=(CHALLENGE, INVALID_TOKEN, REFUSED, OVERSIZE, LENIENT))
    baseline = send_valid(ctx) if material_for(ctx.session).token else None
    problems = []
    for variant in variants:
        answer = send_variant(ctx, variant)
        if variant.name == "missing" and answer.status in (404, 405) and baseline is not None \
                and baseline.status == answer.status:
            yield ctx.finding("route-not-served", "status", f"the gateway answers {answer.status} with and without "
                              f"a token: the route is not served, so its auth was not judged (the parity and "
                              f"routes flows report the route)", gateway=answer.status, answer=answer,
                              severity="note")
            return
        if variant.name == "missing" and baseline is not None and baseline.ok and not answer.error \
                and answer.status == baseline.status and bearer_challenge(answer) is None:
            yield ctx.finding("route-not-protected", "variant missing",
                              f"without any token the gateway answers as with a valid one ({answer.status}, no "
                              f"`WWW-Authenticate: Bearer`): it does not authenticate this route, and whatever refusal "
                              f"there is comes from the upstream; every other variant reaches the upstream too",
                              legacy=EXPECTED_TEXT[CHALLENGE], gateway=_got(answer), answer=answer)
            return
        verdict = judge(variant, answer, baseline)
        if verdict is not None:
            problems.append((variant, verdict, answer))
    yield from grouped(ctx, problems)


@check(FLOW, "refuse-claims", group="claims")
def refuse_claims(ctx: FlowContext) -> Iterator[Finding]:
    """Tokens signed with the issuer's key but expired, not yet valid, for another audience or issuer ..."""
    if not ctx.operation.protected or material_for(ctx.session).signer is None:
        return
    variants = _variants(ctx, needs_key=True, expects=(ACCEPTED, INVALID_TOKEN, REFUSED, LENIENT))
    control = next((v for v in variants if v.name == "minted-valid"), None)
    baseline = send_valid(ctx) if material_for(ctx.session).token else None
    if control is not None:
        answer = send_variant(ctx, control)
        like_baseline = baseline is not None and baseline.ok and answer.status == baseline.status
        if answer.error or (answer.status or 0) >= 500 or (refused(answer) and not like_baseline):
            kid = material_for(ctx.session).signer.kid  # type: ignore[union-attr]
            yield ctx.finding("signing-key-not-trusted", "variant minted-valid",
                              f"a valid token minted with auth.signing_key (kid {kid!r}) is refused: the key, kid, "
                              f"issuer or audience do not match the gateway's, so the expired / audience / issuer "
                              f"variants would pass for the wrong reason", legacy="accepted", gateway=_got(answer),
                              answer=answer)
            return
    problems = []
    for variant in variants:
        if variant.expect == ACCEPTED:
            continue
        answer = send_variant(ctx, variant)
        verdict = judge(variant, answer, baseline)
        if verdict is not None:
            problems.append((variant, verdict, answer))
    yield from grouped(ctx, problems)


@check(FLOW, "scheme-case", group="scheme")
def scheme_case(ctx: FlowContext) -> Iterator[Finding]:
    """`bearer`, `BEARER`, `bEaReR` and the header name in other cases are answered like `Bearer`."""
    if not ctx.operation.protected or material_for(ctx.session).token is None:
        return
    canonical = send_valid(ctx)
    if canonical.error or refused(canonical) or (canonical.status or 0) >= 500:
        yield ctx.finding("valid-token-refused", "variant canonical",
                          "the gateway refuses its own valid token (targets.gateway.auth) here: the scheme "
                          "variants cannot be compared", legacy="accepted", gateway=_got(canonical),
                          answer=canonical, severity="note")
        return
    safe = ctx.operation.method in SAFE_METHODS
    problems = []
    for variant in _variants(ctx, needs_key=False, expects=(ACCEPTED,)):
        answer = send_variant(ctx, variant)
        expected = f"{canonical.status}, as with `Bearer`"
        if answer.error or (answer.status or 0) >= 500:
            problems.append((variant, Verdict("server-error", expected, _got(answer)), answer))
        elif refused(answer):
            problems.append((variant, Verdict("scheme-case-refused", expected, _got(answer)), answer))
        elif safe and answer.status != canonical.status:
            problems.append((variant, Verdict("scheme-case-differs", expected, _got(answer)), answer))
    yield from grouped(ctx, problems)


@check(FLOW, "scope-403", group="scope")
def scope_403(ctx: FlowContext) -> Iterator[Finding]:
    """A valid token lacking the operation's scopes: 403 (not 401, not accepted), `insufficient_scope`."""
    material = material_for(ctx.session)
    if not ctx.operation.protected or not ctx.operation.scopes or material.signer is None:
        return
    variant = scope_lacking(material.signer, material.token, ctx.operation.scopes,
                            scope_claim=material.policy.scope_claim)
    answer = send_variant(ctx, variant)
    expected = '403 with `WWW-Authenticate: Bearer ... error="insufficient_scope"`'
    status = answer.status or 0
    if answer.error or status >= 500:
        verdict = Verdict("server-error", expected, _got(answer))
    elif status == 401 and bearer_challenge(answer) is None:
        verdict = Verdict("scope-not-enforced", expected, _got(answer) + " (no challenge: the upstream's refusal)")
    elif status == 401:
        verdict = Verdict("scope-refusal-status", expected, _got(answer))
    elif status != 403:
        verdict = Verdict("scope-not-enforced", expected, _got(answer))
    elif (bearer_challenge(answer) or {}).get("error") != "insufficient_scope":
        verdict = Verdict("scope-challenge", expected, _got(answer), "note")
    else:
        return
    needs = ", ".join(sorted(ctx.operation.scopes))
    yield from grouped(ctx, [(variant, verdict, answer)], f" (the operation needs {needs})")


@check(FLOW, "public-open", group="public")
def public_open(ctx: FlowContext) -> Iterator[Finding]:
    """A public operation (`security: []`) answers without a token, as the legacy does."""
    if ctx.operation.protected:
        return
    path = auth_path(ctx.operation)
    gateway = ctx.send(ctx.gateway, path=path, headers=_plain_headers(ctx), credentials=False)
    legacy = ctx.send(ctx.legacy, path=path, credentials=False)
    if refused(gateway) and not refused(legacy):
        yield ctx.finding("public-refused", "status", "the document marks this operation public (`security: []`) "
                          "but the gateway refuses it without a token", legacy=legacy.status, gateway=_got(gateway),
                          answer=gateway)


# ---------------------------------------------------------------- identity headers (B24)

def _pointers(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    flat: dict[str, Any] = {}

    def walk(node: Any, at: str) -> None:
        if isinstance(node, dict) and node:
            for k, v in node.items():
                walk(v, f"{at}/{str(k).replace('~', '~0').replace('/', '~1')}")
        elif isinstance(node, list) and node:
            for i, v in enumerate(node):
                walk(v, f"{at}/{i}")
        else:
            flat[at] = node
    walk(data, "")
    return flat


def _features(first: Answer, again: Answer, other: Answer) -> list[tuple[str, Any, Any]]:
    """What tells the two identities' answers apart, noise (what differs between `first` and `again`) left out."""
    found: list[tuple[str, Any, Any]] = []
    if first.status == again.status and first.status != other.status:
        found.append(("status", first.status, other.status))
    a, b, o = _pointers(first.body), _pointers(again.body), _pointers(other.body)
    if a is not None and b is not None and o is not None:
        for key in sorted(set(a) | set(o)):
            mine, theirs = a.get(key, KeyError), o.get(key, KeyError)
            if mine != theirs and b.get(key, KeyError) == mine:
                found.append((key, mine, theirs))
    return found


def _resembles_other(answer: Answer, other: Answer, features: list[tuple[str, Any, Any]]) -> bool:
    """The answer is the other identity's: its status, and more of the telling values are theirs than ours
    (only values both identities have count: a missing key matches nobody)."""
    if answer.status != other.status:
        return False
    body = _pointers(answer.body) or {}
    mine = theirs = 0
    for key, a, o in features:
        value = answer.status if key == "status" else body.get(key, KeyError)
        if key == "status" or (a is not KeyError and o is not KeyError and value is not KeyError):
            mine += value == a
            theirs += value == o
    return theirs > mine


@check(FLOW, "identity-headers", group="identity")
def identity_headers(ctx: FlowContext) -> Iterator[Finding]:
    """Client-sent identity headers never reach the upstream as the caller's identity."""
    material = material_for(ctx.session)
    policy = material.policy
    if not ctx.operation.protected or material.token is None or ctx.operation.method not in SAFE_METHODS:
        return
    names = {h.lower() for h in policy.identity_headers}
    trusted = next((k for k in ctx.legacy.spec.headers if k.lower() in names), policy.identity_headers[0])
    me = material.subject or ctx.legacy.spec.headers.get(trusted)
    other = policy.other_identity
    if not me or me == other:
        yield ctx.finding("identity-probe-inconclusive", "identity", "the gateway token names no subject other "
                          f"than auth.other_identity ({other!r}): identity headers not judged", severity="note")
        return
    mine = ctx.send(ctx.legacy, headers={trusted: me})
    again = ctx.send(ctx.legacy, headers={trusted: me})
    theirs = ctx.send(ctx.legacy, headers={trusted: other})
    features = _features(mine, again, theirs)
    full = policy.identity_probe == ctx.operation.label
    if not features and not full:
        return  # this operation's answer does not tell the identities apart (the probe's does)
    if not features:
        yield ctx.finding("identity-probe-inconclusive", "identity", f"the legacy answers {ctx.operation.label} "
                          f"alike for {me!r} and {other!r}: this operation cannot show whose identity reached it",
                          severity="note")
        return
    spoofs: list[tuple[str, list[tuple[str, str]], bool]] = [(f"{trusted}", [(trusted, other)], True)]
    if full:
        spoofs += [(f"{trusted.lower()} (lower case)", [(trusted.lower(), other)], True),
                   (f"{trusted.upper()} (upper case)", [(trusted.upper(), other)], True),
                   (f"{trusted.replace('-', '_')} (underscores)", [(trusted.replace("-", "_"), other)], True),
                   (f"{trusted} twice", [(trusted, other), (trusted, other)], True),
                   (f"{trusted} after the caller's own", [(trusted, me), (trusted, other)], True),
                   (f"{trusted} before the caller's own", [(trusted, other), (trusted, me)], True)]
        spoofs += [(h, [(h, other)], True) for h in policy.identity_headers if h.lower() != trusted.lower()]
        spoofs.append((f"{trusted} without a token", [(trusted, other)], False))
    trusted_by: list[tuple[str, Answer]] = []
    for name, headers, with_token in spoofs:
        if with_token:
            answer = ctx.send(ctx.gateway, headers=headers)
        else:
            answer = ctx.send(ctx.gateway, headers=_plain_headers(ctx) + headers, credentials=False)
        if answer.ok and (answer.status or 0) < 500 and _resembles_other(answer, theirs, features):
            trusted_by.append((name, answer))
    if trusted_by:
        names = ", ".join(n for n, _ in trusted_by)
        shown = ", ".join(f"{k} {'status' if k == 'status' else ''}".strip() for k, _, _ in features[:5])
        yield ctx.finding("identity-header-trusted", f"variant {trusted_by[0][0]}",
                          f"with the token of {me!r} plus a client-sent identity header naming {other!r}, the "
                          f"gateway answers what the legacy answers {other!r} (compared on {shown}): the "
                          f"header reached the upstream as trusted. Variants: {names}",
                          legacy=f"answer for {me!r}", gateway=f"answer for {other!r}", answer=trusted_by[0][1])


# ---------------------------------------------------------------- CORS on the gateway's own auth errors (C12)

@check(FLOW, "errors-carry-cors", group="cors")
def errors_carry_cors(ctx: FlowContext) -> Iterator[Finding]:
    """The gateway's 401 (invalid token) and 403 (lacking scope) carry the CORS headers of an allowed origin."""
    cors = ctx.session.settings.contract.cors
    material = material_for(ctx.session)
    if cors is None or not ctx.operation.protected:
        return
    from .cors import policy_for  # the CORS flow's reading of the policy (overrides applied)

    policy = policy_for(cors, ctx.operation)
    if not policy.enabled or not policy.allowed:
        return
    origin = policy.allowed[0]
    cases: list[Variant] = [material.variants().by_name("sig-flipped")]
    if material.signer is not None and ctx.operation.scopes:
        cases.append(scope_lacking(material.signer, material.token, ctx.operation.scopes,
                                   scope_claim=material.policy.scope_claim))
    problems = []
    for variant in cases:
        answer = send_variant(ctx, variant, extra=[("Origin", origin)])
        if answer.error or not 400 <= (answer.status or 0) < 500:
            continue  # not an error answer: the refusal checks judge it
        acao = answer.headers.get_list("access-control-allow-origin")
        missing = []
        if not (acao == [origin] or (acao == ["*"] and not policy.credentials)):
            missing.append(f"Access-Control-Allow-Origin {acao[0] if acao else 'absent'}")
        if policy.credentials and answer.headers.get("access-control-allow-credentials") != "true":
            missing.append("Access-Control-Allow-Credentials absent")
        if missing:
            problems.append((variant, Verdict("auth-error-without-cors", f"Access-Control-Allow-Origin: {origin}",
                                              f"{answer.status} with {', '.join(missing)}"), answer))
    yield from grouped(ctx, problems)


# ---------------------------------------------------------------- latency of the auth path (B27)

def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def _ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {"p50_ms": round(percentile(values, 50) * 1000, 2), "p95_ms": round(percentile(values, 95) * 1000, 2)}


def _clean(answer: Answer) -> bool:
    return answer.ok and answer.attempts == 1 and not refused(answer) and (answer.status or 0) < 500


def _figures(ctx: FlowContext) -> dict[str, Any]:
    return ctx.session.figures.setdefault(FLOW, {})


@check(FLOW, "latency", group="latency")
def latency(ctx: FlowContext) -> Iterator[Finding]:
    """p50/p95 of authenticated calls through the gateway and straight to the legacy (figures)."""
    material = material_for(ctx.session)
    if not ctx.operation.protected or material.token is None or ctx.operation.method not in SAFE_METHODS:
        return
    samples = material.policy.latency_samples
    timings: dict[str, list[float]] = {"legacy": [], "gateway": []}
    for target in (ctx.legacy, ctx.gateway):  # warm the connection pools
        ctx.send(target)
    for i in range(samples):
        order = (ctx.legacy, ctx.gateway) if i % 2 == 0 else (ctx.gateway, ctx.legacy)
        for target in order:
            answer = ctx.send(target)
            if _clean(answer):
                timings[target.name].append(answer.elapsed)
    legacy, gateway = _ms(timings["legacy"]), _ms(timings["gateway"])
    figure: dict[str, Any] = {"samples": samples, "legacy": legacy, "gateway": gateway}
    if legacy and gateway:
        figure["overhead_p50_ms"] = round(gateway["p50_ms"] - legacy["p50_ms"], 2)
        figure["overhead_p95_ms"] = round(gateway["p95_ms"] - legacy["p95_ms"], 2)
    _figures(ctx)[f"latency {ctx.operation.label}"] = figure
    if len(timings["gateway"]) < samples // 2:
        yield ctx.finding("latency-not-measured", "latency", f"only {len(timings['gateway'])} of {samples} "
                          f"authenticated gateway calls were answered cleanly (refused, rate limited or failed)",
                          severity="note")
        return
    budget = material.policy.max_overhead_p95_ms
    if budget is not None and figure.get("overhead_p95_ms", 0) > budget:
        yield ctx.finding("latency-over-budget", "latency", f"the gateway adds {figure['overhead_p95_ms']} ms at "
                          f"p95 over the legacy (auth.max_overhead_p95_ms: {budget})",
                          legacy=legacy["p95_ms"], gateway=gateway["p95_ms"])


@check(FLOW, "burst", group="burst")
def burst(ctx: FlowContext) -> Iterator[Finding]:
    """Valid-token latency while a bounded burst of invalid tokens arrives (loopback only; figures)."""
    material = material_for(ctx.session)
    if not ctx.operation.protected or material.token is None or ctx.operation.method not in SAFE_METHODS:
        return
    if skip_reason(ctx.session, ctx.operation, "loopback"):
        return
    variants = material.variants()
    invalid = [variants.by_name(n) for n in ("sig-flipped", "alg-none", "foreign-key-real-kid", "kid-unknown",
                                             "jws-one-segment", "tampered-sub")]
    if material.signer is not None:
        invalid.append(variants.by_name("expired"))
    ctx.send(ctx.gateway)  # warm up
    quiet = [a.elapsed for a in (ctx.send(ctx.gateway) for _ in range(BURST_VALID)) if _clean(a)]
    time.sleep(1.0)  # let a per-route token bucket refill: the burst must meet auth, not the rate limiter
    total = material.policy.burst_requests
    invalid_answers: list[Answer] = []
    valid_answers: list[Answer] = []
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=BURST_THREADS) as pool:
        futures = [pool.submit(send_variant, ctx, invalid[i % len(invalid)]) for i in range(total)]
        for _ in range(BURST_VALID):
            valid_answers.append(ctx.send(ctx.gateway))
        invalid_answers = [f.result() for f in futures]
    wall = time.perf_counter() - started
    loaded = [a.elapsed for a in valid_answers if _clean(a)]
    statuses = Counter(str(a.status or a.error) for a in invalid_answers)
    figure: dict[str, Any] = {
        "invalid_requests": total, "threads": BURST_THREADS, "seconds": round(wall, 3),
        "invalid_statuses": dict(sorted(statuses.items())),
        "invalid": _ms([a.elapsed for a in invalid_answers if a.ok]),
        "valid_quiet": _ms(quiet), "valid_under_burst": _ms(loaded),
        "rate_limited": sum(a.attempts > 1 or a.status == 429 for a in invalid_answers + valid_answers),
    }
    if quiet and loaded:
        figure["slowdown_p95"] = round(percentile(loaded, 95) / max(percentile(quiet, 95), 1e-6), 2)
    _figures(ctx)["burst"] = {"operation": ctx.operation.label, **figure}
    broken = [a for a in valid_answers if not _clean(a) and a.status != 429]
    if broken:
        yield ctx.finding("valid-token-refused-under-burst", "burst", f"{len(broken)} of {BURST_VALID} valid "
                          f"calls failed while {total} invalid tokens arrived ({_got(broken[0])})",
                          legacy="accepted", gateway=_got(broken[0]), answer=broken[0])
    failed = [a for a in invalid_answers if a.error or (a.status or 0) >= 500]
    if failed:  # whether each invalid token is refused is the forged line's question; here: does load break it
        yield ctx.finding("burst-server-errors", "burst", f"{len(failed)} of {total} invalid-token requests of "
                          f"the burst failed ({_got(failed[0])}): a flood of bad tokens must be refused cheaply, "
                          f"not break the gateway", legacy="401", gateway=_got(failed[0]), answer=failed[0])
    budget = material.policy.max_burst_slowdown
    if budget is not None and figure.get("slowdown_p95", 0) > budget:
        yield ctx.finding("burst-slowdown-over-budget", "burst", f"valid calls are {figure['slowdown_p95']}x "
                          f"slower at p95 under a burst of invalid tokens (auth.max_burst_slowdown: {budget})",
                          legacy=figure["valid_quiet"].get("p95_ms"), gateway=figure["valid_under_burst"].get("p95_ms"))
