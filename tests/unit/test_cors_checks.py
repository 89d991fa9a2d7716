"""Self-tests of the CORS checks against fake gateways served over real HTTP on 127.0.0.1.

`FakeGateway` answers CORS correctly by default; each keyword switches in one real-world mistake (an
unanchored origin regex, reflecting any origin with credentials, auth before the preflight, ...). The
correct gateway must give no finding at all; each mistake must be caught by the check that owns it, with
a message that names the cause.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from lockstep.checks.cors import (DISALLOWED, Policy, fuzz_origins, policy_for, rate_limit_operation,
                                  unused_overrides)
from lockstep.checks.registry import FlowContext, checks_for
from lockstep.contract import CorsPolicy, TargetSpec
from lockstep.errors import UnsafeRequestError
from lockstep.findings import Finding
from lockstep.operations import Operation, operations_of
from lockstep.targets import Target

APP, WWW = "https://app.example.com", "https://www.example.com"
TOKEN = "good-token"
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


def op(label: str) -> Operation:
    return next(o for o in OPERATIONS if o.label == label)


# ---------------------------------------------------------------- fake servers

@dataclass
class FakeGateway:
    """A gateway's CORS and error behaviour; defaults are right, each flag is one mistake."""

    origins: tuple[str, ...] = (APP, WWW)
    match: Callable[[str], bool] | None = None  # a custom origin test (e.g. an unanchored regex)
    reflect_any: bool = False
    wildcard: bool = False
    credentials: bool = True
    allow_headers: tuple[str, ...] = ("Authorization", "Content-Type")
    expose: tuple[str, ...] = ("ETag", "X-Request-Id", "Retry-After", "WWW-Authenticate")
    max_age: str | None = "600"
    methods_case: Callable[[str], str] = str
    echo_requested: bool = False  # grants whatever method and headers the preflight asks for
    preflight_needs_auth: bool = False
    double_origin: bool = False
    vary: bool = True
    vary_on_errors: bool = True
    cors_on_errors: bool = True
    redirect_slash: bool = False
    plain_options_status: int = 204
    upstream_vary: bool = True  # false: the upstream's `Vary: Accept-Encoding` is dropped
    rate_limit: int | None = None  # requests to GET /health before 429
    cors: bool = True  # false: a legacy without CORS
    prefix: str = "/api"
    served: Counter = field(default_factory=Counter)
    methods_seen: list[str] = field(default_factory=list)

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
        out += [("Access-Control-Allow-Credentials", "true")] if self.credentials else []
        if preflight is None:
            return out + [("Access-Control-Expose-Headers", ", ".join(self.expose))]
        methods = sorted(ROUTES[path])
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
        path = _template(raw_path)
        origin = headers.get("Origin")
        asked = headers.get("Access-Control-Request-Method")
        authorized = headers.get("Authorization") == f"Bearer {TOKEN}"
        own: list[tuple[str, str]] = []
        preflight = None
        if self.redirect_slash and raw_path.endswith("/"):
            status, own = 308, [("Location", raw_path.rstrip("/"))]
        elif path is None:
            status = 404
        elif method == "OPTIONS" and origin and asked and self.cors:
            protected = path != "/health" and not (path == "/items" and asked == "GET")
            if self.preflight_needs_auth and protected and not authorized:
                status = 401
            else:
                status, preflight = 204, {"method": asked, "headers": headers.get("Access-Control-Request-Headers", "")}
        elif method == "OPTIONS":
            status, own = self.plain_options_status, [("Allow", ", ".join(sorted(ROUTES[path] | {"OPTIONS", "HEAD"})))]
        elif method not in ROUTES[path] and not (method == "HEAD" and "GET" in ROUTES[path]):
            status, own = 405, [("Allow", ", ".join(sorted(ROUTES[path])))]
        elif path == "/health" and self.rate_limit is not None and self._count(path) > self.rate_limit:
            status, own = 429, [("Retry-After", "30")]
        elif not (path == "/health" or (path == "/items" and method == "GET")) and not authorized:
            status, own = 401, [("WWW-Authenticate", 'Bearer realm="fake"')]
        else:
            status, own = 200, [("Content-Type", "application/json"), ("ETag", '"1"')]
            own += [("Vary", "Accept-Encoding")] if self.upstream_vary else []
        error = status >= 400
        cors = self.cors_headers(origin, preflight, path or "") if (not error or self.cors_on_errors) else []
        vary = [("Vary", "Origin")] if self.vary and self.cors and (self.vary_on_errors or not error) else []
        return status, own + cors + vary + [("X-Request-Id", "r1")], json.dumps({"status": status}).encode()

    def _count(self, path: str) -> int:
        self.served[path] += 1
        return self.served[path]


def _template(path: str) -> str | None:
    path = path.split("?")[0]
    if path in ROUTES:
        return path
    return "/items/{id}" if re.fullmatch(r"/items/[^/]+", path) else None


def _handler(fake: FakeGateway) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # else every answer waits for a delayed ACK (about 40 ms)

        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with lock:
                status, headers, body = fake.answer(self.command, self.path, self.headers)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            body = b"" if status in (204, 304) or self.command == "HEAD" else body
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


@dataclass
class FakeSession:
    legacy: Target
    gateway: Target
    settings: Any
    cases: Counter = field(default_factory=Counter)

    def count_case(self, operation: str) -> None:
        self.cases[operation] += 1

    def close(self) -> None:
        self.legacy.close()
        self.gateway.close()


@pytest.fixture
def session_for(serve: Callable[[FakeGateway], str], tmp_path: Path) -> Iterator[Callable[..., FakeSession]]:
    spec = tmp_path / "fake-api.yaml"
    spec.write_text(yaml.safe_dump(DOCUMENT), encoding="utf-8")
    made: list[FakeSession] = []

    def make(gateway: FakeGateway, *, policy: CorsPolicy | None = POLICY, profile: str = "staging",
             methods: tuple[str, ...] | None = None, legacy: FakeGateway | None = None) -> FakeSession:
        legacy_url = serve(legacy or FakeGateway(cors=False, prefix=""))
        gateway_url = serve(gateway)
        settings = SimpleNamespace(contract=SimpleNamespace(cors=policy, spec_path=spec), profile_name=profile)
        session = FakeSession(Target("legacy", TargetSpec(url=legacy_url, headers={"X-User-Id": "u1"})),
                              Target("gateway", TargetSpec(url=gateway_url, prefix="/api"), token=TOKEN,
                                     allowed_methods=methods),
                              settings)
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


def run(session: FakeSession, operation: Operation, group: str | None = None) -> list[Finding]:
    """Every CORS check (of a group) on one operation, as run_flow runs them (skips left out)."""
    found: list[Finding] = []
    for registered in checks_for("cors", group=group):
        ctx = FlowContext("cors", operation, session, check_name=registered.name)  # type: ignore[arg-type]
        try:
            found += registered.func(ctx)
        except UnsafeRequestError:
            continue
    return found


def failing(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "failure"]


# ---------------------------------------------------------------- the correct gateway passes

@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_correct_gateway_gives_no_finding_at_all(session_for, operation):
    session = session_for(FakeGateway(rate_limit=20))
    found = run(session, operation)
    assert found == [], "\n".join(f.headline() for f in found)


def test_the_correct_gateways_rate_limited_answer_is_judged(session_for):
    session = session_for(FakeGateway(rate_limit=20))
    assert run(session, op("GET /health"), group="rate-limit") == []
    assert 21 <= session.cases["GET /health"] <= 50  # stops at the first 429 (waves of 25)


# ---------------------------------------------------------------- the origin fuzz set

def test_a_gateway_reflecting_any_origin_with_credentials_is_caught_by_every_fuzz_origin(session_for):
    session = session_for(FakeGateway(reflect_any=True))
    found = failing(run(session, op("GET /items"), group="origins"))
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
    session = session_for(FakeGateway(reflect_any=True), methods=("GET", "HEAD", "OPTIONS"))
    found = failing(run(session, op("PATCH /items/{id}"), group="origins"))
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
    session = session_for(FakeGateway(match=lambda o: o == WWW or mistake(o)))
    found = failing(run(session, op("GET /items/{id}"), group="origins"))
    assert len(found) == 1 and origin in found[0].gateway, found
    assert kind in found[0].message


def test_an_allowed_origin_is_not_a_finding_and_a_wildcard_policy_allows_any(session_for):
    session = session_for(FakeGateway(wildcard=True, credentials=False),
                          policy=CorsPolicy(origins=["*"], headers=["Content-Type"], expose=[]))
    assert failing(run(session, op("GET /items"), group="origins")) == []


# ---------------------------------------------------------------- the demo's fault zoo, in miniature

def test_authorization_missing_from_allowed_headers(session_for):
    session = session_for(FakeGateway(allow_headers=("Content-Type",)))
    found = failing(run(session, op("PATCH /items/{id}")))
    assert [f.check for f in found] == ["preflight-allowed-headers"]
    assert found[0].message == ("a browser at https://app.example.com cannot PATCH /api/items/{id}: "
                                "Authorization is not in Access-Control-Allow-Headers")


def test_a_star_in_allowed_headers_does_not_cover_authorization(session_for):
    session = session_for(FakeGateway(allow_headers=("*",)))
    found = failing(run(session, op("GET /items"), group="preflight"))
    assert [f.check for f in found] == ["preflight-allowed-headers"]
    assert "'*' never covers Authorization" in found[0].message


def test_auth_before_the_preflight(session_for):
    session = session_for(FakeGateway(preflight_needs_auth=True))
    found = failing(run(session, op("GET /items/{id}")))
    assert [f.check for f in found] == ["preflight-status"]
    assert "refused with 401" in found[0].message and "before authentication" in found[0].message
    assert failing(run(session, op("GET /health"))) == []  # public: the fault does not show


def test_wildcard_with_credentials(session_for):
    session = session_for(FakeGateway(wildcard=True))
    found = failing(run(session, op("GET /items/{id}")))
    assert [f.check for f in found] == ["no-wildcard-with-credentials"]
    assert "'*' while Access-Control-Allow-Credentials is 'true'" in found[0].message


def test_two_allow_origin_values(session_for):
    session = session_for(FakeGateway(double_origin=True))
    assert [f.check for f in failing(run(session, op("GET /items")))] == ["single-allow-origin"]


def test_methods_in_the_wrong_case(session_for):
    session = session_for(FakeGateway(methods_case=str.lower))
    found = failing(run(session, op("PATCH /items/{id}"), group="preflight"))
    assert [f.check for f in found] == ["preflight-allowed-methods"]
    assert "'patch'" in found[0].message and "case-sensitively" in found[0].message
    notes = run(session, op("GET /items/{id}"), group="preflight")  # browsers allow GET anyway
    assert failing(notes) == [] and [f.severity for f in notes] == ["note"]


def test_echoing_the_requested_method_and_headers(session_for):
    session = session_for(FakeGateway(echo_requested=True))
    found = failing(run(session, op("GET /items/{id}")))
    assert sorted(f.check for f in found) == ["ungranted-header", "ungranted-method"]
    assert any("DELETE" in f.message for f in found)


def test_missing_max_age_and_credentials(session_for):
    session = session_for(FakeGateway(max_age=None, credentials=False))
    found = failing(run(session, op("GET /items/{id}"), group="preflight"))
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
    session = session_for(FakeGateway(cors_on_errors=False, rate_limit=20))
    checks = {f.check: f for f in failing(run(session, op("GET /items/{id}")))}
    assert set(checks) == {"error-401", "error-404", "error-405"}
    assert "sees a CORS error instead of the 401 (no token)" in checks["error-401"].message
    assert [f.check for f in failing(run(session, op("GET /health"), group="rate-limit"))] == ["error-429"]


def test_unexposed_headers(session_for):
    session = session_for(FakeGateway(expose=("ETag",)))
    found = failing(run(session, op("GET /items"), group="actual"))
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
    session = session_for(gateway, methods=("GET", "HEAD", "OPTIONS"))
    ctx = FlowContext("cors", op("PATCH /items/{id}"), session,  # type: ignore[arg-type]
                      check_name="actual-allow-origin")
    with pytest.raises(UnsafeRequestError):
        checks_for("cors", group="actual")[0].func(ctx)
    assert run(session, op("PATCH /items/{id}")) == []
    assert set(gateway.methods_seen) == {"OPTIONS", "GET"} and gateway.methods_seen.count("OPTIONS") > 20


def test_writes_are_sent_only_where_they_change_nothing(session_for):
    gateway = FakeGateway()
    run(session_for(gateway), op("PATCH /items/{id}"))
    assert set(gateway.methods_seen) == {"OPTIONS", "GET", "PATCH", "DELETE"}  # 401 without token, 405


def test_the_burst_never_runs_in_smoke_and_stays_bounded(session_for):
    smoke = session_for(FakeGateway(), profile="smoke")
    ctx = FlowContext("cors", op("GET /health"), smoke, check_name="error-429")  # type: ignore[arg-type]
    with pytest.raises(UnsafeRequestError, match="smoke"):
        checks_for("cors", group="rate-limit")[0].func(ctx)
    assert smoke.cases == Counter()
    unlimited = session_for(FakeGateway(rate_limit=None))
    found = run(unlimited, op("GET /health"), group="rate-limit")
    assert [f.severity for f in found] == ["note"] and unlimited.cases["GET /health"] == 150


def test_without_a_policy_nothing_is_judged(session_for):
    session = session_for(FakeGateway(wildcard=True), policy=None)
    assert run(session, op("GET /items")) == [] and session.cases == Counter()


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
    session = session_for(FakeGateway(origins=(APP,)), policy=policy)
    found = failing(run(session, op("GET /items"), group="origins"))
    assert len(found) == 1 and found[0].gateway == [APP]
    assert run(session, op("GET /items"), group="preflight") == []


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
])
def test_the_policy_is_validated(policy, error):
    with pytest.raises(ValidationError, match=re.escape(error)):
        CorsPolicy(**policy)


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
    session = session_for(FakeGateway(max_age="60"), policy=policy, legacy=legacy)
    assert failing(run(session, op("GET /items/{id}"))) == []
    session = session_for(FakeGateway(max_age="600", reflect_any=True), policy=policy, legacy=legacy)
    found = {f.check: f for f in failing(run(session, op("GET /items/{id}")))}
    assert set(found) == {"preflight-max-age", "disallowed-origins"}  # like legacy is still wide open
    assert "60 s in the legacy" in found["preflight-max-age"].message


def test_as_legacy_without_cors_on_the_legacy_is_a_note_and_the_policy_is_used(session_for):
    policy = POLICY.model_copy(update={"as_legacy": True})
    found = run(session_for(FakeGateway(max_age=None), policy=policy), op("GET /items"), group="preflight")
    assert sorted((f.check, f.severity) for f in found) == [("as-legacy-baseline", "note"),
                                                            ("preflight-max-age", "failure")]
