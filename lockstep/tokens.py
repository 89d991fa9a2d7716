"""Token variants for the auth flow: every way a client can present a credential badly, built with pyjwt.

A `Variant` is what one request carries (its Authorization headers and query) and what a correct gateway
answers to it (`expect`). `build_variants` derives them from the gateway's valid token, and optionally
from the issuer's public key (JWKS) and a `Signer` (the staging signing key: expired, wrong audience ...).
Tokens are encoded by pyjwt (a private PyJWS instance registers the algorithms an attacker uses: `none`
in every casing, HMAC keyed with the public key); only deliberately malformed shapes (a non-JSON header,
bad base64url, a wrong number of segments) are put together segment by segment. Every token built is
registered with the redactor, so none reaches a report.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import HMACAlgorithm, NoneAlgorithm, RSAAlgorithm
from jwt.api_jws import PyJWS
from jwt.utils import base64url_decode, base64url_encode

from .report.redact import register_secret

__all__ = [
    "Variant", "VariantSet", "Signer", "Expect", "ACCEPTED", "CHALLENGE", "INVALID_TOKEN", "REFUSED", "OVERSIZE",
    "LENIENT", "INSUFFICIENT_SCOPE", "build_variants", "scope_lacking", "unverified", "public_key_from_jwks",
    "public_key_pem", "foreign_key", "KEY_VARIANTS",
]

Expect = Literal["accepted", "challenge", "invalid_token", "refused", "oversize", "lenient", "insufficient_scope"]
ACCEPTED: Expect = "accepted"  # answered like the canonical `Bearer <token>` request
CHALLENGE: Expect = "challenge"  # no Bearer credential presented: 401 + `WWW-Authenticate: Bearer`
INVALID_TOKEN: Expect = "invalid_token"  # a Bearer token that is not valid: 401 + `error="invalid_token"`
REFUSED: Expect = "refused"  # a malformed request: 400, or 401 with a Bearer challenge
OVERSIZE: Expect = "oversize"  # too big: 400/401/413/431
LENIENT: Expect = "lenient"  # the RFCs allow either: accepted or cleanly refused, never 5xx
INSUFFICIENT_SCOPE: Expect = "insufficient_scope"  # valid but lacking the operation's scope: 403

FORGED_EXP = 3600  # forged tokens claim a lifetime of an hour, so no refusal is "because it expired"
FAR = 3600  # expired / not-yet-valid by an hour: far beyond any gateway's leeway
EVIL_URL = "https://attacker.invalid/.well-known/jwks.json"  # .invalid never resolves (RFC 6761)


@dataclass(frozen=True)
class Variant:
    """One way of presenting (or not) a credential, and what a correct gateway answers to it."""

    name: str
    headers: list[tuple[str, str]]  # the request's Authorization header(s), in order; odd bytes as latin-1
    query: dict[str, str]
    expect: Expect
    needs_key: bool
    description: str
    family: str = ""  # variants of one idea (alg-none in four casings): findings are grouped by it
    core: bool = False  # part of the small set run on every operation of a rate-limited profile

    @property
    def presents_token(self) -> bool:
        return any(k.lower() == "authorization" for k, _ in self.headers) or bool(self.query)


@dataclass
class VariantSet:
    variants: list[Variant] = field(default_factory=list)
    not_run: dict[str, str] = field(default_factory=dict)  # variant (or family) name -> why it was not built

    def by_name(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    def select(self, *expects: Expect, needs_key: bool | None = None, core_only: bool = False,
               skip: Iterable[str] = ()) -> list[Variant]:
        off = set(skip)
        return [v for v in self.variants
                if (not expects or v.expect in expects) and (needs_key is None or v.needs_key == needs_key)
                and (not core_only or v.core) and v.name not in off and v.family not in off]


@dataclass(frozen=True)
class Signer:
    """The issuer's signing key (staging only) and what a token it signs claims by default."""

    key_pem: str
    kid: str | None = None
    issuer: str | None = None
    audience: str | list[str] | None = None
    algorithm: str = "RS256"

    @functools.cached_property
    def key(self) -> Any:
        """The loaded private key (loading a PEM costs ~0.1 s: once per signer, not per token)."""
        return serialization.load_pem_private_key(self.key_pem.encode(), password=None)

    def sign(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None,
             algorithm: str | None = None) -> str:
        extra = {"kid": self.kid} if self.kid else {}
        extra.update(headers or {})
        return _register(jwt.encode(claims, self.key, algorithm=algorithm or self.algorithm, headers=extra))

    @property
    def is_rsa(self) -> bool:
        return isinstance(self.key, rsa.RSAPrivateKey)


# --------------------------------------------------------------------------- pyjwt with an attacker's algorithms

class _RawHMAC(HMACAlgorithm):
    """HS256 that takes any bytes as its secret (pyjwt refuses a PEM public key: the confusion attack needs it)."""

    def prepare_key(self, key: str | bytes) -> bytes:  # type: ignore[override]
        return key.encode() if isinstance(key, str) else bytes(key)

    def check_key_length(self, key: bytes) -> str | None:
        return None


NONE_CASINGS = {"alg-none": "none", "alg-none-title": "None", "alg-none-upper": "NONE", "alg-none-mixed": "nOnE"}
_ATTACKER = PyJWS(algorithms=[])
for _alg in NONE_CASINGS.values():
    _ATTACKER.register_algorithm(_alg, NoneAlgorithm())
_ATTACKER.register_algorithm("HS256", _RawHMAC(HMACAlgorithm.SHA256))


def _attacker_encode(claims: dict[str, Any], key: bytes | None, algorithm: str, headers: dict[str, Any]) -> str:
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return _ATTACKER.encode(payload, key, algorithm=algorithm, headers=headers)  # type: ignore[arg-type]


_FOREIGN: list[rsa.RSAPrivateKey] = []
_FOREIGN_LOCK = threading.Lock()


def foreign_key() -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    """An RSA key no issuer knows (made once per process) and its public JWK."""
    with _FOREIGN_LOCK:
        if not _FOREIGN:
            _FOREIGN.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        key = _FOREIGN[0]
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return key, {**jwk, "kid": "lockstep-foreign", "use": "sig", "alg": "RS256"}


# --------------------------------------------------------------------------- helpers

def unverified(token: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The token's header and claims without any verification ({} when it is not a JWS)."""
    if not token:
        return {}, {}
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}, {}
    return dict(header), dict(claims)


def public_key_from_jwks(jwks: dict[str, Any], kid: str | None = None) -> str | None:
    """The PEM (SubjectPublicKeyInfo) of the JWKS key named `kid`, else of its first RSA key."""
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kty") == "RSA"]
    chosen = next((k for k in keys if kid is not None and k.get("kid") == kid), keys[0] if keys else None)
    if chosen is None:
        return None
    public = RSAAlgorithm.from_jwk(chosen)
    return public.public_bytes(serialization.Encoding.PEM,  # type: ignore[union-attr]
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_key_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _b64(data: bytes | str) -> str:
    return base64url_encode(data.encode() if isinstance(data, str) else data).decode()


def _json_segment(obj: Any) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")))


def _register(token: str) -> str:
    register_secret(token)
    return token


def _auth(value: str) -> list[tuple[str, str]]:
    return [("Authorization", value)]


def _bearer(token: str) -> list[tuple[str, str]]:
    return _auth(f"Bearer {token}")


def _flip(segment: str) -> str:
    """Change one character in the middle (the last one may only carry padding bits)."""
    if not segment:
        return "AAAA"
    i = len(segment) // 2
    return segment[:i] + ("A" if segment[i] != "A" else "B") + segment[i + 1:]


# --------------------------------------------------------------------------- the variants

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
        token = _register(jwt.encode(forged, foreign_private, algorithm="RS256", headers={"kid": real_kid}))
        out.not_run["scheme-case"] = "needs the gateway's valid token (targets.gateway.auth)"
    else:
        register_secret(token)
    parts = token.split(".")
    h, p, s = (parts + ["", "", ""])[:3] if len(parts) == 3 else (_json_segment({"alg": "RS256"}), _b64(token), "")

    b = _Build(out, token, h, p, s, claims, header, forged, real_kid, foreign_private, foreign_jwk, scope_claim,
               now, public_key)
    for family in _FAMILIES:
        family(b)
    # what only the issuer's key can say (RFC 7519 4.1, RFC 8725 3.8-3.9)
    if signer is None:
        for name in KEY_VARIANTS:
            out.not_run[name] = "needs the issuer's signing key (auth.signing_key)"
        return out
    _key_variants(b.add, signer, base, now)
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
            query: dict[str, str] | None = None, core: bool = False, needs_key: bool = False) -> None:
        for _, value in headers:
            credential = value.split(" ", 1)[-1]
            if len(credential) >= 16:
                register_secret(credential)
        self.out.variants.append(Variant(name, headers, dict(query or {}), expect, needs_key, description, family,
                                         core))


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
    add("ws-tab", _auth(f"Bearer\t{token}"), REFUSED, "a tab after the scheme (RFC 6750 allows only spaces)",
        "whitespace")
    add("ws-trailing-junk", _auth(f"Bearer {token} lockstep"), REFUSED, "a second word after the token",
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
    add("jws-bad-base64url", _bearer(f"{h}.{p[:-4]}+/=!.{s}"), INVALID_TOKEN,
        "characters outside base64url in the payload", "jws-shape")
    add("jws-non-json-header", _bearer(f"{_b64('lockstep, not json')}.{p}.{s}"), INVALID_TOKEN,
        "a header segment that is not JSON", "jws-shape")
    no_alg = {k: v for k, v in header.items() if k != "alg"} or {"typ": "JWT"}
    add("jws-no-alg", _bearer(f"{_json_segment(no_alg)}.{p}.{s}"), INVALID_TOKEN, "a header without `alg`",
        "jws-shape")


def _size_and_bytes(b: _Build) -> None:
    """Size and odd bytes (bounded: 8 and 16 KB)."""
    add, token, h, s, claims = b.add, b.token, b.h, b.s, b.claims
    for kb in (8, 16):
        padded = _json_segment({**claims, "pad": "A" * (kb * 768)})  # base64url: 4 characters per 3 bytes
        add(f"oversize-{kb}k", _bearer(f"{h}.{padded}.{s}"), OVERSIZE, f"a token of about {kb} KB", "oversize")
    add("odd-bytes-utf8", _auth(f"Bearer {token}" + "é".encode().decode("latin-1")), REFUSED,
        "UTF-8 bytes after the token", "odd-bytes")
    add("odd-bytes-del", _auth(f"Bearer {token}\x7f"), REFUSED, "a DEL control byte after the token", "odd-bytes")
    add("odd-bytes-high", _auth(f"Bearer {token[:-4]}\xff\xfe{token[-2:]}"), REFUSED,
        "bytes 0xFF 0xFE inside the token", "odd-bytes")


def _signature_and_claims(b: _Build) -> None:
    """Signature and claims (RFC 7515 5.2)."""
    add, h, p, s, claims, scope_claim, now = b.add, b.h, b.p, b.s, b.claims, b.scope_claim, b.now
    add("sig-flipped", _bearer(f"{h}.{p}.{_flip(s)}"), INVALID_TOKEN, "one character of the signature changed",
        "signature", core=True)
    add("sig-stripped", _bearer(f"{h}.{p}."), INVALID_TOKEN, "the signature removed (`h.p.`)", "signature",
        core=True)
    add("sig-truncated", _bearer(f"{h}.{p}.{s[: len(s) // 8 * 4]}"), INVALID_TOKEN, "half of the signature",
        "signature")
    for name, change, core in (("tampered-sub", {"sub": "other-user"}, True),
                               ("tampered-scope", {scope_claim: f"{claims.get(scope_claim, '')} admin".strip()}, False),
                               ("tampered-exp", {"exp": now + 365 * 86400}, False)):
        tampered = _json_segment({**claims, **change})
        add(name, _bearer(f"{h}.{tampered}.{s}"), INVALID_TOKEN,
            f"claims changed ({', '.join(change)}) under the original signature", "tampered", core=core)


def _unsigned(b: _Build) -> None:
    """Unsigned (RFC 8725 2.1, 3.1)."""
    add, p, s, header, forged, real_kid = b.add, b.p, b.s, b.header, b.forged, b.real_kid
    for name, alg in NONE_CASINGS.items():
        unsigned = _register(_attacker_encode(forged, None, alg, {"alg": alg, "kid": real_kid}))
        add(name, _bearer(unsigned), INVALID_TOKEN, f"`alg: {alg}` and an empty signature", "alg-none", core=True)
    none_header = _json_segment({**header, "alg": "none"})
    add("alg-none-with-signature", _bearer(f"{none_header}.{p}.{s}"), INVALID_TOKEN,
        "`alg: none` with the original signature kept", "alg-none")


def _algorithm_confusion(b: _Build) -> None:
    """Algorithm confusion: HMAC keyed with the issuer's public key (RFC 8725 2.1)."""
    add, out, forged, real_kid, public_key = b.add, b.out, b.forged, b.real_kid, b.public_key
    if public_key is None:
        out.not_run["hs256-confusion"] = "needs the issuer's public key: set auth.jwks_url (or auth.signing_key)"
    else:
        for name, secret in _public_key_encodings(public_key):
            confused = _register(_attacker_encode(forged, secret, "HS256", {"kid": real_kid}))
            add(name, _bearer(confused), INVALID_TOKEN, "HS256 signed with the issuer's public key as the secret",
                "hs256-confusion", core=name == "hs256-pubkey-pem")
    for name, secret, kid, text in (("hs256-weak-secret", b"secret", real_kid, "HS256 signed with `secret`"),
                                    ("hs256-kid-dev-null", b"", "../../../../../../../dev/null",
                                     "HS256 with an empty secret and `kid` pointing at /dev/null")):
        weak = _register(_attacker_encode(forged, secret, "HS256", {"kid": kid}))
        add(name, _bearer(weak), INVALID_TOKEN, text, "hs256-weak")


def _foreign_keys(b: _Build) -> None:
    """Keys the token brings along, and keys nobody trusts (RFC 8725 3.10)."""
    add, forged, real_kid, foreign_private, foreign_jwk = b.add, b.forged, b.real_kid, b.foreign_private, b.foreign_jwk
    def foreign(headers: dict[str, Any]) -> str:
        return _register(jwt.encode(forged, foreign_private, algorithm="RS256", headers=headers))

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


KEY_VARIANTS = ("minted-valid", "expired", "expired-exp-string", "exp-negative", "not-yet-valid", "wrong-aud",
                "aud-array-without-ours", "missing-aud", "wrong-iss", "iss-case", "iss-trailing-slash",
                "missing-exp", "missing-sub", "exp-string-future", "exp-float", "exp-huge", "crit-unknown",
                "alg-rs512-same-key")


def _key_variants(add: Any, signer: Signer, base: dict[str, Any], now: int) -> None:
    valid = {**base, "iat": now, "nbf": now, "exp": now + 600}

    def signed(name: str, change: dict[str, Any], expect: Expect, text: str, family: str, *, core: bool = False,
               headers: dict[str, Any] | None = None, algorithm: str | None = None) -> None:
        claims = {k: v for k, v in {**valid, **change}.items() if v is not None}
        token = signer.sign(claims, headers=headers, algorithm=algorithm)
        add(name, _bearer(token), expect, text, family, core=core, needs_key=True)

    signed("minted-valid", {}, ACCEPTED, "a valid token minted with the signing key (the control)", "control",
           core=True)
    signed("expired", {"iat": now - 2 * FAR, "nbf": now - 2 * FAR, "exp": now - FAR}, INVALID_TOKEN,
           "expired an hour ago", "time", core=True)
    signed("expired-exp-string", {"iat": now - 2 * FAR, "nbf": now - 2 * FAR, "exp": str(now - FAR)},
           INVALID_TOKEN, "`exp` a string, an hour ago", "time")
    signed("exp-negative", {"exp": -1}, INVALID_TOKEN, "`exp: -1`", "time")
    signed("not-yet-valid", {"nbf": now + FAR}, INVALID_TOKEN, "`nbf` an hour ahead", "time", core=True)
    signed("missing-exp", {"exp": None}, INVALID_TOKEN, "no `exp` claim (RFC 8725: tokens must expire)", "time")
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
    signed("missing-sub", {"sub": None}, INVALID_TOKEN, "no `sub`: no identity to pass upstream", "subject")
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
    return Variant("scope-lacking", _bearer(token), {}, INSUFFICIENT_SCOPE, True, text, "scope", True)


def _public_key_encodings(pem: str) -> Sequence[tuple[str, bytes]]:
    """The encodings a verifier might feed to HMAC as the secret (jwt_tool tries the same)."""
    key = serialization.load_pem_public_key(pem.encode())
    spki = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    out = [("hs256-pubkey-pem", spki), ("hs256-pubkey-pem-no-newline", spki.rstrip(b"\n"))]
    if isinstance(key, rsa.RSAPublicKey):
        out.append(("hs256-pubkey-pkcs1", key.public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.PKCS1)))
    out.append(("hs256-pubkey-der", key.public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)))
    return out


def decode_segment(segment: str) -> bytes:
    """base64url without padding -> bytes (for tests and reports)."""
    return base64url_decode(segment.encode())


def _main(argv: Sequence[str] | None = None) -> int:
    """`python -m lockstep.tokens NAME`: print the credential of one variant (for a finding's reproducer).

    Reads GATEWAY_TOKEN, and optionally AUTH_SIGNING_KEY (PEM text or path), AUTH_KID, AUTH_ISSUER and
    AUTH_AUDIENCE, from the environment; prints what follows the scheme in the variant's Authorization
    header (or its ?access_token=), for `VARIANT_TOKEN=$(python -m lockstep.tokens NAME)`.
    """
    import argparse
    import os
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m lockstep.tokens", description=_main.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="the variant's name (omit to list them)")
    args = parser.parse_args(argv)
    key = os.environ.get("AUTH_SIGNING_KEY", "").strip()
    if key and not key.startswith("-----BEGIN") and Path(key).is_file():
        key = Path(key).read_text(encoding="utf-8")
    signer = Signer(key, os.environ.get("AUTH_KID") or None, os.environ.get("AUTH_ISSUER") or None,
                    os.environ.get("AUTH_AUDIENCE") or None) if key.startswith("-----BEGIN") else None
    found = build_variants(os.environ.get("GATEWAY_TOKEN") or None,
                           public_key=public_key_pem(signer.key_pem) if signer else None, signer=signer)
    if not args.name:
        for v in found.variants:
            print(f"{v.name:30} {v.expect:18} {v.description}")
        return 0
    try:
        variant = found.by_name(args.name)
    except StopIteration:
        parser.error(f"unknown variant {args.name!r} (or it needs a key or token not given)")
    values = [v for k, v in variant.headers if k.lower() == "authorization"] or list(variant.query.values())
    print(values[0].split(" ", 1)[-1] if values else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
