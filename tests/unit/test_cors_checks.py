"""Self-tests of the CORS checks against fake gateways, run as a flow with no session (helpers.flow_runner).

`FakeGateway` answers CORS correctly by default; each keyword switches in one real-world mistake (an
unanchored origin regex, reflecting any origin with credentials, auth before the preflight, ...) or one
legitimate configuration real gateways use (one global method list, `*` headers without credentials,
no Vary on preflights). The correct gateway must give no finding at all; each mistake must be caught by
the check that owns it, with a message that names the cause; what no browser trips over is at most a note.
It is served through httpx.MockTransport; one test (marked `servers`) serves it over real loopback HTTP.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from lockstep.checks.cors import (DISALLOWED, Policy, fuzz_origins, policy_for, probe_of, rate_limit_operation,
                                  unused_overrides)
from lockstep.contract import CorsPolicy, TargetSpec
from lockstep.engine.context import RunFacts
from lockstep.engine.flows import FlowRunner
from lockstep.engine.registry import checks_for
from lockstep.errors import UnsafeRequestError
from lockstep.findings import Finding
from lockstep.operations import Operation, operations_of
from lockstep.targets import Target

from .helpers import flow_runner

APP, WWW = "https://app.example.com", "https://www.example.com"
TOKEN = "good-token-4f1c"
POLICY = CorsPolicy(origins=[APP, WWW], credentials=True, headers=["Authorization", "Content-Type"],
                    expose=["ETag", "X-Request-Id", "Retry-After", "WWW-Authenticate"], max_age=600)
DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3", "info": {"title": "fake", "version": "1"}, "security": [{"bearer": []}],
    "paths": {
        "/health": {"get": {"tags": ["health"], "security": [], "responses": {"200": {"description": "ok"}}}},
        "/items": {"get": {"tags": ["items"], "security": [], "responses": {"200": {"description": "ok"}}},
                   "post": {"tags": ["items"], "requestBody": {"content": {"application/json": {}}},
                            "responses": {"201": {"description": "ok"}}}},
        "/items/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string",
                                                                                     "example": "i1"}}],
            "get": {"tags": ["items"], "responses": {"200": {"description": "ok"}}},
            "patch": {"tags": ["items"], "requestBody": {"content": {"application/json": {}}},
                      "responses": {"200": {"description": "ok"}}}},
    },
}
OPERATIONS = operations_of(DOCUMENT)
ROUTES = {path: {m.upper() for m in item if m != "parameters"} for path, item in DOCUMENT["paths"].items()}
FORBIDDEN = {"TRACE", "CONNECT", "TRACK"}


def op(label: str, operations: list[Operation] = OPERATIONS) -> Operation:
    return next(o for o in operations if o.label == label)


# ---------------------------------------------------------------- the fake gateway

@dataclass
class FakeGateway:
    """A gateway's CORS and error behaviour; defaults are right, each flag is one mistake (or one
    configuration real gateways use)."""

    origins: tuple[str, ...] = (APP, WWW)
    match: Callable[[str], bool] | None = None  # a custom origin test (e.g. an unanchored regex)
    reflect_any: bool = False
    wildcard: bool = False
    credentials: bool = True
    acac: str = "true"  # the Access-Control-Allow-Credentials value sent when `credentials`
    allow_headers: tuple[str, ...] = ("Authorization", "Content-Type")
    expose: tuple[str, ...] = ("ETag", "X-Request-Id", "Retry-After", "WWW-Authenticate")
    max_age: str | None = "600"
    methods_case: Callable[[str], str] = str
    global_methods: tuple[str, ...] | None = None  # one Access-Control-Allow-Methods list for every path
    echo_requested: bool = False  # grants whatever method and headers the preflight asks for
    preflight_needs_auth: bool = False
    double_origin: bool = False
    vary: bool = True
    vary_on_errors: bool = True
    vary_on_preflight: bool = True
    no_store: bool = False  # Cache-Control: no-store on every answer
    cors_on_errors: bool = True
    redirect_slash: bool = False
    plain_options_status: int = 204
    upstream_vary: bool = True  # false: the upstream's `Vary: Accept-Encoding` is dropped
    rate_limit: int | None = None  # requests to GET /health before 429
    cors: bool = True  # false: a legacy without CORS
    prefix: str = "/api"
    routes: dict[str, set[str]] = field(default_factory=lambda: ROUTES)
    served: Counter = field(default_factory=Counter)
    methods_seen: list[str] = field(default_factory=list)
    asked_seen: list[str] = field(default_factory=list)  # Access-Control-Request-Method values

    def allows(self, origin: str | None) -> str | None:
        if not self.cors or origin is None:
            return None
        if self.wildcard:
            return "*"
        if self.reflect_any:
            return origin
        ok = self.match(origin) if self.match else origin in self.origins
        return origin if ok else None

    def cors_headers(self, origin: str | None, preflight: dict[str, str] | None, path: str) -> list[tuple[str, str]]:
        allowed = self.allows(origin)
        if allowed is None:
            return []
        out = [("Access-Control-Allow-Origin", allowed)] * (2 if self.double_origin else 1)
        out += [("Access-Control-Allow-Credentials", self.acac)] if self.credentials else []
        if preflight is None:
            return out + [("Access-Control-Expose-Headers", ", ".join(self.expose))]
        methods = list(self.global_methods or sorted(m for m in self.routes[path] if m not in FORBIDDEN))
        headers = list(self.allow_headers)
        if self.echo_requested:
            methods.append(preflight["method"])
            headers += [h for h in preflight["headers"].split(",") if h]
        out += [("Access-Control-Allow-Methods", ", ".join(self.methods_case(m) for m in methods)),
                ("Access-Control-Allow-Headers", ", ".join(headers))]
        return out + ([("Access-Control-Max-Age", self.max_age)] if self.max_age else [])

    def answer(self, method: str, raw_path: str, headers: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, body) for one request."""
        self.methods_seen.append(method)
        raw_path = raw_path[len(self.prefix):] if raw_path.startswith(self.prefix + "/") else "/__outside__"
        path = self.template(raw_path)
        origin, asked = headers.get("Origin"), headers.get("Access-Control-Request-Method")
        self.asked_seen += [asked] if asked else []
        status, own, preflight = self._route(method, raw_path, path, origin, asked, headers)
        error = status >= 400
        cors = self.cors_headers(origin, preflight, path or "") if (not error or self.cors_on_errors) else []
        vary = self.vary and self.cors and (self.vary_on_errors or not error) \
            and (self.vary_on_preflight or preflight is None)
        own += [("Cache-Control", "no-store")] if self.no_store else []
        return status, own + cors + [("Vary", "Origin")] * vary + [("X-Request-Id", "r1")], \
            json.dumps({"status": status}).encode()

    def _route(self, method: str, raw_path: str, path: str | None, origin: str | None, asked: str | None,
               headers: Any) -> tuple[int, list[tuple[str, str]], dict[str, str] | None]:
        authorized = headers.get("Authorization") == f"Bearer {TOKEN}"
        routes = self.routes.get(path or "", set())
        if self.redirect_slash and raw_path.endswith("/"):
            return 308, [("Location", raw_path.rstrip("/"))], None
        if path is None:
            return 404, [], None
        if method == "OPTIONS" and origin and asked and self.cors:
            protected = path != "/health" and not (path == "/items" and asked == "GET")
            if self.preflight_needs_auth and protected and not authorized:
                return 401, [], None
            return 204, [], {"method": asked, "headers": headers.get("Access-Control-Request-Headers", "")}
        if method == "OPTIONS":
            return self.plain_options_status, [("Allow", ", ".join(sorted(routes | {"OPTIONS", "HEAD"})))], None
        if method not in routes and not (method == "HEAD" and "GET" in routes):
            return 405, [("Allow", ", ".join(sorted(routes)))], None
        if path == "/health" and self.rate_limit is not None and self._count(path) > self.rate_limit:
            return 429, [("Retry-After", "30")], None
        if not (path == "/health" or (path == "/items" and method == "GET")) and not authorized:
            return 401, [("WWW-Authenticate", 'Bearer realm="fake"')], None
        own = [("Content-Type", "application/json"), ("ETag", '"1"')]
        return 200, own + ([("Vary", "Accept-Encoding")] if self.upstream_vary else []), None

    def template(self, path: str) -> str | None:
        path = path.split("?")[0]
        if path in self.routes:
            return path
        return "/items/{id}" if re.fullmatch(r"/items/[^/]+", path) else None

    def _count(self, path: str) -> int:
        self.served[path] += 1
        return self.served[path]

    def respond(self, method: str, raw_path: str, headers: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        status, out, body = self.answer(method, raw_path, headers)
        return status, out, b"" if status in (204, 304) or method == "HEAD" else body


def mock_transport(fake: FakeGateway) -> httpx.MockTransport:
    lock = threading.Lock()  # the burst sends from 25 threads at once

    def handle(request: httpx.Request) -> httpx.Response:
        with lock:
            status, headers, body = fake.respond(request.method, request.url.raw_path.decode(), request.headers)
        return httpx.Response(status, headers=headers, content=body)

    return httpx.MockTransport(handle)


@pytest.fixture
def session_for() -> Iterator[Callable[..., FlowRunner]]:
    """A FlowRunner (no session) over a fake legacy and a fake gateway; `runner.counts` counts requests."""
    targets: list[Target] = []

    def make(gateway: FakeGateway, *, policy: CorsPolicy | None = POLICY, profile: str = "staging",
             methods: tuple[str, ...] | None = None, legacy: FakeGateway | None = None,
             operations: list[Operation] = OPERATIONS, urls: tuple[str, str] | None = None) -> FlowRunner:
        legacy = legacy or FakeGateway(cors=False, prefix="")
        legacy_url, gateway_url = urls or ("http://127.0.0.1:9", "http://127.0.0.1:9")
        pair = (Target("legacy", TargetSpec(url=legacy_url, headers={"X-User-Id": "u1"}),
                       transport=None if urls else mock_transport(legacy)),
                Target("gateway", TargetSpec(url=gateway_url, prefix="/api"), token=TOKEN, allowed_methods=methods,
                       transport=None if urls else mock_transport(gateway)))
        targets.extend(pair)
        facts = RunFacts(profile="smoke", safe_only=True, bursts=False) if profile == "smoke" else RunFacts(profile)
        return flow_runner(*pair, SimpleNamespace(cors=policy), operations, facts=facts)

    yield make
    for target in targets:
        target.close()


def run(runner: FlowRunner, operation: Operation, group: str | None = None) -> list[Finding]:
    """Every CORS check (of a group) on one operation, as run_flow runs them (skips left out)."""
    return runner.run("cors", operation, group).new


def failing(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "failure"]


def notes(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "note"]


# ---------------------------------------------------------------- the correct gateway passes

@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_correct_gateway_gives_no_finding_at_all(session_for, operation):
    runner = session_for(FakeGateway(rate_limit=20))
    found = run(runner, operation)
    assert found == [], "\n".join(f.headline() for f in found)


def test_the_correct_gateways_rate_limited_answer_is_judged(session_for):
    runner = session_for(FakeGateway(rate_limit=20))
    assert run(runner, op("GET /health"), group="rate-limit") == []
    assert 21 <= runner.counts["GET /health"] <= 50  # stops at the first 429 (waves of 25)


# ---------------------------------------------------------------- the origin fuzz set

def test_a_gateway_reflecting_any_origin_with_credentials_is_caught_by_every_fuzz_origin(session_for):
    runner = session_for(FakeGateway(reflect_any=True))
    found = failing(run(runner, op("GET /items"), group="origins"))
    assert [f.check for f in found] == ["disallowed-origins"]
    granted = set(found[0].gateway)
    assert granted == {o for o, _ in fuzz_origins(policy_for(POLICY, op("GET /items")))}
    assert {DISALLOWED, "null", "https://app.example.com.evil.com", "https://evilapp.example.com",
            "https://appxexample.com", "https://evil.app.example.com", "http://app.example.com",
            "https://app.example.com:8443", "https://app.example.com_.evil.com"} <= granted
    message = found[0].message
    assert "with the user's credentials" in message and "prefix match" in message and "unescaped dot" in message
    assert found[0].location == "header:access-control-allow-origin"
    assert "curl" in found[0].reproducers["gateway"]


def test_reflection_is_caught_on_a_write_operation_by_its_preflight(session_for):
    runner = session_for(FakeGateway(reflect_any=True), methods=("GET", "HEAD", "OPTIONS"))
    found = failing(run(runner, op("PATCH /items/{id}"), group="origins"))
    assert [f.check for f in found] == ["disallowed-origins"]


@pytest.mark.parametrize(("mistake", "kind", "origin"), [
    (lambda o: re.match(r"https://app\.example\.com", o) is not None, "prefix match",
     "https://app.example.com.evil.com"),
    (lambda o: re.search(r"app\.example\.com$", o) is not None, "suffix match", "https://evilapp.example.com"),
    (lambda o: re.fullmatch(r"https://app.example.com", o) is not None, "unescaped dot", "https://appxexample.com"),
    (lambda o: re.fullmatch(r"https?://app\.example\.com", o) is not None, "http for https", "http://app.example.com"),
    (lambda o: o in (APP, "null"), "null", "null"),
    (lambda o: re.fullmatch(r"https://app\.example\.com(:\d+)?", o) is not None, "another port",
     "https://app.example.com:8443"),
    (lambda o: o == APP or o.endswith(".app.example.com"), "any subdomain", "https://evil.app.example.com"),
    (lambda o: o in APP, "substring", "https://app.example.co"),
], ids=["prefix", "suffix", "unescaped-dot", "http", "null", "port", "subdomain", "substring"])
def test_each_origin_validation_mistake_is_caught(session_for, mistake, kind, origin):
    runner = session_for(FakeGateway(match=lambda o: o == WWW or mistake(o)))
    found = failing(run(runner, op("GET /items/{id}"), group="origins"))
    assert len(found) == 1 and origin in found[0].gateway, found
    assert kind in found[0].message


def test_an_allowed_origin_is_not_a_finding_and_a_wildcard_policy_allows_any(session_for):
    runner = session_for(FakeGateway(wildcard=True, credentials=False),
                         policy=CorsPolicy(origins=["*"], headers=["Content-Type"], expose=[]))
    assert failing(run(runner, op("GET /items"), group="origins")) == []


# ---------------------------------------------------------------- the demo's fault zoo, in miniature

def test_authorization_missing_from_allowed_headers(session_for):
    runner = session_for(FakeGateway(allow_headers=("Content-Type",)))
    found = failing(run(runner, op("PATCH /items/{id}")))
    assert [f.check for f in found] == ["preflight-allowed-headers"]
    assert found[0].message == ("a browser at https://app.example.com cannot PATCH /api/items/{id}: "
                                "Authorization is not in Access-Control-Allow-Headers")


def test_a_star_in_allowed_headers_does_not_cover_authorization(session_for):
    runner = session_for(FakeGateway(allow_headers=("*",)))
    found = failing(run(runner, op("GET /items"), group="preflight"))
    assert [f.check for f in found] == ["preflight-allowed-headers"]
    assert "'*' never covers Authorization" in found[0].message


def test_auth_before_the_preflight(session_for):
    runner = session_for(FakeGateway(preflight_needs_auth=True))
    found = failing(run(runner, op("GET /items/{id}")))
    assert [f.check for f in found] == ["preflight-status"]
    assert "refused with 401" in found[0].message and "before authentication" in found[0].message
    assert failing(run(runner, op("GET /health"))) == []  # public: the fault does not show


def test_wildcard_with_credentials(session_for):
    runner = session_for(FakeGateway(wildcard=True))
    found = failing(run(runner, op("GET /items/{id}")))
    assert [f.check for f in found] == ["no-wildcard-with-credentials"]
    assert "'*' while Access-Control-Allow-Credentials is 'true'" in found[0].message


def test_two_allow_origin_values(session_for):
    runner = session_for(FakeGateway(double_origin=True))
    assert [f.check for f in failing(run(runner, op("GET /items")))] == ["single-allow-origin"]


def test_methods_in_the_wrong_case(session_for):
    runner = session_for(FakeGateway(methods_case=str.lower))
    found = failing(run(runner, op("PATCH /items/{id}"), group="preflight"))
    assert [f.check for f in found] == ["preflight-allowed-methods"]
    assert "'patch'" in found[0].message and "case-sensitively" in found[0].message
    found = run(runner, op("GET /items/{id}"), group="preflight")  # browsers allow GET anyway
    assert failing(found) == [] and [f.severity for f in found] == ["note"]


def test_echoing_the_requested_method_and_headers(session_for):
    runner = session_for(FakeGateway(echo_requested=True))
    found = failing(run(runner, op("GET /items/{id}")))
    assert sorted(f.check for f in found) == ["ungranted-header", "ungranted-method"]
    assert any("DELETE" in f.message for f in found)


def test_missing_max_age_and_credentials(session_for):
    runner = session_for(FakeGateway(max_age=None, credentials=False))
    found = failing(run(runner, op("GET /items/{id}"), group="preflight"))
    assert sorted(f.check for f in found) == ["preflight-allow-credentials", "preflight-max-age"]
    assert any("5 s" in f.message for f in found)


def test_credentials_granted_where_the_policy_shares_none(session_for):
    policy = POLICY.model_copy(update={"credentials": False})
    found = failing(run(session_for(FakeGateway(), policy=policy), op("GET /items"), group="preflight"))
    assert [f.check for f in found] == ["preflight-allow-credentials"]


def test_no_vary_origin(session_for):
    found = failing(run(session_for(FakeGateway(vary=False)), op("GET /items")))
    assert [f.check for f in found] == ["vary-origin"]


def test_no_vary_origin_on_the_gateways_own_errors(session_for):
    found = failing(run(session_for(FakeGateway(vary_on_errors=False)), op("PATCH /items/{id}")))
    assert [f.check for f in found] == ["vary-origin"] and "the gateway's 404" in found[0].message


def test_the_legacys_vary_tokens_must_be_kept(session_for):
    found = failing(run(session_for(FakeGateway(upstream_vary=False)), op("GET /items")))
    assert [f.check for f in found] == ["vary-keeps-legacy"]
    assert "drops Accept-Encoding" in found[0].message and found[0].legacy == "Accept-Encoding"


def test_error_answers_without_cors(session_for):
    runner = session_for(FakeGateway(cors_on_errors=False, rate_limit=20))
    checks = {f.check: f for f in failing(run(runner, op("GET /items/{id}")))}
    assert set(checks) == {"error-401", "error-404", "error-405"}
    assert "sees a CORS error instead of the 401 (no token)" in checks["error-401"].message
    assert [f.check for f in failing(run(runner, op("GET /health"), group="rate-limit"))] == ["error-429"]


def test_unexposed_headers(session_for):
    runner = session_for(FakeGateway(expose=("ETag",)))
    found = failing(run(runner, op("GET /items"), group="actual"))
    assert [f.check for f in found] == ["exposed-headers"]
    assert "X-Request-Id, Retry-After and WWW-Authenticate" in found[0].message


def test_a_redirected_preflight(session_for):
    found = failing(run(session_for(FakeGateway(redirect_slash=True)), op("GET /items")))
    assert [f.check for f in found] == ["preflight-no-redirect"]
    assert "redirected (308" in found[0].message


def test_a_swallowed_plain_options(session_for):
    found = failing(run(session_for(FakeGateway(plain_options_status=401)), op("GET /items")))
    assert [f.check for f in found] == ["plain-options"]
    assert found[0].legacy == 204 and found[0].gateway == 401


# ---------------------------------------------------------------- safety of what is sent

def test_a_read_only_profile_sends_no_write_but_still_preflights(session_for):
    gateway = FakeGateway()
    runner = session_for(gateway, methods=("GET", "HEAD", "OPTIONS"))
    ctx = runner.context("cors", op("PATCH /items/{id}"), "actual-allow-origin")
    with pytest.raises(UnsafeRequestError):
        checks_for("cors", group="actual")[0].func(ctx)
    assert run(runner, op("PATCH /items/{id}")) == []
    assert set(gateway.methods_seen) == {"OPTIONS", "GET"} and gateway.methods_seen.count("OPTIONS") > 20


def test_writes_are_sent_only_where_they_change_nothing(session_for):
    gateway = FakeGateway()
    run(session_for(gateway), op("PATCH /items/{id}"))
    # PATCH without a token (401); POST, which the path does not offer, for the 405 (refused by routing)
    assert set(gateway.methods_seen) == {"OPTIONS", "GET", "PATCH", "POST"}


def test_the_burst_never_runs_in_smoke_and_stays_bounded(session_for):
    smoke = session_for(FakeGateway(), profile="smoke")
    ctx = smoke.context("cors", op("GET /health"), "error-429")
    with pytest.raises(UnsafeRequestError, match="smoke"):
        checks_for("cors", group="rate-limit")[0].func(ctx)
    assert smoke.counts == Counter()
    unlimited = session_for(FakeGateway(rate_limit=None))
    found = run(unlimited, op("GET /health"), group="rate-limit")
    assert [f.severity for f in found] == ["note"] and unlimited.counts["GET /health"] == 150


def test_without_a_policy_nothing_is_judged(session_for):
    runner = session_for(FakeGateway(wildcard=True), policy=None)
    assert run(runner, op("GET /items")) == [] and runner.counts == Counter()


def test_identical_safe_requests_are_sent_once_per_operation(session_for):
    gateway = FakeGateway()
    runner = session_for(gateway)
    run(runner, op("GET /items"), group="preflight")
    first = len(gateway.methods_seen)
    assert first == 2  # one preflight per allowed origin, for six checks
    run(runner, op("GET /items"), group="preflight")  # the memo of this operation answers
    assert len(gateway.methods_seen) == first
    run(runner, op("GET /health"), group="preflight")
    run(runner, op("GET /items"), group="preflight")  # another operation came between: sent again
    assert len(gateway.methods_seen) == first + 4


# ---------------------------------------------------------------- the policy and its overrides

def test_overrides_by_path_method_and_tag():
    policy = CorsPolicy(origins=[APP], credentials=True, max_age=600, overrides=[
        {"path": "/items*", "max_age": 60},
        {"method": "patch", "headers": ["Authorization", "Content-Type", "If-Match"]},
        {"tag": "health", "enabled": False},
        {"path": "/items/*", "method": "GET", "origins": [APP, WWW]},
    ])
    assert policy_for(policy, op("GET /items")).max_age == 60
    assert policy_for(policy, op("PATCH /items/{id}")).headers[-1] == "If-Match"
    assert policy_for(policy, op("GET /items/{id}")).origins == (APP, WWW)
    assert policy_for(policy, op("GET /items")).origins == (APP,)
    assert not policy_for(policy, op("GET /health")).enabled and policy_for(policy, op("GET /health")).allowed == ()
    assert unused_overrides(policy, OPERATIONS) == []
    data = policy.model_dump()
    typo = CorsPolicy(**{**data, "overrides": [*data["overrides"], {"path": "/itemz*", "max_age": 1}]})
    assert unused_overrides(typo, OPERATIONS) == ["cors.overrides[4] (path: /itemz*)"]


def test_a_disabled_operation_refuses_even_the_policys_origins(session_for):
    policy = CorsPolicy(origins=[APP], credentials=True, overrides=[{"path": "/items", "enabled": False}])
    runner = session_for(FakeGateway(origins=(APP,)), policy=policy)
    found = failing(run(runner, op("GET /items"), group="origins"))
    assert len(found) == 1 and found[0].gateway == [APP]
    assert run(runner, op("GET /items"), group="preflight") == []


@pytest.mark.parametrize(("policy", "error"), [
    ({"origins": ["*"], "credentials": True}, "browsers refuse it"),
    ({"origins": ["https://App.example.com"]}, "lower case"),
    ({"origins": ["https://app.example.com/"]}, "trailing '/'"),
    ({"origins": ["null"]}, "must never be an allowed origin"),
    ({"origins": []}, "at least 1"),
    ({"origins": [APP], "overrides": [{"max_age": 5}]}, "needs a selector"),
    ({"origins": [APP], "overrides": [{"method": "FETCH"}]}, "unknown method"),
    ({"origins": [APP], "headers": ["Bad Header"]}, "not a header name"),
    ({"origins": [APP], "credentials": True, "overrides": [{"tag": "x", "origins": ["*"]}]}, "browsers refuse"),
    ({"origins": [APP], "methods": "as_documnet"}, "or `as_document`"),
    ({"origins": [APP], "methods": ["GE T"]}, "not a method name"),
])
def test_the_policy_is_validated(policy, error):
    with pytest.raises(ValidationError, match=re.escape(error)):
        CorsPolicy(**policy)


def test_the_policys_methods_are_upper_cased_and_reach_each_operation():
    policy = CorsPolicy(origins=[APP], methods=["get", "patch"])
    assert policy.methods == ["GET", "PATCH"] and policy_for(policy, op("GET /items")).methods == ("GET", "PATCH")
    assert policy_for(CorsPolicy(origins=[APP], methods="as_document"), op("GET /items")).methods == "as_document"
    assert policy_for(CorsPolicy(origins=[APP]), op("GET /items")).methods is None


def test_the_burst_goes_to_one_cheap_public_get():
    assert rate_limit_operation(OPERATIONS) == op("GET /health")
    assert rate_limit_operation([op("GET /items/{id}"), op("PATCH /items/{id}")]) is None


def test_the_fuzz_set_never_holds_an_allowed_origin():
    policy = Policy((APP, WWW, "http://app.example.com"), True, (), (), None)
    origins = [o for o, _ in fuzz_origins(policy)]
    assert not set(origins) & set(policy.origins) and len(origins) == len(set(origins))
    assert "http://app.example.com" not in origins and "https://appxexample.com" in origins


# ---------------------------------------------------------------- `as_legacy`: grants compared with the legacy

def test_as_legacy_takes_the_grants_from_the_legacy_but_not_the_origins(session_for):
    policy = POLICY.model_copy(update={"as_legacy": True, "max_age": None})
    legacy = FakeGateway(prefix="", max_age="60", reflect_any=True)  # legacy servers often reflect anything
    runner = session_for(FakeGateway(max_age="60"), policy=policy, legacy=legacy)
    assert failing(run(runner, op("GET /items/{id}"))) == []
    runner = session_for(FakeGateway(max_age="600", reflect_any=True), policy=policy, legacy=legacy)
    found = {f.check: f for f in failing(run(runner, op("GET /items/{id}")))}
    assert set(found) == {"preflight-max-age", "disallowed-origins"}  # like legacy is still wide open
    assert "60 s in the legacy" in found["preflight-max-age"].message


def test_as_legacy_without_cors_on_the_legacy_is_a_note_and_the_policy_is_used(session_for):
    policy = POLICY.model_copy(update={"as_legacy": True})
    found = run(session_for(FakeGateway(max_age=None), policy=policy), op("GET /items"), group="preflight")
    assert sorted((f.check, f.severity) for f in found) == [("as-legacy-baseline", "note"),
                                                            ("preflight-max-age", "failure")]


# ---------------------------------------------------------------- each finding's probe, for a real browser

def test_a_preflight_findings_probe_is_the_fetch_a_page_makes(session_for):
    runner = session_for(FakeGateway(allow_headers=("Content-Type",)))
    found = failing(run(runner, op("PATCH /items/{id}")))
    assert probe_of(found[0]) == {
        "origin": APP, "method": "PATCH", "url": "http://127.0.0.1:9/api/items/i1",
        "headers": [["authorization", "Bearer $GATEWAY_TOKEN"], ["content-type", "application/json"]],
        "credentials": "include", "body": None, "judged": "preflight"}


def test_an_answer_findings_probe_carries_its_headers_but_never_the_token(session_for):
    runner = session_for(FakeGateway(expose=("ETag",)))
    found = failing(run(runner, op("GET /items"), group="actual"))
    probe = probe_of(found[0])
    assert probe is not None and probe["judged"] == "answer" and probe["origin"] == APP
    assert probe["method"] == "GET" and ["authorization", "Bearer $GATEWAY_TOKEN"] in probe["headers"]
    assert not any(name in ("origin", "host", "accept") for name, _ in probe["headers"])
    assert TOKEN not in json.dumps([f.reproducers for f in found])


# ---------------------------------------------------------------- fidelity: what browsers enforce, what gateways send

TRACE_DOCUMENT: dict[str, Any] = {**DOCUMENT, "paths": {**DOCUMENT["paths"], "/items/{id}": {
    **DOCUMENT["paths"]["/items/{id}"], "trace": {"responses": {"200": {"description": "ok"}}}}}}
TRACE_OPERATIONS = operations_of(TRACE_DOCUMENT)
TRACE_ROUTES = {**ROUTES, "/items/{id}": ROUTES["/items/{id}"] | {"TRACE"}}


def test_no_cors_check_applies_to_a_method_no_browser_can_send(session_for):
    """Fetch forbids TRACE, CONNECT and TRACK: no preflight asks for them, no page sends them."""
    gateway = FakeGateway(routes=TRACE_ROUTES)  # its Allow-Methods lists what a browser can send
    legacy = FakeGateway(cors=False, prefix="", routes=TRACE_ROUTES)
    runner = session_for(gateway, legacy=legacy, operations=TRACE_OPERATIONS)
    assert run(runner, op("TRACE /items/{id}", TRACE_OPERATIONS)) == []
    assert gateway.methods_seen == []  # nothing sent at all for it
    for label in ("GET /items/{id}", "PATCH /items/{id}"):  # nor probed with them on the same path
        assert run(runner, op(label, TRACE_OPERATIONS)) == []
    assert not FORBIDDEN & {*gateway.methods_seen, *gateway.asked_seen}


GLOBAL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@pytest.mark.parametrize(("methods", "severity"), [
    (None, "note"), ("as_document", "failure"), (list(GLOBAL_METHODS), None), (["GET", "POST", "PATCH"], "failure"),
], ids=["unset", "as-document", "the-gateways-list", "a-shorter-list"])
def test_one_global_allow_methods_list_fails_only_where_the_policy_says_so(session_for, methods, severity):
    policy = POLICY.model_copy(update={"methods": methods})
    runner = session_for(FakeGateway(global_methods=GLOBAL_METHODS), policy=policy)
    found = run(runner, op("GET /items"))
    assert [(f.check, f.severity) for f in found] == ([("ungranted-method", severity)] if severity else [])
    if severity:
        assert "may send DELETE to /api/items" in found[0].message


def test_a_gateway_echoing_the_asked_method_fails_even_with_a_methods_list(session_for):
    policy = POLICY.model_copy(update={"methods": ["GET", "POST"]})
    found = failing(run(session_for(FakeGateway(echo_requested=True), policy=policy), op("GET /items"),
                        group="grants"))
    assert sorted(f.check for f in found) == ["ungranted-header", "ungranted-method"]


def test_allow_credentials_false_grants_nothing(session_for):
    """Only exactly `true` lets credentials through: `false` where the policy shares none is harmless."""
    policy = POLICY.model_copy(update={"credentials": False})
    assert run(session_for(FakeGateway(acac="false"), policy=policy), op("GET /items/{id}")) == []


def test_a_star_in_allowed_headers_without_credentials_is_a_note(session_for):
    policy = CorsPolicy(origins=[APP, WWW], headers=["Content-Type", "X-Trace"], expose=["ETag"], max_age=600)
    found = run(session_for(FakeGateway(allow_headers=("*",), credentials=False, expose=("ETag",)), policy=policy),
                op("GET /items"))
    assert [(f.check, f.severity) for f in found] == [("ungranted-header", "note")]


def test_headers_a_browser_never_asks_for_need_no_grant(session_for):
    """Accept (CORS-safelisted) is never in Access-Control-Request-Headers: no gateway needs to list it;
    Content-Type and Cache-Control are readable without Access-Control-Expose-Headers."""
    policy = POLICY.model_copy(update={"headers": ["Authorization", "Content-Type", "Accept"],
                                       "expose": ["ETag", "Content-Type", "Cache-Control"]})
    gateway = FakeGateway()
    runner = session_for(gateway, policy=policy)
    assert run(runner, op("GET /items/{id}")) == []


def test_a_preflight_needs_no_vary_and_an_unstored_answer_neither(session_for):
    assert run(session_for(FakeGateway(vary_on_preflight=False)), op("GET /items")) == []
    assert run(session_for(FakeGateway(vary=False, no_store=True)), op("GET /items")) == []


def test_a_static_star_may_be_missing_without_origin_where_vary_names_origin(session_for):
    policy = CorsPolicy(origins=["*"], headers=["Content-Type"], expose=["ETag"], max_age=600)
    gateway = dict(wildcard=True, credentials=False, expose=("ETag",))  # no ACAO without Origin (as Envoy)
    assert run(session_for(FakeGateway(**gateway), policy=policy), op("GET /items"), group="actual") == []
    found = failing(run(session_for(FakeGateway(**gateway, vary=False), policy=policy), op("GET /items"),
                        group="actual"))
    assert [f.check for f in found] == ["actual-allow-origin"] and "without an Origin" in found[0].message


def test_a_405_no_browser_can_reach_is_not_judged(session_for):
    """The 405 probe is a method the path does not offer; a DELETE the preflight refuses never reaches it."""
    found = failing(run(session_for(FakeGateway(cors_on_errors=False)), op("GET /items"), group="errors"))
    assert found == []  # GET /items offers GET and POST: the probe is DELETE, which its preflight refuses
    runner = session_for(FakeGateway(cors_on_errors=False, global_methods=GLOBAL_METHODS))
    assert "error-405" in {f.check for f in failing(run(runner, op("GET /items"), group="errors"))}


def test_wildcard_with_credentials_is_a_note_under_a_wildcard_policy_without_credentials(session_for):
    policy = CorsPolicy(origins=["*"], headers=["Content-Type"], expose=["ETag"], max_age=600)
    found = run(session_for(FakeGateway(wildcard=True, expose=("ETag",)), policy=policy), op("GET /items"))
    assert {(f.check, f.severity) for f in found} == {("no-wildcard-with-credentials", "note")}


def test_a_path_variant_the_legacy_redirects_too_is_a_note(session_for):
    runner = session_for(FakeGateway(redirect_slash=True), legacy=FakeGateway(cors=False, prefix="", redirect_slash=True))
    found = run(runner, op("GET /items"))
    assert [(f.check, f.severity) for f in found] == [("preflight-no-redirect", "note")]
    assert "the legacy redirects it too" in found[0].message and found[0].legacy == 308


def test_a_longer_max_age_is_not_called_too_often(session_for):
    found = run(session_for(FakeGateway(max_age="7200")), op("GET /items"), group="preflight")
    assert [f.check for f in found] == ["preflight-max-age"]
    assert "longer than declared" in found[0].message and "too often" not in found[0].message


# ---------------------------------------------------------------- over real loopback HTTP

def _handler(fake: FakeGateway) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # else every answer waits for a delayed ACK (about 40 ms)

        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with lock:
                status, headers, body = fake.respond(self.command, self.path, self.headers)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_one

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the burst opens 25 connections at once (the default backlog is 5)


@pytest.fixture
def serve() -> Iterator[Callable[[FakeGateway], str]]:
    servers: list[_Server] = []

    def start(fake: FakeGateway) -> str:
        server = _Server(("127.0.0.1", 0), _handler(fake))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.servers
def test_over_loopback_http_the_correct_gateway_passes_and_a_fault_is_caught(session_for, serve):
    def over_http(gateway: FakeGateway) -> FlowRunner:
        return session_for(gateway, urls=(serve(FakeGateway(cors=False, prefix="")), serve(gateway)))

    runner = over_http(FakeGateway(rate_limit=20))
    for operation in OPERATIONS:
        assert run(runner, operation) == [], operation
    assert runner.counts["GET /health"] > 20  # the burst went on until the 429
    found = failing(run(over_http(FakeGateway(double_origin=True)), op("GET /items")))
    assert [f.check for f in found] == ["single-allow-origin"]
