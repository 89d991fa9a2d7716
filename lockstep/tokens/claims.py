"""What only the issuer's signing key can say (RFC 7519 4.1, RFC 8725 3.1, 3.8-3.9): genuinely signed
tokens that are expired, not yet valid, for another audience or issuer, without `exp` or `sub`, with an
unknown `crit`, or under another algorithm; and a valid token lacking an operation's scopes."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from .keys import unverified
from .model import ACCEPTED, INSUFFICIENT_SCOPE, INVALID_TOKEN, LENIENT, Expect, Signer, Variant

__all__ = ["KEY_VARIANTS", "key_variants", "scope_lacking", "FAR"]

FAR = 3600  # expired / not-yet-valid by an hour: far beyond any gateway's leeway
OPTIONAL_EXP = ("RFC 7519 4.1.4 makes `exp` optional, so accepting it is allowed; but a leaked token without "
                "`exp` works forever: refuse it unless the issuer mints such tokens on purpose")
OPTIONAL_SUB = ("RFC 7519 4.1.2 makes `sub` optional (client-credentials tokens may lack it), so accepting it is "
                "allowed; the upstream then gets no identity from the gateway")

KEY_VARIANTS = ("minted-valid", "expired", "expired-exp-string", "exp-negative", "not-yet-valid", "wrong-aud",
                "aud-array-without-ours", "missing-aud", "wrong-iss", "iss-case", "iss-trailing-slash",
                "missing-exp", "missing-sub", "exp-string-future", "exp-float", "exp-huge", "crit-unknown",
                "alg-rs512-same-key")


def key_variants(add: Any, signer: Signer, base: dict[str, Any], now: int) -> None:
    valid = {**base, "iat": now, "nbf": now, "exp": now + 600}

    def signed(name: str, change: dict[str, Any], expect: Expect, text: str, family: str, *, core: bool = False,
               headers: dict[str, Any] | None = None, algorithm: str | None = None, tolerated: str = "") -> None:
        claims = {k: v for k, v in {**valid, **change}.items() if v is not None}
        token = signer.sign(claims, headers=headers, algorithm=algorithm)
        add(name, [("Authorization", f"Bearer {token}")], expect, text, family, core=core, needs_key=True,
            tolerated=tolerated)

    signed("minted-valid", {}, ACCEPTED, "a valid token minted with the signing key (the control)", "control",
           core=True)
    signed("expired", {"iat": now - 2 * FAR, "nbf": now - 2 * FAR, "exp": now - FAR}, INVALID_TOKEN,
           "expired an hour ago", "time", core=True)
    signed("expired-exp-string", {"iat": now - 2 * FAR, "nbf": now - 2 * FAR, "exp": str(now - FAR)},
           INVALID_TOKEN, "`exp` a string, an hour ago", "time")
    signed("exp-negative", {"exp": -1}, INVALID_TOKEN, "`exp: -1`", "time")
    signed("not-yet-valid", {"nbf": now + FAR}, INVALID_TOKEN, "`nbf` an hour ahead", "time", core=True)
    signed("missing-exp", {"exp": None}, INVALID_TOKEN, "no `exp` claim: a token that never expires", "time",
           tolerated=OPTIONAL_EXP)
    signed("exp-string-future", {"exp": str(now + 600)}, LENIENT, "`exp` a numeric string, in the future",
           "claim-types")
    signed("exp-float", {"exp": now + 600.5}, LENIENT, "`exp` a float, in the future", "claim-types")
    signed("exp-huge", {"exp": 2**63}, LENIENT, "`exp` 2**63", "claim-types")
    if signer.audience or base.get("aud"):
        signed("wrong-aud", {"aud": "lockstep-another-api"}, INVALID_TOKEN, "another audience", "audience",
               core=True)
        signed("aud-array-without-ours", {"aud": ["lockstep-another-api", "lockstep-third-api"]}, INVALID_TOKEN,
               "an audience list without ours", "audience")
        signed("missing-aud", {"aud": None}, INVALID_TOKEN, "no `aud` claim", "audience")
    issuer = signer.issuer or base.get("iss")
    if isinstance(issuer, str) and issuer:
        signed("wrong-iss", {"iss": "https://issuer.lockstep.invalid"}, INVALID_TOKEN, "another issuer", "issuer",
               core=True)
        if issuer.swapcase() != issuer:
            signed("iss-case", {"iss": issuer.swapcase()}, INVALID_TOKEN,
                   "the issuer in other letter case (claims compare case-sensitively)", "issuer")
        slashed = issuer[:-1] if issuer.endswith("/") else issuer + "/"
        signed("iss-trailing-slash", {"iss": slashed}, INVALID_TOKEN, "the issuer with/without a trailing slash",
               "issuer")
    signed("missing-sub", {"sub": None}, INVALID_TOKEN, "no `sub`: no identity to pass upstream", "subject",
           tolerated=OPTIONAL_SUB)
    signed("crit-unknown", {}, INVALID_TOKEN, "an unknown extension listed in `crit` (RFC 7515 4.1.11)", "crit",
           headers={"crit": ["lockstep-unknown"], "lockstep-unknown": True})
    if signer.algorithm == "RS256" and signer.is_rsa:
        signed("alg-rs512-same-key", {}, INVALID_TOKEN, "RS512 with the issuer's key where RS256 is pinned",
               "algorithm", algorithm="RS512")


def scope_lacking(signer: Signer, token: str | None, required: Iterable[str], *, scope_claim: str = "scope",
                  now: int | None = None) -> Variant:
    """A valid token (signed with the issuer's key) granted everything the gateway token has, minus `required`."""
    now = int(time.time()) if now is None else now
    _, claims = unverified(token)
    base = dict(claims) or {"sub": "lockstep-probe"}
    if signer.issuer:
        base.setdefault("iss", signer.issuer)
    if signer.audience:
        base.setdefault("aud", signer.audience)
    missing = set(required)
    granted = base.get(scope_claim, "")
    if isinstance(granted, list):
        kept: Any = [s for s in granted if s not in missing]
    else:
        kept = " ".join(s for s in str(granted).split() if s not in missing)
    claims = {**base, scope_claim: kept, "iat": now, "nbf": now, "exp": now + 600}
    text = f"a valid token without {', '.join(sorted(missing))}"
    token = signer.sign(claims)
    return Variant("scope-lacking", [("Authorization", f"Bearer {token}")], {}, INSUFFICIENT_SCOPE, True, text,
                   "scope", True)

