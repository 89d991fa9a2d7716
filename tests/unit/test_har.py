"""HAR files: reading, matching requests to operations, stripping secrets, and the replay itself against
two fake targets (httpx.MockTransport) judged by the parity comparison."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from lockstep.errors import UnsafeRequestError
from lockstep.har import (HarEntry, HarError, HarReplay, har_path, load_plan, plan_of, read_har, strip_body,
                          strip_headers, strip_query)
from lockstep.report.redact import redact
from lockstep.session import LockstepSession
from lockstep.settings import resolve_settings
from lockstep.targets import Target

ROOT = Path(__file__).resolve().parents[2]
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZWNvcmRlZC11c2VyIn0.c2lnbmF0dXJlLW9mLXRoZS1yZWNvcmRpbmc"
DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3", "info": {"title": "fake", "version": "1"},
    "paths": {
        "/items": {"get": {"responses": {"200": {"description": "ok"}}},
                   "post": {"responses": {"201": {"description": "ok"}}}},
        "/items/{id}": {"get": {"responses": {"200": {"description": "ok"}}},
                        "delete": {"responses": {"204": {"description": "ok"}}}},
        "/items/latest": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/users/me": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
}


def entry(method: str, url: str, headers: dict[str, str] | None = None, body: str | None = None,
          mime: str = "application/json") -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "url": url, "httpVersion": "HTTP/1.1",
                               "headers": [{"name": k, "value": v} for k, v in (headers or {}).items()]}
    if body is not None:
        request["postData"] = {"mimeType": mime, "text": body}
    return {"request": request, "response": {"status": 200}}


def har(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": list(entries)}}


# ---------------------------------------------------------------- reading

def test_read_har_gives_the_entries(tmp_path: Path) -> None:
    path = tmp_path / "s.har"
    path.write_text(json.dumps(har(entry("GET", "https://gw.example.com/api/items"))))
    assert [e["request"]["url"] for e in read_har(path)] == ["https://gw.example.com/api/items"]


@pytest.mark.parametrize("text, message", [
    (None, "HAR file not found"),
    ("{not json", "not JSON (line 1"),
    ('{"log": {}}', "no log.entries list"),
    ('{"log": {"entries": [{"request": {"method": "GET"}}]}}', "log.entries[0]: an entry without request.method"),
])
def test_an_unusable_har_is_one_clear_line(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "s.har"
    if text is not None:
        path.write_text(text)
    with pytest.raises(HarError) as caught:
        read_har(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_har_path_option_wins_over_the_contract(tmp_path: Path) -> None:
    class Contract:
        base_dir, har = tmp_path, "recorded/s.har"

    assert har_path(None, Contract()) == (tmp_path / "recorded" / "s.har").resolve()
    assert har_path("other.har", Contract()) == Path("other.har")

    class NoHar:
        base_dir, har = tmp_path, None

    assert har_path(None, NoHar()) is None


# ---------------------------------------------------------------- matching

def test_each_host_gets_the_prefix_most_of_its_requests_match_under() -> None:
    plan = plan_of([entry("GET", "https://gw.example.com/api/items?page=2"),
                    entry("GET", "https://gw.example.com/api/items/i-7"),
                    entry("GET", "https://legacy.internal:8443/items/latest"),
                    entry("DELETE", "https://gw.example.com/api/items/i%2D9")], DOCUMENT)
    assert plan.prefixes == {"gw.example.com": "/api", "legacy.internal:8443": ""}
    labels = [(e.index, e.label, e.path, e.query) for e in plan.entries]
    assert labels == [(1, "GET /items", "/items", "page=2"), (2, "GET /items/{id}", "/items/i-7", ""),
                      (3, "GET /items/latest", "/items/latest", ""),
                      (4, "DELETE /items/{id}", "/items/i%2D9", "")]
    assert plan.entries[3].path_parameters == {"id": "i-9"}  # decoded for Schemathesis, raw when replayed


def test_a_concrete_path_wins_over_a_template_and_a_known_prefix_wins_over_inference() -> None:
    plan = plan_of([entry("GET", "https://h/v2/items/latest")], DOCUMENT, known_prefixes=("/v2",))
    assert plan.entries[0].operation == "GET /items/latest" and plan.prefixes == {"h": "/v2"}


def test_unknown_routes_other_hosts_and_preflights() -> None:
    plan = plan_of([
        entry("GET", "https://gw.example.com/api/items"),
        entry("GET", "https://gw.example.com/api/internal/stats"),  # the API's host, no operation: unknown
        entry("PUT", "https://gw.example.com/api/items/i-1"),  # a path of the document, not this method
        entry("GET", "https://app.example.com/static/app.js"),  # the web app, not the API
        entry("OPTIONS", "https://gw.example.com/api/items", {"Origin": "https://app.example.com",
                                                              "Access-Control-Request-Method": "POST"}),
        entry("GET", "wss://gw.example.com/api/live"),
        entry("HEAD", "https://gw.example.com/api/items/i-1"),
    ], DOCUMENT)
    assert [(e.index, str(e)) for e in plan.entries] == [
        (1, "#1 GET /items"), (2, "#2 unknown GET /internal/stats"), (3, "#3 unknown PUT /items/i-1"),
        (7, "#7 HEAD /items/{id}")]
    assert [e.known for e in plan.entries] == [True, False, False, True]
    figure = plan.figure()
    assert figure["replayed"] == 4 and figure["unknown_routes"] == 2 and figure["entries"] == 7
    assert sorted(figure["ignored"].values()) == [1, 1, 1]
    assert any("CORS preflight" in reason for reason in figure["ignored"])


def test_a_har_with_nothing_of_the_api_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "web.har"
    path.write_text(json.dumps(har(entry("GET", "https://app.example.com/index.html"))))
    settings = _settings(tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2/api")
    with pytest.raises(HarError, match="no request of this HAR is an API request"):
        load_plan(str(path), settings, DOCUMENT)


# ---------------------------------------------------------------- secrets

def test_credential_headers_are_stripped_and_remembered_as_secrets() -> None:
    kept, stripped = strip_headers([
        ("Authorization", f"Bearer {JWT}"), ("Cookie", "sid=cookie-value-123; theme=dark"),
        ("X-Api-Key", "key-value-456"), ("X-Session-Id", "session-789xyz"), ("X-Trace", JWT),
        (":authority", "gw.example.com"), ("Host", "gw"), ("Content-Length", "12"), ("Accept-Encoding", "zstd"),
        ("X-User-Id", "someone-else"), ("Accept", "application/json"), ("Origin", "https://app.example.com"),
    ], own={"x-user-id"})
    assert kept == [("Accept", "application/json"), ("Origin", "https://app.example.com")]
    assert {s.split()[1] for s in stripped} == {"Authorization", "Cookie", "X-Api-Key", "X-Session-Id", "X-Trace",
                                                "X-User-Id"}
    text = redact(f"{JWT} cookie-value-123 key-value-456 session-789xyz")
    assert "cookie-value-123" not in text and "key-value-456" not in text and "session-789xyz" not in text
    assert JWT not in text


def test_token_like_query_parameters_go_the_others_stay_byte_for_byte() -> None:
    query, stripped = strip_query(f"q=salt%2Bpepper&access_token={JWT}&tag=a&tag=b&api_key=k-123456&x={JWT}&page=")
    assert query == "q=salt%2Bpepper&tag=a&tag=b&page="
    assert stripped == ["query access_token", "query api_key", "query x"]
    assert "k-123456" not in redact("k-123456")


def test_secret_body_fields_are_replaced_json_and_form() -> None:
    body, stripped = strip_body(b'{"user":"ann","password":"hunter2-pw","nested":{"token":"t-0000001"},"note":null}',
                                "application/json; charset=utf-8")
    assert json.loads(body) == {"user": "ann", "password": "[REDACTED]", "nested": {"token": "[REDACTED]"},
                                "note": None}
    assert stripped == ["body /password", "body /nested/token"]
    form, stripped = strip_body(b"grant_type=password&username=ann&password=hunter2-pw", "application/x-www-form-urlencoded")
    assert form == b"grant_type=password&username=ann&password=%5BREDACTED%5D" and stripped == ["body password"]
    plain = b'{"title": "soup"}'
    assert strip_body(plain, "application/json") == (plain, [])  # unchanged bytes when nothing is secret


def test_a_test_id_never_shows_a_query() -> None:
    plan = plan_of([entry("GET", f"https://gw/api/nowhere?access_token={JWT}"), entry("GET", "https://gw/api/items")],
                   DOCUMENT)
    assert [str(e) for e in plan.entries] == ["#1 unknown GET /nowhere", "#2 GET /items"]


# ---------------------------------------------------------------- replay against fake targets

class Fake:
    """A legacy-like server: noise in `id` and X-Request-Id, a status per path; records what it received."""

    def __init__(self, status: dict[str, int] | None = None) -> None:
        self.status = status or {}
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path.removeprefix("/api")
        status = self.status.get(path, 404 if path.startswith("/nowhere") else 200)
        body = {"path": path, "query": request.url.query.decode(), "request": str(uuid.uuid4())}
        return httpx.Response(status, json=body, headers={"X-Request-Id": str(uuid.uuid4())})


def _settings(tmp_path: Path, legacy: str, gateway: str, profile: str = "staging") -> Any:
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(DOCUMENT))
    (tmp_path / "migration.yaml").write_text(yaml.safe_dump({
        "spec": "api.yaml",
        "targets": {"legacy": {"url": legacy, "headers": {"X-User-Id": "u1"}},
                    "gateway": {"url": gateway, "auth": {"bearer": "gateway-own-token-1"}}}}))
    return resolve_settings(contract=str(tmp_path / "migration.yaml"), legacy_url=None, gateway_url=None,
                            profile=profile, seed="1", demo_faults=None, max_examples=None, env={})


def _session(tmp_path: Path, legacy: Fake, gateway: Fake, profile: str = "staging") -> LockstepSession:
    settings = _settings(tmp_path, "http://legacy.test", "http://gw.test/api", profile)
    session = LockstepSession(settings)
    methods = settings.profile.methods
    session.legacy = Target("legacy", settings.contract.targets.legacy, allowed_methods=methods,
                            transport=httpx.MockTransport(legacy))
    session.gateway = Target("gateway", settings.contract.targets.gateway, token="gateway-own-token-1",
                             allowed_methods=methods, transport=httpx.MockTransport(gateway))
    return session


RECORDED = [
    entry("GET", f"https://gw.example.com/api/items?page=2&access_token={JWT}",
          {"Authorization": f"Bearer {JWT}", "Cookie": "sid=recorded-cookie-1", "Accept": "application/json"}),
    entry("POST", "https://gw.example.com/api/items", {"Authorization": f"Bearer {JWT}",
                                                       "Content-Type": "application/json"}, '{"name":"x"}'),
    entry("GET", "https://gw.example.com/api/nowhere/at-all"),
    entry("GET", "https://gw.example.com/api/users/me", {"X-User-Id": "recorded-user"}),
]


def test_the_faithful_pair_replays_with_zero_findings_and_no_recorded_secret_is_sent(tmp_path: Path) -> None:
    legacy, gateway = Fake(), Fake()
    session = _session(tmp_path, legacy, gateway)
    replayer = HarReplay(session.judge(), session.ledger)
    plan = plan_of(RECORDED, DOCUMENT, own_headers={"x-user-id", "authorization"})
    results = [replayer.replay(e) for e in plan.entries]
    failing = [f for r in results for f in r.findings if f.failing]
    assert failing == []
    notes = [f for r in results for f in r.findings if f.severity == "note"]
    assert [(n.operation, n.check) for n in notes] == [("GET /nowhere/at-all", "unknown-route")]
    sent = legacy.seen + gateway.seen
    assert len(legacy.seen) == 8 and len(gateway.seen) == 4  # legacy twice, the gateway once
    for request in sent:
        text = str(request.url) + json.dumps(dict(request.headers))
        assert JWT not in text and "recorded-cookie-1" not in text and "recorded-user" not in text
    assert all(r.headers["x-user-id"] == "u1" and "authorization" not in r.headers for r in legacy.seen)
    assert all(r.headers["authorization"] == "Bearer gateway-own-token-1" for r in gateway.seen)
    assert legacy.seen[0].url.query == b"page=2"
    assert session.ledger.timings["GET /items"]["gateway"]  # judged cases feed the latency flow
    assert set(session.ledger.figures["har"]) == {str(e) for e in plan.entries}


def test_a_difference_fails_its_entry_with_reproducers_that_name_no_secret(tmp_path: Path) -> None:
    session = _session(tmp_path, Fake(), Fake({"/items": 500, "/nowhere/at-all": 200}))
    replayer = HarReplay(session.judge(), session.ledger)
    plan = plan_of(RECORDED, DOCUMENT)
    first, _, unknown, _ = (replayer.replay(e) for e in plan.entries)
    [status] = [f for f in first.findings if f.failing]
    assert (status.flow, status.operation, status.check, status.legacy, status.gateway) == \
        ("parity", "GET /items", "status", 200, 500)
    assert status.location == "har #1: status"
    assert "recorded request #1" in status.message
    assert "$GATEWAY_TOKEN" in status.reproducers["gateway"] and JWT not in json.dumps(status.reproducers)
    # an unknown route is a note, and a gateway that answers it otherwise is still a difference
    assert {(f.check, f.severity) for f in unknown.findings} == {("unknown-route", "note"), ("status", "failure")}
    assert session.book.get(("parity", "GET /items", "status", "har #1: status")) is not None


def test_unsafe_recorded_requests_follow_the_profile(tmp_path: Path) -> None:
    legacy, gateway = Fake(), Fake()
    session = _session(tmp_path, legacy, gateway, profile="smoke")
    post = next(e for e in plan_of(RECORDED, DOCUMENT).entries if e.method == "POST")
    with pytest.raises(UnsafeRequestError, match="the profile allows only GET, HEAD, OPTIONS"):
        HarReplay(session.judge(), session.ledger).replay(post)
    assert legacy.seen == [] and gateway.seen == []


def test_the_demo_fixture_is_a_browser_like_har_of_the_demo(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "contracts" / "demo-api.yaml").read_text())
    entries = read_har(ROOT / "fixtures" / "demo-session.har")
    plan = plan_of(entries, document)
    assert plan.prefixes == {"127.0.0.1:8080": "/api"}
    assert all(e.known for e in plan.entries) and len(plan.entries) >= 15
    assert {e.method for e in plan.entries} >= {"GET", "POST", "PATCH", "DELETE"}
    assert "CORS preflight" in " ".join(plan.figure()["ignored"])
    assert any("query access_token" in e.stripped for e in plan.entries)
    assert any("header authorization" in e.stripped for e in plan.entries)
    assert all(isinstance(e, HarEntry) for e in plan.entries)


def test_the_terminal_line_says_what_was_replayed_and_what_was_left_out() -> None:
    from lockstep.report.har_lines import har_lines

    plan = plan_of(RECORDED + [entry("OPTIONS", "https://gw.example.com/api/items",
                                     {"Access-Control-Request-Method": "POST"})], DOCUMENT, file="rec/s.har")
    figures = {"har": {"plan": plan.figure(), "#1 GET /items": {"verdict": "same"},
                       "#2 POST /items": {"verdict": "skipped"}, "#3 unknown GET /nowhere/at-all": {"verdict": "differs"},
                       "#4 GET /users/me": {"verdict": "not judged: transport"}}}
    [line] = har_lines(figures)
    assert line == ("har: s.har: 3 of 5 requests replayed (1 differs, 1 not judged, 1 same), 1 unknown route(s); "
                    "left out: 1 CORS preflight, 1 unsafe for the profile")
    assert har_lines({}) == []
