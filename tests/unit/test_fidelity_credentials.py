"""Class 1 of issue 12: credentials are the target's, never the generated case's.

Schemathesis fills the security parameters of `http`/`bearer` and `apiKey` schemes with random values
(an empty draw gives `Bearer `, which h11 refuses as an illegal header value). `build_request` drops
them for both targets; each target then sends exactly what its contract entry gives.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import httpx
import hypothesis
import pytest
import schemathesis

from lockstep.contract import TargetSpec
from lockstep.exchange import Exchanger, build_request
from lockstep.targets import Target

TOKEN = "gw-token-7f3a9c"
OK = {"200": {"description": "ok"}}
DOCUMENT = {
    "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
    "security": [{"bearer": []}],
    "paths": {
        "/items": {"get": {"responses": OK, "parameters": [
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}, "required": True},
            {"name": "X-Trace", "in": "header", "schema": {"type": "string", "enum": ["t-1"]}, "required": True}]}},
        "/keyed": {"get": {"responses": OK, "security": [{"headerKey": [], "queryKey": [], "cookieKey": []}]}},
        "/either": {"get": {"responses": OK, "security": [{"basic": []}, {"oidc": []}, {"oauth": ["read"]}]}},
        "/open": {"get": {"responses": OK, "security": [], "parameters": [
            {"name": "api_key", "in": "query", "schema": {"type": "string", "enum": ["not-a-credential"]},
             "required": True}]}},
    },
    "components": {"securitySchemes": {
        "bearer": {"$ref": "#/components/x-schemes/bearer"},  # resolved like any scheme
        "headerKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"},
        "cookieKey": {"type": "apiKey", "in": "cookie", "name": "sid"},
        "basic": {"type": "http", "scheme": "basic"},
        "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://id.example.com/.well-known/openid-configuration"},
        "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/t", "scopes": {"read": "r"}}}},
    }, "x-schemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
}


@pytest.fixture(scope="module")
def schema():
    loaded = schemathesis.openapi.from_dict(DOCUMENT)
    loaded.config.update(base_url="http://lockstep.invalid")
    return loaded


def targets(url: str = "http://127.0.0.1:9", transport=None) -> tuple[Target, Target]:
    legacy = Target("legacy", TargetSpec(url=url, headers={"X-User-Id": "demo-user"}), transport=transport)
    gateway = Target("gateway", TargetSpec(url=url, prefix="/api"), token=TOKEN, transport=transport)
    return legacy, gateway


def generated(schema, path: str, count: int = 40) -> list:
    cases = []

    @hypothesis.settings(max_examples=count, database=None, deadline=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.seed(12)
    @hypothesis.given(schema[path]["GET"].as_strategy())
    def draw(case):
        cases.append(case)

    draw()
    return cases


def test_generated_bearer_values_reach_neither_target(schema):
    legacy, gateway = targets()
    cases = generated(schema, "/items")
    assert any("Authorization" in (c.headers or {}) for c in cases), "Schemathesis should generate credentials"
    for case in cases:
        to_legacy, via_gateway = build_request(case, legacy), build_request(case, gateway)
        assert "authorization" not in to_legacy.headers, case.headers
        assert to_legacy.headers["x-user-id"] == "demo-user"
        assert via_gateway.headers.get_list("authorization") == [f"Bearer {TOKEN}"]
        assert "x-user-id" not in via_gateway.headers


def test_generated_api_keys_in_header_query_and_cookie_are_dropped(schema):
    legacy, gateway = targets()
    cases = generated(schema, "/keyed")
    assert any((c.query or {}).get("api_key") is not None for c in cases)
    for case in cases:
        for request in (build_request(case, legacy), build_request(case, gateway)):
            assert "x-api-key" not in request.headers
            assert "api_key" not in request.url.params
            assert "sid=" not in request.headers.get("cookie", "")


def test_http_basic_oauth2_and_openid_schemes_all_drop_authorization(schema):
    legacy, gateway = targets()
    for value in ("Basic Zm9vOmJhcg==", "Bearer generated"):
        case = schema["/either"]["GET"].Case(headers={"Authorization": value})
        assert "authorization" not in build_request(case, legacy).headers
        assert build_request(case, gateway).headers.get_list("authorization") == [f"Bearer {TOKEN}"]


def test_what_is_not_a_credential_still_reaches_both_targets(schema):
    legacy, gateway = targets()
    items = build_request(schema["/items"]["GET"].Case(query={"page": 3}, headers={"X-Trace": "t-1"}), gateway)
    assert items.url.params["page"] == "3" and items.headers["x-trace"] == "t-1"
    # `api_key` is a credential of /keyed only: on the public /open it is an ordinary parameter
    public = schema["/open"]["GET"].Case(query={"api_key": "not-a-credential"})
    assert build_request(public, legacy).url.params["api_key"] == "not-a-credential"


def test_the_target_header_wins_whatever_the_case_of_the_generated_one(schema):
    _, gateway = targets()
    case = schema["/items"]["GET"].Case(query={"page": 1}, headers={"authorization": "Bearer x", "X-Trace": "t-1"})
    assert build_request(case, gateway).headers.get_list("authorization") == [f"Bearer {TOKEN}"]


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = (self.headers.get("Authorization") or "-").encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.servers
def test_an_empty_generated_bearer_never_reaches_the_wire(schema, loopback):
    legacy, gateway = targets(loopback)
    exchanger = Exchanger(legacy, gateway)
    try:
        case = schema["/items"]["GET"].Case(query={"page": 1}, headers={"Authorization": "Bearer ", "X-Trace": "t-1"})
        ex = exchanger.run(case)
    finally:
        exchanger.close()
        legacy.close()
        gateway.close()
    for answer in (ex.legacy, ex.legacy_again, ex.gateway):
        assert answer.error is None, answer.error  # before: "LocalProtocolError: Illegal header value b'Bearer '"
    assert ex.legacy.body == b"-" and ex.gateway.body == f"Bearer {TOKEN}".encode()


def test_the_gateways_request_is_the_legacys_readdressed_with_its_own_headers() -> None:

    from lockstep.contract import TargetSpec
    from lockstep.exchange import readdress
    from lockstep.targets import Target

    legacy = Target("legacy", TargetSpec(url="http://legacy.test", headers={"X-User-Id": "u1"}))
    gateway = Target("gateway", TargetSpec(url="http://gw.test", prefix="/api/x"), token="tok")
    first = httpx.Request("POST", "http://legacy.test/items?q=a%2Bb", headers={"X-User-Id": "u1", "X-Trace": "7",
                                                                              "Content-Type": "application/json"},
                          content=b'{"a": 1}')
    moved = readdress(first, legacy, gateway)
    assert moved is not None and str(moved.url) == "http://gw.test/api/x/items?q=a%2Bb"
    assert moved.headers["authorization"] == "Bearer tok" and "x-user-id" not in moved.headers
    assert moved.headers["x-trace"] == "7" and moved.content == b'{"a": 1}'
    assert readdress(httpx.Request("GET", "http://elsewhere.test/items"), legacy, gateway) is None
