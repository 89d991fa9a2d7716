"""Every way a client can present a credential badly, built from the gateway's valid token: how it is
presented (RFC 6750 2.1, RFC 9110 11.1), malformed JWS shapes, size and odd bytes, signature and claims
under the original signature, unsigned tokens, algorithm confusion and foreign keys (RFC 8725). What only
the issuer's signing key can build is in `claims.py`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from ..report.redact import register_secret
from .claims import KEY_VARIANTS, key_variants
from .keys import (NONE_CASINGS, attacker_encode, b64, foreign_key, flip, json_segment,
                   public_key_encodings, unverified)
from .model import (ACCEPTED, CHALLENGE, INVALID_TOKEN, LENIENT, OVERSIZE, REFUSED, Expect, Signer, Variant,
                    VariantSet, register)

__all__ = ["build_variants", "FORGED_EXP"]

FORGED_EXP = 3600  # forged tokens claim a lifetime of an hour, so no refusal is "because it expired"
EVIL_URL = "https://attacker.invalid/.well-known/jwks.json"  # .invalid never resolves (RFC 6761)


def _auth(value: str) -> list[tuple[str, str]]:
    return [("Authorization", value)]


def _bearer(token: str) -> list[tuple[str, str]]:
    return _auth(f"Bearer {token}")


def build_variants(token: str | None, *, public_key: str | None = None, signer: Signer | None = None,
                   scope_claim: str = "scope", now: int | None = None) -> VariantSet:
    """Every variant that can be built from what is known.

    `token`: the gateway's valid token (None: the variants that must be accepted are not built);
    `public_key`: the issuer's public key PEM, from its JWKS (RS256->HS256 confusion);
    `signer`: the issuer's signing key (time, audience and issuer claims; `needs_key` variants).
    """
    now = int(time.time()) if now is None else now
    out = VariantSet()
    header, claims = unverified(token)
    base = dict(claims) or {"sub": "lockstep-probe"}
    if signer is not None and signer.issuer:
        base.setdefault("iss", signer.issuer)
    if signer is not None and signer.audience:
        base.setdefault("aud", signer.audience)
    forged = {**base, "iat": now, "nbf": now, "exp": now + FORGED_EXP}
    foreign_private, foreign_jwk = foreign_key()
    real_kid = header.get("kid") or (signer.kid if signer else None) or "lockstep-probe"
    if token is None:
        token = register(jwt.encode(forged, foreign_private, algorithm="RS256", headers={"kid": real_kid}))
        out.not_run["scheme-case"] = "needs the gateway's valid token (targets.gateway.auth)"
    else:
        register_secret(token)
    parts = token.split(".")
    h, p, s = (parts + ["", "", ""])[:3] if len(parts) == 3 else (json_segment({"alg": "RS256"}), b64(token), "")

    b = _Build(out, token, h, p, s, claims, header, forged, real_kid, foreign_private, foreign_jwk, scope_claim,
               now, public_key)
    for family in _FAMILIES:
        family(b)
    # what only the issuer's key can say (RFC 7519 4.1, RFC 8725 3.8-3.9)
    if signer is None:
        for name in KEY_VARIANTS:
            out.not_run[name] = "needs the issuer's signing key (auth.signing_key)"
        return out
    key_variants(b.add, signer, base, now)
    return out


@dataclass
class _Build:
    """What the variant families share while building: the valid token's parts, claims and keys."""

    out: VariantSet
    token: str
    h: str
    p: str
    s: str
    claims: dict[str, Any]
    header: dict[str, Any]
    forged: dict[str, Any]
    real_kid: str
    foreign_private: Any
    foreign_jwk: dict[str, Any]
    scope_claim: str
    now: int
    public_key: str | None

    def add(self, name: str, headers: list[tuple[str, str]], expect: Expect, description: str, family: str, *,
            query: dict[str, str] | None = None, core: bool = False, needs_key: bool = False,
            tolerated: str = "") -> None:
        for _, value in headers:
            credential = value.split(" ", 1)[-1]
            if len(credential) >= 16:
                register_secret(credential)
        self.out.variants.append(Variant(name, headers, dict(query or {}), expect, needs_key, description, family,
                                         core, tolerated))


def _presentation(b: _Build) -> None:
    """How the credential is presented (RFC 6750 2.1, RFC 9110 11.1)."""
    add, token, out = b.add, b.token, b.out
    add("missing", [], CHALLENGE, "no Authorization header", "missing", core=True)
    add("empty", _auth(""), REFUSED, "an empty Authorization header", "empty", core=True)
    add("bare-scheme", _auth("Bearer"), REFUSED, "the scheme alone, no token", "bare-scheme", core=True)
    add("scheme-basic", _auth(f"Basic {token}"), CHALLENGE, "the token under the Basic scheme", "wrong-scheme",
        core=True)
    add("scheme-token", _auth(f"Token {token}"), CHALLENGE, "the token under a `Token` scheme", "wrong-scheme")
    add("scheme-jwt", _auth(f"JWT {token}"), CHALLENGE, "the token under a `JWT` scheme", "wrong-scheme")
    add("raw-token", _auth(token), CHALLENGE, "the token without any scheme", "raw-token", core=True)
    if "scheme-case" not in out.not_run:
        for name, scheme in (("scheme-lower", "bearer"), ("scheme-upper", "BEARER"), ("scheme-mixed", "bEaReR")):
            add(name, _auth(f"{scheme} {token}"), ACCEPTED,
                f"the scheme spelled `{scheme}`", "scheme-case",
                core=True)
        for name, header_name in (("header-name-lower", "authorization"), ("header-name-upper", "AUTHORIZATION")):
            add(name, [(header_name, f"Bearer {token}")], ACCEPTED,
                f"the header named `{header_name}`", "scheme-case", core=True)
    add("ws-double-space", _auth(f"Bearer  {token}"), LENIENT, "two spaces after the scheme (1*SP allows it)",
        "whitespace")
    # RFC 6750's grammar allows neither, but RFC 9110 2.2 lets a recipient recover the token from them (Kong's
    # `[Bb]earer\s+` reads a tab): accepted with the valid token still checked, or refused, never a 5xx
    add("ws-tab", _auth(f"Bearer\t{token}"), LENIENT, "a tab after the scheme (RFC 6750 allows only spaces)",
        "whitespace")
    add("ws-trailing-junk", _auth(f"Bearer {token} lockstep"), LENIENT, "a second word after the token",
        "whitespace")
    add("dup-valid-garbage", [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer lockstep-garbage")],
        REFUSED, "two Authorization headers, the valid one first", "duplicate-header", core=True)
    add("dup-garbage-valid", [("Authorization", "Bearer lockstep-garbage"), ("Authorization", f"Bearer {token}")],
        REFUSED, "two Authorization headers, the valid one second", "duplicate-header", core=True)
    add("header-plus-query", _bearer(token), REFUSED,
        "the token in the header and as ?access_token= (RFC 6750 3.1: invalid_request)", "query-token",
        query={"access_token": token})
    add("query-only", [], CHALLENGE, "the token only as ?access_token= (not accepted unless the legacy did)",
        "query-token", query={"access_token": token})


def _malformed(b: _Build) -> None:
    """Malformed JWS shapes (RFC 7515 7.1)."""
    add, h, p, s, header = b.add, b.h, b.p, b.s, b.header
    add("jws-one-segment", _bearer("lockstep"), INVALID_TOKEN, "a token of one segment", "jws-shape", core=True)
    add("jws-two-segments", _bearer(f"{h}.{p}"), INVALID_TOKEN, "header.payload without a signature segment",
        "jws-shape")
    add("jws-four-segments", _bearer(f"{h}.{p}.{s}.{s[:8] or 'AAAA'}"), INVALID_TOKEN, "a fourth segment",
        "jws-shape")
    # `!` and an inner `=` break RFC 6750's b64token syntax: a malformed request (400) as much as a bad token
    add("jws-bad-base64url", _bearer(f"{h}.{p[:-4]}+/=!.{s}"), REFUSED,
        "characters outside base64url in the payload", "jws-shape")
    add("jws-non-json-header", _bearer(f"{b64('lockstep, not json')}.{p}.{s}"), INVALID_TOKEN,
        "a header segment that is not JSON", "jws-shape")
    no_alg = {k: v for k, v in header.items() if k != "alg"} or {"typ": "JWT"}
    add("jws-no-alg", _bearer(f"{json_segment(no_alg)}.{p}.{s}"), INVALID_TOKEN, "a header without `alg`",
        "jws-shape")


def _size_and_bytes(b: _Build) -> None:
    """Size and odd bytes (bounded: 8 and 16 KB)."""
    add, token, h, s, claims = b.add, b.token, b.h, b.s, b.claims
    for kb in (8, 16):
        padded = json_segment({**claims, "pad": "A" * (kb * 768)})  # base64url: 4 characters per 3 bytes
        add(f"oversize-{kb}k", _bearer(f"{h}.{padded}.{s}"), OVERSIZE, f"a token of about {kb} KB", "oversize")
    add("odd-bytes-utf8", _auth(f"Bearer {token}" + "é".encode().decode("latin-1")), REFUSED,
        "UTF-8 bytes after the token", "odd-bytes")
    add("odd-bytes-del", _auth(f"Bearer {token}\x7f"), REFUSED, "a DEL control byte after the token", "odd-bytes")
    add("odd-bytes-high", _auth(f"Bearer {token[:-4]}\xff\xfe{token[-2:]}"), REFUSED,
        "bytes 0xFF 0xFE inside the token", "odd-bytes")


def _signature_and_claims(b: _Build) -> None:
    """Signature and claims (RFC 7515 5.2)."""
    add, h, p, s, claims, scope_claim, now = b.add, b.h, b.p, b.s, b.claims, b.scope_claim, b.now
    add("sig-flipped", _bearer(f"{h}.{p}.{flip(s)}"), INVALID_TOKEN, "one character of the signature changed",
        "signature", core=True)
    add("sig-stripped", _bearer(f"{h}.{p}."), INVALID_TOKEN, "the signature removed (`h.p.`)", "signature",
        core=True)
    add("sig-truncated", _bearer(f"{h}.{p}.{s[: len(s) // 8 * 4]}"), INVALID_TOKEN, "half of the signature",
        "signature")
    for name, change, core in (("tampered-sub", {"sub": "other-user"}, True),
                               ("tampered-scope", {scope_claim: f"{claims.get(scope_claim, '')} admin".strip()}, False),
                               ("tampered-exp", {"exp": now + 365 * 86400}, False)):
        tampered = json_segment({**claims, **change})
        add(name, _bearer(f"{h}.{tampered}.{s}"), INVALID_TOKEN,
            f"claims changed ({', '.join(change)}) under the original signature", "tampered", core=core)


def _unsigned(b: _Build) -> None:
    """Unsigned (RFC 8725 2.1, 3.1)."""
    add, p, s, header, forged, real_kid = b.add, b.p, b.s, b.header, b.forged, b.real_kid
    for name, alg in NONE_CASINGS.items():
        unsigned = register(attacker_encode(forged, None, alg, {"alg": alg, "kid": real_kid}))
        add(name, _bearer(unsigned), INVALID_TOKEN, f"`alg: {alg}` and an empty signature", "alg-none", core=True)
    none_header = json_segment({**header, "alg": "none"})
    add("alg-none-with-signature", _bearer(f"{none_header}.{p}.{s}"), INVALID_TOKEN,
        "`alg: none` with the original signature kept", "alg-none")


def _algorithm_confusion(b: _Build) -> None:
    """Algorithm confusion: HMAC keyed with the issuer's public key (RFC 8725 2.1)."""
    add, out, forged, real_kid, public_key = b.add, b.out, b.forged, b.real_kid, b.public_key
    if public_key is None:
        out.not_run["hs256-confusion"] = "needs the issuer's public key: set auth.jwks_url (or auth.signing_key)"
    else:
        for name, secret in public_key_encodings(public_key):
            confused = register(attacker_encode(forged, secret, "HS256", {"kid": real_kid}))
            add(name, _bearer(confused), INVALID_TOKEN, "HS256 signed with the issuer's public key as the secret",
                "hs256-confusion", core=name == "hs256-pubkey-pem")
    for name, secret, kid, text in (("hs256-weak-secret", b"secret", real_kid, "HS256 signed with `secret`"),
                                    ("hs256-kid-dev-null", b"", "../../../../../../../dev/null",
                                     "HS256 with an empty secret and `kid` pointing at /dev/null")):
        weak = register(attacker_encode(forged, secret, "HS256", {"kid": kid}))
        add(name, _bearer(weak), INVALID_TOKEN, text, "hs256-weak")


def _foreign_keys(b: _Build) -> None:
    """Keys the token brings along, and keys nobody trusts (RFC 8725 3.10)."""
    add, forged, real_kid, foreign_private, foreign_jwk = b.add, b.forged, b.real_kid, b.foreign_private, b.foreign_jwk
    def foreign(headers: dict[str, Any]) -> str:
        return register(jwt.encode(forged, foreign_private, algorithm="RS256", headers=headers))

    add("jwk-embedded", _bearer(foreign({"kid": foreign_jwk["kid"], "jwk": foreign_jwk})), INVALID_TOKEN,
        "signed by a foreign key that the header embeds as `jwk`", "embedded-key", core=True)
    add("jku-foreign", _bearer(foreign({"kid": foreign_jwk["kid"], "jku": EVIL_URL})), INVALID_TOKEN,
        "signed by a foreign key, `jku` naming a foreign JWKS URL", "embedded-key")
    add("x5u-foreign", _bearer(foreign({"kid": foreign_jwk["kid"], "x5u": EVIL_URL})), INVALID_TOKEN,
        "signed by a foreign key, `x5u` naming a foreign URL", "embedded-key")
    for name, kid, text in (("kid-empty", "", "an empty kid"),
                            ("kid-path-traversal", "../../../../../../etc/passwd", "a path traversal kid"),
                            ("kid-sql", "x' UNION SELECT 'lockstep' --", "an SQL injection kid"),
                            ("kid-shell", "$(sleep 5)|sleep 5", "a shell injection kid"),
                            ("kid-unknown", "lockstep-unknown-kid", "an unknown kid")):
        add(name, _bearer(foreign({"kid": kid})), INVALID_TOKEN, f"signed by a foreign key, {text}", "kid")
    add("foreign-key-real-kid", _bearer(foreign({"kid": real_kid})), INVALID_TOKEN,
        "signed by a foreign RS256 key under the issuer's kid", "foreign-key", core=True)
    add("foreign-key-own-kid", _bearer(foreign({"kid": foreign_jwk["kid"]})), INVALID_TOKEN,
        "signed by a foreign RS256 key under its own kid", "foreign-key")


_FAMILIES = (_presentation, _malformed, _size_and_bytes, _signature_and_claims, _unsigned, _algorithm_confusion, _foreign_keys)
