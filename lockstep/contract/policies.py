"""The auth, routes and latency sections."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from .base import _Model

__all__ = ["AuthPolicy", "RouteAlias", "RoutesPolicy", "LatencyPolicy"]

class AuthPolicy(_Model):
    """The auth flow's truth: how the gateway authenticates (RFC 6750 bearer JWTs) and what it must not trust.

    Which operations are protected, and with which scopes, comes from the OpenAPI document's `security`.
    `demo` as issuer, audience, jwks_url, signing_key or kid means: the embedded demo stack's value. An
    unset issuer, audience or kid is read from the gateway token itself. The signing key (staging only)
    comes from an environment variable, `signing_key: "${AUTH_SIGNING_KEY}"`: PEM text or a PEM file's
    path, never a command-line argument; without it the variants that need it are skipped, saying why.
    """

    scheme: Literal["bearer"] = "bearer"
    issuer: str | None = None
    audience: str | None = None
    jwks_url: str | None = None  # the issuer's public keys (RS256->HS256 confusion variants)
    signing_key: SecretStr | None = None  # staging only: the issuer's private key (PEM text or file path)
    kid: str | None = None  # the key id tokens signed with signing_key carry
    algorithm: Literal["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"] = "RS256"
    scope_claim: str = "scope"  # space-separated string or list
    identity_headers: list[str] = ["X-User-Id", "X-Consumer-Id", "X-Consumer-Username", "X-Authenticated-Userid",
                                   "X-Forwarded-User"]  # headers the upstream trusts; a client must not set them
    # operations whose answer shows whose identity reached the upstream (one, or a list: a public one too, so
    # that identity headers are probed on public routes as well as protected ones)
    identity_probe: list[str] = ["GET /users/me"]
    other_identity: str = "other-user"  # an identity that exists upstream and is not the token's
    skip_variants: list[str] = []  # variant or family names this gateway is not held to (e.g. raw-token)
    latency_samples: int = Field(20, ge=3, le=100)  # per target and operation
    burst_requests: int = Field(80, ge=10, le=180)  # invalid tokens sent while valid calls are timed
    max_overhead_p95_ms: float | None = Field(None, gt=0)  # budget: gateway p95 - legacy p95; None: figures only
    max_burst_slowdown: float | None = Field(None, gt=1)  # budget: valid p95 under the burst / quiet p95

    @field_validator("identity_probe", mode="before")
    @classmethod
    def _probe(cls, value: Any) -> list[str]:
        values = [] if value is None else [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            raise ValueError("write it as `GET /path` or a list of them")
        probes = []
        for one in values:
            method, _, path = str(one).strip().partition(" ")
            if method.upper() not in ("GET", "HEAD") or not path.strip().startswith("/"):
                raise ValueError(f"{one!r}: write it as `GET /path` (a safe operation whose answer names the caller)")
            probes.append(f"{method.upper()} {path.strip()}")
        return probes

    @field_validator("identity_headers")
    @classmethod
    def _identity_headers(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", value):
                raise ValueError(f"{value!r} is not a header name")
        return values


_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


class RouteAlias(_Model):
    """An old path (or host) clients still call, served by the gateway like a path of the document.

    `path`: the old prefix as clients call it, on the gateway's host (`/api/v1/recipes`) or a full URL of an
    old host (`https://old-api.example.com/v1/recipes`). `same_as`: the document path prefix it stands for
    (`/recipes`); every operation under it is compared through the old path too.
    """

    path: str
    same_as: str

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not (value.startswith("/") or re.match(r"https?://[^/]+", value)):
            raise ValueError(f"{value!r}: write a path on the gateway's host (/api/v1) or a URL (https://old.example.com/v1)")
        return value.rstrip("/") or "/"

    @field_validator("same_as")
    @classmethod
    def _same_as(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{value!r}: write a path of the document, e.g. /recipes")
        return value.rstrip("/") or "/"


class RoutesPolicy(_Model):
    """The route inventory's truth beyond the document: paths the public gateway must not serve, old paths
    it must keep serving. Private entries are concrete paths on the API's root, `/internal/stats` or
    `GET /internal/stats` (GET when no method is given)."""

    private: list[str] = []
    aliases: list[RouteAlias] = []

    @field_validator("private")
    @classmethod
    def _private(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            method, _, path = value.strip().rpartition(" ")
            method = method.strip().upper() or "GET"
            if method not in _HTTP_METHODS or not path.startswith("/") or "{" in path:
                raise ValueError(f"{value!r}: write a concrete path (/internal/stats) or `METHOD /path`")
            out.append(f"{method} {path}")
        return out


class LatencyPolicy(_Model):
    """Budgets for the gateway's latency overhead (gateway minus legacy, per operation); unset: figures only.

    `burst`: extra example requests per target and operation, a few in flight at once (safe methods only).
    `sample`: example requests per target when the parity flow left too few timings, and to confirm a
    budget that looks broken before failing (safe methods only).
    """

    p95_overhead_ms: float | None = Field(None, gt=0)
    p50_overhead_ms: float | None = Field(None, gt=0)
    burst: int = Field(0, ge=0, le=200)
    sample: int = Field(20, ge=5, le=100)
