"""What a token variant is: how one request presents (or not) a credential, and what a correct gateway
answers to it; the set of them; the issuer's signing key (`Signer`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..report.redact import register_secret

__all__ = ["Variant", "VariantSet", "Signer", "Expect", "ACCEPTED", "CHALLENGE", "INVALID_TOKEN", "REFUSED",
           "OVERSIZE", "LENIENT", "INSUFFICIENT_SCOPE", "register"]


Expect = Literal["accepted", "challenge", "invalid_token", "refused", "oversize", "lenient", "insufficient_scope"]
ACCEPTED: Expect = "accepted"  # answered like the canonical `Bearer <token>` request
CHALLENGE: Expect = "challenge"  # no Bearer credential presented: 401 + `WWW-Authenticate: Bearer`
INVALID_TOKEN: Expect = "invalid_token"  # a Bearer token that is not valid: 401 + `error="invalid_token"`
REFUSED: Expect = "refused"  # a malformed request: 400, or 401 with a Bearer challenge
OVERSIZE: Expect = "oversize"  # too big: 400/401/413/431
LENIENT: Expect = "lenient"  # the RFCs allow either: accepted or cleanly refused, never 5xx
INSUFFICIENT_SCOPE: Expect = "insufficient_scope"  # valid but lacking the operation's scope: 403


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
    tolerated: str = ""  # why the RFCs let a gateway accept it anyway: then accepting it is a note, not a failure

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
        return register(jwt.encode(claims, self.key, algorithm=algorithm or self.algorithm, headers=extra))

    @property
    def is_rsa(self) -> bool:
        return isinstance(self.key, rsa.RSAPrivateKey)


def register(token: str) -> str:
    """The token, registered with the redactor (no report ever shows it)."""
    register_secret(token)
    return token
