"""The demo gateway's policies, read from the OpenAPI document: CORS, rate limits and token checks.

Split from gateway.py (which re-exports every name); the nginx gateway (lockstep/demo/nginx) generates
its configuration from the same CorsPolicy and rate limits, so both gateways apply one policy.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from lockstep.demo.auth_service import AUDIENCE, ISSUER
from lockstep.demo.routes import Route
from lockstep.rates import parse_rate

LEEWAY = 30
logger = logging.getLogger("lockstep.demo.gateway")

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class GatewayConfig:
    upstream_url: str
    jwks_url: str
    issuer: str = ISSUER
    audience: str = AUDIENCE
    faults: tuple[str, ...] = ()
    rate_limit: str | None = None
    spec: dict[str, Any] | None = None



# ---------------------------------------------------------------- CORS and rate limit

@dataclass(frozen=True)
class CorsPolicy:
    origins: tuple[str, ...]
    credentials: bool
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int
    wildcard: bool = False  # fault cors-wildcard-with-credentials

    @classmethod
    def from_spec(cls, spec: dict[str, Any], faults: Iterable[str] = ()) -> CorsPolicy:
        x = spec.get("x-cors", {})
        allow = tuple(x.get("allow_headers", ()))
        if "cors-no-authorization-header" in faults:
            allow = tuple(h for h in allow if h.lower() != "authorization")
        return cls(tuple(x.get("allow_origins", ())), bool(x.get("allow_credentials", False)), allow,
                   tuple(x.get("expose_headers", ())), int(x.get("max_age", 0)),
                   "cors-wildcard-with-credentials" in faults)

    def allow_origin(self, origin: str | None) -> str | None:
        if self.wildcard:
            return "*"
        return origin if origin is not None and origin in self.origins else None  # exact match only

    def credential_headers(self, origin: str | None) -> Headers:
        allowed = self.allow_origin(origin)
        if allowed is None:
            return []
        headers = [("Access-Control-Allow-Origin", allowed)]
        return headers + ([("Access-Control-Allow-Credentials", "true")] if self.credentials else [])

    def actual(self, origin: str | None) -> Headers:
        headers = self.credential_headers(origin)
        if headers and self.expose_headers:
            headers.append(("Access-Control-Expose-Headers", ", ".join(self.expose_headers)))
        return headers

    def preflight(self, origin: str | None, route: Route) -> Headers:
        headers = self.credential_headers(origin)
        if not headers:
            return []
        return headers + [("Access-Control-Allow-Methods", ", ".join(route.methods())),
                          ("Access-Control-Allow-Headers", ", ".join(self.allow_headers)),
                          ("Access-Control-Max-Age", str(self.max_age))]


class RateLimiter:
    """Token buckets per key (route and client); an operation may have its own rate and burst."""

    def __init__(self, rate: float, burst: int, per_operation: dict[str, tuple[float, int]] | None = None) -> None:
        self.rate, self.burst = rate, burst
        self.per_operation = per_operation or {}
        self.buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def acquire(self, key: tuple[str, str]) -> float:
        """0.0 when a token was taken, else the seconds until one is available."""
        rate, burst = self.per_operation.get(key[0], (self.rate, self.burst))
        now = time.monotonic()
        tokens, last = self.buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1 - tokens) / rate


def _limit(x: dict[str, Any]) -> tuple[float, int]:
    return float(x.get("rate", 100)), int(x.get("burst", x.get("rate", 100)))


def rate_limiter(spec: dict[str, Any], override: str | None) -> RateLimiter:
    """The document's `x-rate-limit` (top level, and per operation); `override` replaces them all."""
    if override:
        return RateLimiter(*parse_rate(override))
    per_operation = {f"{method.upper()} {path}": _limit(op["x-rate-limit"])
                     for path, item in (spec.get("paths") or {}).items()
                     for method, op in item.items() if isinstance(op, dict) and "x-rate-limit" in op}
    return RateLimiter(*_limit(spec.get("x-rate-limit", {})), per_operation)


# ---------------------------------------------------------------- tokens

class JwksCache:
    MIN_REFRESH = 5.0  # unknown kids must not turn into a JWKS fetch storm

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url, self.client = url, client
        self.keys: dict[str, Any] = {}
        self.fetched_at = -math.inf
        self.lock = asyncio.Lock()

    async def key(self, kid: str) -> Any | None:
        if kid not in self.keys and time.monotonic() - self.fetched_at >= self.MIN_REFRESH:
            async with self.lock:
                if kid not in self.keys and time.monotonic() - self.fetched_at >= self.MIN_REFRESH:
                    await self.refresh()
        return self.keys.get(kid)

    async def refresh(self) -> None:
        self.fetched_at = time.monotonic()
        try:
            data = (await self.client.get(self.url)).json()
            self.keys = {k["kid"]: jwt.PyJWK(k).key for k in data["keys"]
                         if k.get("kty") == "RSA" and isinstance(k.get("kid"), str)}
        except (httpx.HTTPError, ValueError, KeyError, TypeError, jwt.PyJWTError):
            logger.warning("JWKS refresh from %s failed; keeping %d cached keys", self.url, len(self.keys))


class TokenVerifier:
    def __init__(self, config: GatewayConfig, jwks: JwksCache) -> None:
        self.issuer, self.audience, self.jwks = config.issuer, config.audience, jwks
        self.accept_none = "auth-alg-none-accepted" in config.faults
        self.accept_expired = "auth-expired-accepted" in config.faults
        self.exact_scheme = "auth-scheme-case-sensitive" in config.faults

    def bearer_token(self, value: str) -> str | None:
        """An Authorization value's token. None: not a Bearer credential; "": malformed."""
        scheme, _, rest = value.partition(" ")
        if not (scheme == "Bearer" if self.exact_scheme else scheme.lower() == "bearer"):
            return None
        token = rest.strip(" ")
        return "" if not token or any(c.isspace() for c in token) else token

    async def optional_subject(self, credentials: list[str]) -> str | None:
        """Optional authentication (a public operation): the subject of the request's one credential when
        it is a valid bearer token, else None: the caller is anonymous, never refused."""
        token = self.bearer_token(credentials[0]) if len(credentials) == 1 else None
        claims = await self.claims(token) if token else None
        return None if claims is None else str(claims["sub"])

    async def claims(self, token: str) -> dict[str, Any] | None:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        alg, kid = header.get("alg"), header.get("kid")
        if self.accept_none and isinstance(alg, str) and alg.lower() == "none":
            return self.decode(token, None)
        if alg != "RS256" or not isinstance(kid, str):
            return None
        key = await self.jwks.key(kid)
        return None if key is None else self.decode(token, key)

    def decode(self, token: str, key: Any | None) -> dict[str, Any] | None:
        options = {"require": ["exp", "iss", "aud", "sub"], "verify_signature": key is not None,
                   "verify_exp": not self.accept_expired, "verify_nbf": True, "verify_iat": True,
                   "verify_aud": True, "verify_iss": True}
        try:
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=self.audience,
                                issuer=self.issuer, leeway=LEEWAY, options=options)  # type: ignore[arg-type]
        except Exception:  # any malformed token or claim is a 401, never a 500
            return None
        sub = claims.get("sub")
        return claims if isinstance(sub, str) and sub else None
