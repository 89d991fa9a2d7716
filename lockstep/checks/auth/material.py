"""What the run knows about auth: the flow's slice of the contract, and the key material built once per run
into `ctx.cache` (the gateway's token, the issuer's signing key, its public key from the JWKS, the demo
stack's values where the contract says `demo`) with the variant set built from it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization

from ...contract import DEMO, AuthPolicy
from ...engine.context import CheckContext, DemoFacts, RunFacts
from ...report.redact import register_secret
from ...tokens import Signer, VariantSet, build_variants, public_key_from_jwks, public_key_pem, unverified

__all__ = ["AuthSlice", "AuthMaterial", "material", "build_material", "VARIANTS_TTL"]

VARIANTS_TTL = 300.0  # seconds a built variant set is reused (minted tokens live 10 minutes)
JWKS_TIMEOUT = 10.0


@dataclass(frozen=True)
class AuthSlice:
    """The auth flow's slice of the contract: its policy, the CORS policy (for the CORS headers of auth
    errors) and each target's own headers (the legacy's identity header; the gateway's non-credential ones)."""

    auth: AuthPolicy = field(default_factory=AuthPolicy)
    cors: Any = None
    legacy_headers: dict[str, str] = field(default_factory=dict)
    gateway_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, contract: Any) -> "AuthSlice":
        targets = getattr(contract, "targets", None)
        return cls(getattr(contract, "auth", None) or AuthPolicy(), getattr(contract, "cors", None),
                   dict(targets.legacy.headers) if targets else {}, dict(targets.gateway.headers) if targets else {})


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

    def not_run(self) -> dict[str, str]:
        """Variant (or family) name -> why it is not built here, with this run's own reasons."""
        not_run = dict(self.variants().not_run)
        if self.no_key:
            not_run = {k: (self.no_key if "signing key" in v else v) for k, v in not_run.items()}
        if self.no_public_key and "hs256-confusion" in not_run:
            not_run["hs256-confusion"] = self.no_public_key
        return not_run


def material(ctx: CheckContext) -> AuthMaterial:
    """This run's material, built on first use (the figures then say which variants cannot be built)."""
    found = ctx.cache.get("material")
    if found is None:
        slice_ = ctx.policy if isinstance(ctx.policy, AuthSlice) else AuthSlice()
        found = ctx.cache["material"] = build_material(slice_.auth, ctx.facts)
        not_run = found.not_run()
        if not_run:
            ctx.figures["variants not run"] = not_run
    return found


def build_material(policy: AuthPolicy, facts: RunFacts) -> AuthMaterial:
    token = facts.gateway_token
    register_secret(token)
    header, claims = unverified(token)
    demo = facts.demo
    issuer = _resolved(policy.issuer, demo, "issuer") or _str(claims.get("iss"))
    audience = _resolved(policy.audience, demo, "audience") or claims.get("aud")
    kid = _resolved(policy.kid, demo, "kid") or _str(header.get("kid"))
    key_pem, no_key = signing_key(policy, demo)
    signer = None
    if key_pem is not None:
        signer = Signer(key_pem, kid, issuer, audience if isinstance(audience, (str, list)) else None,
                        policy.algorithm)
    public, no_public = None, None
    jwks_url = _resolved(policy.jwks_url, demo, "jwks_url")
    if jwks_url:
        public, no_public = fetch_public_key(jwks_url, _str(header.get("kid")) or kid, facts.verify)
    if public is None and key_pem is not None:
        public, no_public = public_key_pem(key_pem), None
    elif public is None and no_public is None:
        no_public = "no issuer public key: set auth.jwks_url (or auth.signing_key)"
    return AuthMaterial(policy, token, header, claims, signer, no_key, public, no_public)


def _resolved(value: str | None, demo: DemoFacts | None, attr: str) -> str | None:
    """A contract value, `demo` standing for the embedded demo stack's."""
    if value == DEMO:
        return (getattr(demo, attr, None) or None) if demo is not None else None
    return value or None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def signing_key(policy: AuthPolicy, demo: DemoFacts | None) -> tuple[str | None, str | None]:
    """(PEM, None) or (None, why not): the key is PEM text or a PEM file's path, from the environment."""
    if policy.signing_key is None:
        return None, ("the contract gives no auth.signing_key (staging only: `signing_key: \"${AUTH_SIGNING_KEY}\"` "
                      "with the issuer's private key PEM, or its path, in that environment variable)")
    value = policy.signing_key.get_secret_value().strip()
    if value == DEMO:
        if demo is None:
            return None, ("auth.signing_key is `demo` but the targets are not the demo stack: export "
                          "AUTH_SIGNING_KEY with the staging issuer's private key (PEM text or a file path)")
        value = demo.signing_key_pem
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


def fetch_public_key(url: str, kid: str | None, verify: bool | str = True) -> tuple[str | None, str | None]:
    """The issuer's RSA public key (PEM) from its JWKS, or why not: one bounded request."""
    try:
        response = httpx.get(url, timeout=JWKS_TIMEOUT, trust_env=False, verify=verify, follow_redirects=False)
        pem = public_key_from_jwks(response.json(), kid) if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, TypeError, KeyError):
        pem = None
    return (pem, None) if pem else (None, f"the JWKS at auth.jwks_url gave no RSA public key ({url})")
