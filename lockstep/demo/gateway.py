"""The demo gateway: a real reverse proxy (httpx over loopback HTTP) in front of the legacy API.

Routes, methods and per-operation scopes come from the OpenAPI document, so do the CORS policy
(`x-cors`) and the default rate limit (`x-rate-limit`). Named faults (see faults.py) switch in one
realistic cutover mistake each. Order of a request: prefix and route (404/405), preflight and plain
OPTIONS (before auth), rate limit (429), auth (401/400/403; on a public operation a valid token is
optional and names the caller), forward, response rewrites, CORS headers on every answer including the
gateway's own errors. Old mobile app versions still call the catalogue at `/api/v1/recipes`: the
gateway serves that alias like `/api/recipes` (ALIASES).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lockstep.demo.faults import validate_faults
from lockstep.demo.gateway_policy import (LEEWAY, CorsPolicy, GatewayConfig, JwksCache, RateLimiter,  # noqa: F401
                                          TokenVerifier, rate_limiter)
from lockstep.demo.routes import Operation, Route, RouteTable, catch_all_app, load_spec

PREFIX = "/api"
DEMO_LOG = "/__demo__/log"
REALM = 'Bearer realm="lockstep-demo"'
VIA = "1.1 lockstep-gateway"
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "trailers", "transfer-encoding", "upgrade", "proxy-connection"})
IDENTITY_HEADERS = frozenset({"x-user-id", "x-consumer-id", "x-consumer-username", "x-authenticated-userid",
                              "x-authenticated-scope", "x-forwarded-user"})
RESPONSE_DROP = HOP_BY_HOP | {"content-length", "date", "server"}
FORGOTTEN_ROUTE = ("GET", "/deliveries/{delivery_id}")
OPEN_ROUTE = ("GET", "/deliveries")
BODY_FIELD_ROUTES = frozenset({("PUT", "/subscriptions/{subscription_id}"),
                               ("PATCH", "/subscriptions/{subscription_id}")})
SLOW_ROUTE = ("GET", "/recipes/{recipe_id}")
# old public path prefix -> the document path prefix it stands for (backward-compatible aliases)
ALIASES = ((PREFIX + "/v1/recipes", "/recipes"),)
INTERNAL_PREFIX = "/internal/"  # the legacy's internal admin API: fault expose-internal routes it
INTERNAL_OP = Operation("GET", "/internal/{path}", "internal", None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_UNSAFE_TARGET = re.compile(rb"[^\x21-\x7e]|#")
logger = logging.getLogger("lockstep.demo.gateway")

Headers = list[tuple[str, str]]


@dataclass
class Reply:
    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    cors_done: bool = False  # a preflight answer carries its own CORS headers


# ---------------------------------------------------------------- small pure helpers

def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def gateway_error(status: int, code: str, message: str, request_id: str, headers: Headers = ()) -> Reply:
    body = json_bytes({"error": {"code": code, "message": message, "request_id": request_id}})
    return Reply(status, [("Content-Type", "application/json"), *headers], body)


def request_id_of(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else str(uuid.uuid4())


def header_value(headers: Headers, name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def merge_token(headers: Headers, name: str, token: str) -> Headers:
    """Add `token` to a comma-list header (Vary, Via), keeping what upstream put there."""
    current = header_value(headers, name.lower())
    kept = [(k, v) for k, v in headers if k.lower() != name.lower()]
    if current is None:
        return kept + [(name, token)]
    tokens = [t.strip().lower() for t in current.split(",")]
    merged = current if token.lower() in tokens or "*" in tokens else f"{current}, {token}"
    return kept + [(name, merged)]


def drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def rewrite_url(url: str, upstream: str, public: str) -> str:
    if url == upstream or url.startswith((upstream + "/", upstream + "?")):
        return public + url[len(upstream):]
    return url


def rewrite_locations(headers: Headers, upstream: str, public: str) -> Headers:
    """Location and Link URLs naming the legacy base are re-based on the gateway's public URL."""
    out: Headers = []
    for name, value in headers:
        if name.lower() == "location":
            value = rewrite_url(value, upstream, public)
        elif name.lower() == "link":
            value = re.sub(r"<([^>]*)>", lambda m: f"<{rewrite_url(m[1], upstream, public)}>", value)
        out.append((name, value))
    return out


# ---------------------------------------------------------------- the gateway

class Gateway:
    def __init__(self, config: GatewayConfig) -> None:
        spec = config.spec or load_spec()
        self.config = config
        self.faults = frozenset(validate_faults(config.faults))
        skip = [FORGOTTEN_ROUTE] if "missing-route" in self.faults else []
        self.table = RouteTable.from_spec(spec, skip=skip)
        self.cors = CorsPolicy.from_spec(spec, self.faults)
        self.limiter = rate_limiter(spec, config.rate_limit)
        self.upstream = config.upstream_url.rstrip("/")
        self.client: httpx.AsyncClient | None = None
        self.verifier: TokenVerifier | None = None
        self.log: list[dict[str, Any]] = []  # demo-only: every request received, for self-tests

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(trust_env=False, timeout=30.0, limits=limits) as client:
            self.client = client
            self.verifier = TokenVerifier(self.config, JwksCache(self.config.jwks_url, client))
            yield

    async def handle(self, request: Request) -> Response:
        if request.url.path == DEMO_LOG:  # outside the /api prefix: never part of the public surface
            if request.method == "DELETE":
                self.log.clear()
            return JSONResponse(self.log)
        self.log.append({"method": request.method, "path": request.url.path, "time": time.time()})
        request_id = request_id_of(request)
        try:
            reply = await self.route(request, request_id)
        except Exception:  # a gateway bug still answers in the error schema, with CORS headers
            logger.exception("gateway failure on %s %s", request.method, request.url.path)
            reply = gateway_error(500, "internal_error", "the gateway failed", request_id)
        return self.finish(reply, request, request_id)

    async def route(self, request: Request, request_id: str) -> Reply:
        path = request.url.path
        inner = inner_path(path)
        if "expose-internal" in self.faults and inner and inner.startswith(INTERNAL_PREFIX):
            return await self.forward(request, INTERNAL_OP, request_id, None)  # as the old DNS did: no auth
        matched = self.table.match(inner) if inner else None
        if matched is None:
            return gateway_error(404, "not_found", f"no route for {inner or path}", request_id)
        route = matched[0]
        if request.method == "OPTIONS":
            return await self.options(request, route, request_id)
        op = route.operation(request.method)
        if op is None:
            return gateway_error(405, "method_not_allowed", f"{request.method} is not allowed on {route.template}",
                                 request_id, [("Allow", route.allow())])
        return await self.call(request, op, request_id)

    async def call(self, request: Request, op: Operation, request_id: str) -> Reply:
        client = request.client.host if request.client else "-"
        wait = self.limiter.acquire((f"{op.method} {op.path}", client))
        if wait:
            return gateway_error(429, "rate_limited", "too many requests", request_id,
                                 [("Retry-After", str(max(1, math.ceil(wait))))])
        sub = None
        if self.needs_auth(op):
            outcome = await self.authenticate(request, op, request_id)
            if isinstance(outcome, Reply):
                return outcome
            sub = outcome
        elif "identity-trusted-on-public" not in self.faults:  # a public route: the token is optional
            assert self.verifier is not None
            one = "access_token" not in request.query_params  # a token in the query as well: two, so none
            sub = await self.verifier.optional_subject(credentials(request) if one else [])
        return await self.forward(request, op, request_id, sub)

    def needs_auth(self, op: Operation) -> bool:
        return not op.public and not ("auth-open-route" in self.faults and op.key == OPEN_ROUTE)

    async def options(self, request: Request, route: Route, request_id: str) -> Reply:
        asked = request.headers.get("access-control-request-method")
        if "origin" not in request.headers or asked is None:
            return Reply(204, [("Allow", route.allow())])  # plain OPTIONS, answered like the legacy
        if "cors-preflight-needs-auth" in self.faults:
            op = route.operation(asked) or next(iter(route.operations.values()))
            if self.needs_auth(op):
                outcome = await self.authenticate(request, op, request_id)
                if isinstance(outcome, Reply):
                    return outcome
        return Reply(204, self.cors.preflight(request.headers["origin"], route), cors_done=True)

    def finish(self, reply: Reply, request: Request, request_id: str) -> Response:
        headers = list(reply.headers)
        if not reply.cors_done:
            headers += self.cors.actual(request.headers.get("origin"))
        headers = merge_token(merge_token(headers, "Vary", "Origin"), "Via", VIA)
        if header_value(headers, "x-request-id") is None:
            headers.append(("X-Request-Id", request_id))
        return raw_response(reply.status, headers, reply.body)

    # ------------------------------------------------------------ auth

    async def authenticate(self, request: Request, op: Operation, request_id: str) -> str | Reply:
        """The token's subject, or the refusal (RFC 6750 challenges)."""
        values = credentials(request)
        if len(values) > 1 or (values and "access_token" in request.query_params):
            return challenge(400, "invalid_request", "more than one credential in the request", request_id)
        assert self.verifier is not None
        token = self.verifier.bearer_token(values[0]) if values else None
        if token is None:
            return challenge(401, "unauthorized", "authentication required", request_id, bare=True)
        if not token:
            return challenge(400, "invalid_request", "malformed Authorization header", request_id)
        claims = await self.verifier.claims(token)
        if claims is None:
            return challenge(401, "invalid_token", "the access token is invalid or expired", request_id)
        granted = str(claims.get("scope", "")).split()
        missing = [s for s in op.scopes or () if s not in granted]
        if missing:
            return challenge(403, "insufficient_scope", f"the token lacks scope {' '.join(missing)}",
                             request_id, scope=" ".join(op.scopes or ()))
        return str(claims["sub"])

    # ------------------------------------------------------------ forwarding

    async def forward(self, request: Request, op: Operation, request_id: str, sub: str | None) -> Reply:
        body = await request.body()
        if "drop-request-body-field" in self.faults and op.key in BODY_FIELD_ROUTES:
            body = drop_body_field(body, "note")
        if "slow-route" in self.faults and op.key == SLOW_ROUTE:
            await asyncio.sleep(0.15)
        url = httpx.URL(self.upstream).copy_with(raw_path=self.target(request))
        trusting = op.public and "identity-trusted-on-public" in self.faults
        upstream_request = httpx.Request(request.method, url, content=body,
                                         headers=upstream_headers(request, request_id, sub, trusting))
        try:
            status, headers, data = await self.exchange(upstream_request)
        except httpx.TimeoutException:
            return gateway_error(504, "gateway_timeout", "the upstream did not answer in time", request_id)
        except httpx.HTTPError:
            return gateway_error(502, "bad_gateway", "the upstream could not be reached", request_id)
        return self.relay(request, status, headers, data)

    async def exchange(self, upstream_request: httpx.Request) -> tuple[int, Headers, bytes]:
        assert self.client is not None
        response = await self.client.send(upstream_request, stream=True)
        try:
            data = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
        return response.status_code, headers, data

    def target(self, request: Request) -> bytes:
        """Upstream path and query: the client's raw bytes minus the prefix (no re-encoding)."""
        raw_path = request.scope.get("raw_path") or b""
        alias = next(((old, new) for old, new in ALIASES if _under(request.url.path, old)), None)
        if alias and raw_path.startswith(alias[0].encode()):
            path = alias[1].encode() + raw_path[len(alias[0]):]
        elif alias:
            path = quote(alias[1] + request.url.path[len(alias[0]):]).encode()
        elif raw_path.startswith(PREFIX.encode() + b"/"):
            path = raw_path[len(PREFIX):]
        else:
            path = quote(request.url.path[len(PREFIX):]).encode()
        query = request.scope.get("query_string", b"")
        if "query-plus-decoded" in self.faults:
            query = unquote_to_bytes(query)
        target = path + (b"?" + query if query else b"")
        return _UNSAFE_TARGET.sub(lambda m: b"%%%02X" % m[0][0], target)

    def relay(self, request: Request, status: int, headers: Headers, body: bytes) -> Reply:
        keep_length = request.method == "HEAD"  # a HEAD answer announces the GET body's length
        kept = [(k, v) for k, v in headers
                if k.lower() not in RESPONSE_DROP or (keep_length and k.lower() == "content-length")]
        public = f"{request.url.scheme}://{request.url.netloc}{PREFIX}"
        reply = Reply(status, rewrite_locations(kept, self.upstream, public), body)
        return self.response_faults(reply)

    def response_faults(self, reply: Reply) -> Reply:
        if "status-rewrite" in self.faults and reply.status == 201:
            reply.status = 200
        if "drop-cache-control" in self.faults:
            reply.headers = [(k, v) for k, v in reply.headers if k.lower() != "cache-control"]
        if "drop-null-fields" in self.faults:
            reply.body = transform_json(reply, drop_nulls)
        if "error-body-not-json" in self.faults and 400 <= reply.status < 500:
            reply.headers = [(k, v) for k, v in reply.headers if k.lower() != "content-type"]
            reply.headers.append(("Content-Type", "text/html; charset=utf-8"))
            reply.body = f"<html><body><h1>Error {reply.status}</h1></body></html>".encode()
        return reply


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "?")


def inner_path(path: str) -> str | None:
    """The document path a public path stands for: an alias's, or the path minus the prefix; None outside."""
    for old, new in ALIASES:
        if _under(path, old):
            return new + path[len(old):]
    return path[len(PREFIX):] if path.startswith(PREFIX + "/") else None


def credentials(request: Request) -> list[str]:
    """The request's Authorization values (the gateway takes tokens from that header only)."""
    return [v.decode("latin-1") for k, v in request.headers.raw if k.lower() == b"authorization"]


def challenge(status: int, code: str, message: str, request_id: str, *, bare: bool = False,
              scope: str | None = None) -> Reply:
    value = REALM if bare else f'{REALM}, error="{code}"'
    if scope:
        value += f', scope="{scope}"'
    return gateway_error(status, code, message, request_id, [("WWW-Authenticate", value)])


def upstream_headers(request: Request, request_id: str, sub: str | None,
                     trust_identity: bool = False) -> list[tuple[bytes, bytes]]:
    """Client headers minus hop-by-hop, Host, Authorization and every client-sent identity header; the
    caller's identity (`sub`, the token's subject) as X-User-Id.

    `trust_identity` (fault identity-trusted-on-public): client-sent identity headers are kept.
    """
    named = {t.strip().lower() for t in request.headers.get("connection", "").split(",")}
    drop = HOP_BY_HOP | named | {"host", "authorization", "content-length", "x-request-id"}
    out: list[tuple[bytes, bytes]] = []
    for raw_name, value in request.headers.raw:
        name = raw_name.decode("latin-1").lower()
        if name in drop or (name.replace("_", "-") in IDENTITY_HEADERS and not trust_identity):
            continue
        out.append((raw_name, value))
    out += [(b"x-request-id", request_id.encode()), (b"via", VIA.encode())]
    if sub is not None:
        out.append((b"x-user-id", sub.encode("utf-8")))
    return out


def drop_body_field(body: bytes, name: str) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict):
        data.pop(name, None)
    return json_bytes(data)


def transform_json(reply: Reply, change: Any) -> bytes:
    content_type = header_value(reply.headers, "content-type") or ""
    if "json" not in content_type or not reply.body:
        return reply.body
    try:
        return json_bytes(change(json.loads(reply.body)))
    except ValueError:
        return reply.body


def raw_response(status: int, headers: Headers, body: bytes) -> Response:
    response = Response(status_code=status)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    no_body = status < 200 or status in (204, 304)
    if not no_body and header_value(headers, "content-length") is None:
        raw.append((b"content-length", str(len(body)).encode()))
    response.raw_headers = raw
    response.body = body
    return response


def create_gateway_app(config: GatewayConfig) -> Starlette:
    gateway = Gateway(config)
    app = catch_all_app(gateway.handle, lifespan=gateway.lifespan)
    app.state.gateway = gateway
    return app
