"""The demo auth service: OAuth2 client-credentials tokens (RS256 JWTs) and the JWKS to check them.

Two faults of the zoo live here (the load flow catches them; see faults.py):
- `auth-slow-signing`: every token is signed under one lock after a deliberate SLOW_SIGNING_S, so the
  service signs at most 1 / SLOW_SIGNING_S tokens a second however many ask at once, and the queue grows;
- `auth-pool-exhausted`: each token request holds one of POOL_SIZE "database" connections for about
  POOL_QUERY_S (the client lookup), and a request finding none free is answered 503 at once, as the seed's
  database did. The JWKS endpoint needs no database: the gateway's key fetches never take a connection.
Both wait with asyncio (never blocking the loop the demo's legacy and gateway share), so only the token
service suffers.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ISSUER = "https://auth.lockstep.demo"
AUDIENCE = "lockstep-demo-api"
TOKEN_TTL = 900
SLOW_SIGNING_S = 0.1  # auth-slow-signing: at most 10 tokens a second, one at a time
POOL_SIZE = 2  # auth-pool-exhausted: "database" connections for the client lookup
POOL_QUERY_S = 0.08  # how long a lookup holds its connection, on average (exponential, as queries vary)
SCOPES = ("subscriptions:read", "subscriptions:write", "deliveries:read", "deliveries:write", "profile")


@dataclass(frozen=True)
class Client:
    secret: str
    sub: str


CLIENTS: dict[str, Client] = {
    "lockstep-demo": Client("demo-secret", "demo-user"),
    "other-client": Client("other-secret", "other-user"),
}


@dataclass(frozen=True)
class SigningKey:
    private_pem: str
    kid: str

    @classmethod
    def generate(cls) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        return cls(pem, "demo-" + hashlib.sha256(der).hexdigest()[:16])

    def public_jwk(self) -> dict[str, Any]:
        private = serialization.load_pem_private_key(self.private_pem.encode("ascii"), password=None)
        jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))  # type: ignore[arg-type]
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


def default_claims(sub: str, scopes: list[str] | tuple[str, ...], now: int | None = None) -> dict[str, Any]:
    now = int(time.time()) if now is None else now
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "scope": " ".join(scopes),
            "iat": now, "nbf": now, "exp": now + TOKEN_TTL, "jti": str(uuid.uuid4())}


def sign(key: SigningKey, claims: dict[str, Any], private: Any = None) -> str:
    """`private`: the loaded key object, to skip parsing (and validating) the PEM on every call (~60 ms)."""
    return jwt.encode(claims, private if private is not None else key.private_pem, algorithm="RS256",
                      headers={"kid": key.kid})


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"error": error, "error_description": description}).encode()
    return Response(body, status, {"Cache-Control": "no-store", **(headers or {})}, "application/json")


def client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str] | None:
    """HTTP Basic first (RFC 6749 2.3.1), else client_id/client_secret in the form."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return client_id, secret
    if "client_id" in form:
        return form["client_id"], form.get("client_secret", "")
    return None


def granted_scopes(form: dict[str, str]) -> list[str] | None:
    """The requested subset (all when none asked); None when a scope is unknown."""
    asked = form.get("scope", "").split()
    if not asked:
        return list(SCOPES)
    return asked if all(s in SCOPES for s in asked) else None


class AuthService:
    def __init__(self, key: SigningKey, faults: tuple[str, ...] | frozenset[str] = ()) -> None:
        self.key = key
        self.private = serialization.load_pem_private_key(key.private_pem.encode("ascii"), password=None)
        self.jwks_body = json.dumps({"keys": [key.public_jwk()]}).encode()
        self.slow_signing = "auth-slow-signing" in faults
        self.pool: int | None = POOL_SIZE if "auth-pool-exhausted" in faults else None
        self.signing_lock = asyncio.Lock()
        self.random = random.Random(14)

    async def token(self, request: Request) -> Response:
        if self.pool is None:
            return await self.issue(request)
        if self.pool <= 0:
            return oauth_error(503, "temporarily_unavailable", "no database connection free; retry later",
                               {"Retry-After": "1"})
        self.pool -= 1
        try:
            await asyncio.sleep(min(5 * POOL_QUERY_S, self.random.expovariate(1 / POOL_QUERY_S)))  # the lookup
            return await self.issue(request)
        finally:
            self.pool += 1

    async def signed(self, claims: dict[str, Any]) -> str:
        if not self.slow_signing:
            return sign(self.key, claims, self.private)
        async with self.signing_lock:
            await asyncio.sleep(SLOW_SIGNING_S)
            return sign(self.key, claims, self.private)

    async def issue(self, request: Request) -> Response:
        raw = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        form = {k: v[0] for k, v in raw.items()}
        if form.get("grant_type") != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
        creds = client_credentials(request, form)
        client = CLIENTS.get(creds[0]) if creds else None
        if creds is None or client is None or client.secret != creds[1]:
            return oauth_error(401, "invalid_client", "unknown client or wrong secret",
                               {"WWW-Authenticate": 'Basic realm="lockstep-demo-auth"'})
        scopes = granted_scopes(form)
        if scopes is None:
            return oauth_error(400, "invalid_scope", f"known scopes: {' '.join(SCOPES)}")
        token = await self.signed(default_claims(client.sub, scopes))
        body = {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL, "scope": " ".join(scopes)}
        return Response(json.dumps(body).encode(), 200, {"Cache-Control": "no-store"}, "application/json")

    async def jwks(self, request: Request) -> Response:
        return Response(self.jwks_body, 200, {"Cache-Control": "public, max-age=300"}, "application/json")


def create_auth_app(key: SigningKey, faults: tuple[str, ...] | frozenset[str] = ()) -> Starlette:
    service = AuthService(key, faults)
    return Starlette(routes=[
        Route("/oauth/token", service.token, methods=["POST"]),
        Route("/.well-known/jwks.json", service.jwks, methods=["GET"]),
    ])
