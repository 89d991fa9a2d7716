"""Self-tests of the embedded demo stack: lifecycle, the faithful gateway, auth, identity, CORS, limits."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from lockstep.demo import KNOWN_FAULTS, DemoStack, UnknownFaultError
from lockstep.demo.legacy import DAYS, HANDLERS, LOCALES, PLANS, STATUSES, TAGS
from lockstep.demo.routes import Operation, RouteTable, load_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = load_spec()
OPERATIONS = sorted(RouteTable.from_spec(SPEC).operations(), key=lambda op: op.operation_id)
NOISE_KEYS = {"request_id", "time", "last_seen", "created_at", "updated_at"}
ALLOWED_ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def stack() -> Iterator[DemoStack]:
    with DemoStack() as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        yield http


@pytest.fixture(scope="module")
def token(stack: DemoStack) -> str:
    return stack.token()


def bearer(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


# ---------------------------------------------------------------- lifecycle

def port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((parts.hostname or "127.0.0.1", parts.port or 80)) == 0


def test_start_and_stop_leave_no_process_or_port() -> None:
    demo = DemoStack().start()
    urls, pid = [demo.legacy_url, demo.gateway_url, demo.auth_url], demo.pid
    assert all(u.startswith("http://127.0.0.1:") for u in urls) and pid
    assert all(port_open(u) for u in urls)
    demo.stop()
    demo.stop()  # idempotent
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not any(port_open(u) for u in urls)


def process_gone(pid: int) -> bool:
    """Exited: no /proc entry, or a zombie nobody reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_child_exits_when_its_parent_dies() -> None:
    parent_code = "from lockstep.demo import DemoStack; import time; s = DemoStack().start(); " \
                  "print(s.pid, s.gateway_url, flush=True); time.sleep(60)"
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    with parent:
        try:
            assert parent.stdout is not None
            pid_text, gateway_url = parent.stdout.readline().split()
        finally:
            parent.kill()  # no chance to clean up: the child must notice by itself
    deadline = time.monotonic() + 5
    while not process_gone(int(pid_text)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process_gone(int(pid_text)) and not port_open(gateway_url)


def test_unknown_fault_is_refused_with_the_known_names() -> None:
    with pytest.raises(UnknownFaultError) as caught:
        DemoStack(["drop-cache-control", "nope"])
    assert "'nope'" in str(caught.value)
    assert all(name in str(caught.value) for name in KNOWN_FAULTS)


def test_bad_rate_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="not of the form N/s or N/min"):
        DemoStack(rate_limit="fast")


def test_cli_unknown_fault_exits_2_with_one_line() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "lockstep.demo", "--faults", "nope"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lockstep.demo: unknown fault 'nope'; known: missing-route")


def test_signing_key_only_in_the_ready_line(stack: DemoStack) -> None:
    assert stack.signing_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert stack.kid and "PRIVATE" not in repr(stack)


# ---------------------------------------------------------------- the document and the legacy

def test_document_operations_are_all_implemented() -> None:
    ids = {op.operation_id for op in OPERATIONS}
    assert len(ids) >= 16 and ids == set(HANDLERS)


def test_legacy_vocabularies_match_the_document() -> None:
    schemas = SPEC["components"]["schemas"]
    assert tuple(schemas["Tag"]["enum"]) == TAGS and tuple(schemas["Plan"]["enum"]) == PLANS
    assert tuple(schemas["DeliveryDay"]["enum"]) == DAYS and tuple(schemas["DeliveryStatus"]["enum"]) == STATUSES
    assert tuple(schemas["Locale"]["enum"]) == LOCALES


# ---------------------------------------------------------------- faithful relay of every operation

def resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    found: Any = SPEC
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return found


def example_value(param: dict[str, Any]) -> Any:
    if "example" in param:
        return param["example"]
    return next(iter(param["examples"].values()))["value"]


def example_request(op: Operation) -> tuple[str, list[tuple[str, Any]], Any]:
    """Path, query and JSON body of the document's own examples for `op`."""
    item = SPEC["paths"][op.path]
    doc = item[op.method.lower()]
    path, query = op.path, []
    for param in map(resolve, item.get("parameters", []) + doc.get("parameters", [])):
        value = example_value(param)
        if param["in"] == "path":
            path = path.replace("{" + param["name"] + "}", str(value))
        else:
            query += [(param["name"], v) for v in (value if isinstance(value, list) else [value])]
    body = doc.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")
    return path, query, body


def without_noise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_noise(v) for k, v in value.items() if k not in NOISE_KEYS}
    if isinstance(value, list):
        return [without_noise(v) for v in value]
    return value


def comparable(op: Operation, response: httpx.Response) -> Any:
    if not response.content:
        return None
    body = without_noise(response.json())
    if op.operation_id == "createSubscription":
        body.pop("id")
    if op.operation_id == "getMenu":
        body["recipes"].sort(key=lambda r: r["id"])  # the legacy shuffles it: order is noise
    return body


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_faithful_gateway_relays_every_operation(stack: DemoStack, client: httpx.Client, token: str,
                                                 op: Operation) -> None:
    path, query, body = example_request(op)
    answers = []
    for base, headers in ((stack.legacy_url, {"X-User-Id": "demo-user"}), (stack.gateway_url, bearer(token))):
        stack.reset()  # writes consume state: each target starts from the seed
        answers.append(client.request(op.method, base + path, params=query, json=body, headers=headers))
    legacy, gateway = answers
    assert 200 <= legacy.status_code < 300, legacy.text
    assert gateway.status_code == legacy.status_code
    assert comparable(op, gateway) == comparable(op, legacy)
    for name in ("content-type", "cache-control", "etag", "allow"):
        assert gateway.headers.get(name) == legacy.headers.get(name), name
    assert gateway.headers["via"] == "1.1 lockstep-gateway" and gateway.headers["x-request-id"]


def test_location_and_link_name_the_gateway(stack: DemoStack, client: httpx.Client, token: str) -> None:
    listing = client.get(f"{stack.gateway_url}/recipes", params={"per_page": 5, "page": 2})
    assert f'<{stack.gateway_url}/recipes?page=3&per_page=5>; rel="next"' in listing.headers["link"]
    assert stack.legacy_url not in listing.headers["link"]
    created = client.post(f"{stack.gateway_url}/subscriptions", headers=bearer(token),
                          json={"plan": "fit", "servings": 2, "meals_per_week": 2, "delivery_day": "friday"})
    assert created.headers["location"] == f"{stack.gateway_url}/subscriptions/{created.json()['id']}"
    stack.reset()


def test_query_bytes_reach_the_legacy_unchanged(stack: DemoStack, client: httpx.Client) -> None:
    for q in ("salt+pepper", "herb/garlic", "a b&c=d"):
        answer = client.get(f"{stack.gateway_url}/recipes", params={"q": q})
        assert answer.json()["query"]["q"] == q
    plus = client.get(f"{stack.gateway_url}/recipes", params={"q": "salt+pepper"}).json()
    assert [r["id"] for r in plus["items"]] == ["r-004"]


def test_gateway_404_405_and_plain_options_agree_with_legacy(stack: DemoStack, client: httpx.Client) -> None:
    cases = (("GET", "/nope"), ("GET", "/health%0A"), ("GET", "/menus/%0A"), ("DELETE", "/recipes"),
             ("OPTIONS", "/subscriptions"))
    for method, path in cases:
        legacy = client.request(method, stack.legacy_url + path)
        gateway = client.request(method, stack.gateway_url + path)
        assert gateway.status_code == legacy.status_code
        assert gateway.headers.get("allow") == legacy.headers.get("allow")
        if legacy.content:
            assert without_noise(gateway.json()) == without_noise(legacy.json())


def test_errors_use_the_error_schema(stack: DemoStack, client: httpx.Client, token: str) -> None:
    cases = [("GET", "/recipes/r-999", None), ("GET", "/recipes?per_page=99", None),
             ("POST", "/subscriptions", {"plan": "veggie"}), ("POST", "/subscriptions", "not json"),
             ("POST", "/deliveries/d-1005/skip", None), ("GET", "/menus/2030-W01", None)]
    for method, path, body in cases:
        content = body if isinstance(body, str) else None
        answer = client.request(method, stack.gateway_url + path, headers=bearer(token), content=content,
                                json=body if isinstance(body, dict) else None)
        assert 400 <= answer.status_code < 500 and answer.headers["content-type"] == "application/json"
        assert set(answer.json()["error"]) == {"code", "message", "request_id"}


def test_subscriptions_belong_to_their_user(stack: DemoStack, client: httpx.Client) -> None:
    other = stack.token(client="other-client")
    mine = client.get(f"{stack.gateway_url}/subscriptions", headers=bearer(other)).json()
    assert mine["total"] == 1
    seed_of_demo_user = "5f0c6a9e-1b7e-4c2a-9d3f-0a1b2c3d4e01"
    assert client.get(f"{stack.gateway_url}/subscriptions/{seed_of_demo_user}",
                      headers=bearer(other)).status_code == 404


def test_reset_restores_the_seed(stack: DemoStack, client: httpx.Client) -> None:
    user = {"X-User-Id": "demo-user"}
    client.delete(f"{stack.legacy_url}/subscriptions/5f0c6a9e-1b7e-4c2a-9d3f-0a1b2c3d4e02", headers=user)
    assert client.post(f"{stack.legacy_url}/deliveries/d-1002/skip", headers=user).status_code == 200
    assert client.post(f"{stack.legacy_url}/deliveries/d-1002/skip", headers=user).status_code == 409
    assert client.get(f"{stack.legacy_url}/__demo__/state").json()["subscriptions"]["demo-user"] == 1
    stack.reset()
    assert client.get(f"{stack.legacy_url}/__demo__/state").json()["subscriptions"]["demo-user"] == 2
    assert client.post(f"{stack.legacy_url}/deliveries/d-1002/skip", headers=user).status_code == 200
    stack.reset()


# ---------------------------------------------------------------- auth and identity

def test_auth_basics(stack: DemoStack, client: httpx.Client, token: str) -> None:
    me = f"{stack.gateway_url}/users/me"
    missing = client.get(me)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == 'Bearer realm="lockstep-demo"'
    for scheme in ("Bearer", "bearer", "BEARER"):
        assert client.get(me, headers=bearer(token, scheme)).status_code == 200, scheme
    scoped = client.get(me, headers=bearer(stack.token(["subscriptions:read"])))
    assert scoped.status_code == 403 and 'error="insufficient_scope"' in scoped.headers["www-authenticate"]
    assert client.get(f"{stack.gateway_url}/health").status_code == 200  # public: no token needed


@pytest.mark.parametrize("make_token", [
    pytest.param(lambda s: s.mint(exp=int(time.time()) - 3600, iat=int(time.time()) - 4000,
                                  nbf=int(time.time()) - 4000), id="expired"),
    pytest.param(lambda s: s.mint(aud="someone-else"), id="wrong-audience"),
    pytest.param(lambda s: s.mint(iss="https://evil.example"), id="wrong-issuer"),
    pytest.param(lambda s: s.mint(nbf=int(time.time()) + 3600), id="not-yet-valid"),
    pytest.param(lambda s: s.mint(exp=None), id="no-exp"),
    pytest.param(lambda s: jwt.encode({"sub": "demo-user", "iss": s.issuer, "aud": s.audience,
                                       "exp": int(time.time()) + 60}, None, algorithm="none"), id="alg-none"),
    pytest.param(lambda s: s.token()[:-4] + "AAAA", id="tampered-signature"),
    pytest.param(lambda s: "a.b.c", id="garbage"),
])
def test_bad_tokens_get_invalid_token(stack: DemoStack, client: httpx.Client, make_token: Any) -> None:
    answer = client.get(f"{stack.gateway_url}/users/me", headers=bearer(make_token(stack)))
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="lockstep-demo", error="invalid_token"'


def test_malformed_credentials_get_invalid_request(stack: DemoStack, client: httpx.Client, token: str) -> None:
    me = f"{stack.gateway_url}/users/me"
    twice = client.get(me, headers=[("Authorization", f"Bearer {token}"), ("Authorization", "Bearer x")])
    in_query = client.get(me, params={"access_token": token}, headers=bearer(token))
    for answer in (twice, in_query):
        assert answer.status_code == 400 and 'error="invalid_request"' in answer.headers["www-authenticate"]


def test_client_identity_headers_never_reach_upstream(stack: DemoStack, client: httpx.Client, token: str) -> None:
    forged = [("X-User-Id", "evil"), ("x-user-id", "evil2"), ("X-Forwarded-User", "evil"),
              ("X-Consumer-ID", "evil"), ("X-Authenticated-Userid", "evil")]
    stack.clear_upstream_log()
    client.get(f"{stack.gateway_url}/users/me", headers=forged + [("Authorization", f"Bearer {token}")])
    client.get(f"{stack.gateway_url}/health", headers=forged)
    protected, public = stack.upstream_log()
    assert protected["headers"]["x-user-id"] == "demo-user" and "authorization" not in protected["headers"]
    assert "x-user-id" not in public["headers"]
    for seen in (protected, public):
        assert not {"x-forwarded-user", "x-consumer-id", "x-authenticated-userid"} & set(seen["headers"])


def test_legacy_greeting_names_whoever_its_header_says(stack: DemoStack, client: httpx.Client) -> None:
    def greeted(user: str | None) -> Any:
        answer = client.get(f"{stack.legacy_url}/greeting", headers={"X-User-Id": user} if user else {})
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
        return answer.json()
    assert greeted("demo-user") == {"greeting": "Hello, Dana", "user": "demo-user"}
    assert greeted("other-user") == {"greeting": "Hello, Oscar", "user": "other-user"}
    assert greeted(None) == greeted("no-such-user") == {"greeting": "Hello, guest", "user": None}


FORGED = [("X-User-Id", "other-user"), ("x-user-id", "evil"), ("X-Forwarded-User", "other-user")]
# what a public route makes of the request's credentials: one valid bearer token names the caller
GREETED = {"no token": None, "valid token": "demo-user", "lower-case scheme": "demo-user", "invalid token": None,
           "expired token": None, "two tokens": None, "token in the query too": None, "basic": None}


def greeted_through(stack: DemoStack, client: httpx.Client) -> dict[str, Any]:
    """Whom the gateway's /greeting names, per credential sent (each request forging X-User-Id and friends);
    a refused request shows as its status."""
    token, past = stack.token(), int(time.time()) - 3600
    credentials: dict[str, list[tuple[str, str]]] = {
        "no token": [], "valid token": [("Authorization", f"Bearer {token}")],
        "lower-case scheme": [("Authorization", f"bearer {token}")],
        "invalid token": [("Authorization", "Bearer not.a.token")],
        "expired token": [("Authorization", f"Bearer {stack.mint(iat=past - 900, nbf=past - 900, exp=past)}")],
        "two tokens": [("Authorization", f"Bearer {token}")] * 2,
        "token in the query too": [("Authorization", f"Bearer {token}")], "basic": [("Authorization", "Basic eDp5")]}
    greeted = {}
    for name, headers in credentials.items():
        query = {"access_token": token} if name == "token in the query too" else None
        answer = client.get(f"{stack.gateway_url}/greeting", params=query, headers=FORGED + headers)
        greeted[name] = answer.json()["user"] if answer.status_code == 200 else answer.status_code
    return greeted


def test_public_route_takes_an_optional_token_and_never_a_client_identity(stack: DemoStack,
                                                                         client: httpx.Client) -> None:
    stack.clear_upstream_log()
    assert greeted_through(stack, client) == GREETED
    sent = [e["headers"] for e in stack.upstream_log()]
    assert [h.get("x-user-id") for h in sent] == list(GREETED.values())
    assert not any("x-forwarded-user" in h or "authorization" in h for h in sent)


# ---------------------------------------------------------------- CORS and rate limit

def test_cors_preflight_and_error_answers(stack: DemoStack, client: httpx.Client) -> None:
    url = f"{stack.gateway_url}/subscriptions/5f0c6a9e-1b7e-4c2a-9d3f-0a1b2c3d4e01"
    ask = {"Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization,content-type"}
    ok = client.options(url, headers={"Origin": ALLOWED_ORIGIN, **ask})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "PATCH" in ok.headers["access-control-allow-methods"].split(", ")
    assert "Authorization" in ok.headers["access-control-allow-headers"].split(", ")
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert ok.headers["access-control-max-age"] == "600"
    for origin in ("https://evil.example", "https://app.example.com.evil.com", "http://app.example.com", "null"):
        refused = client.options(url, headers={"Origin": origin, **ask})
        assert "access-control-allow-origin" not in refused.headers and refused.headers["vary"] == "Origin"
    for path in ("/users/me", "/nope"):  # gateway-made 401 and 404
        answer = client.get(stack.gateway_url + path, headers={"Origin": ALLOWED_ORIGIN})
        assert answer.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
        assert "WWW-Authenticate" in answer.headers["access-control-expose-headers"]
        assert answer.headers["vary"] == "Origin"


def test_rate_limit_and_upstream_delay() -> None:
    # 3/min: the 4th quick request is refused whatever the machine's speed (a per-second limit refills
    # while a loaded machine is slow)
    with DemoStack(rate_limit="3/min", upstream_delay_ms=60) as limited, \
            httpx.Client(trust_env=False, timeout=10.0) as http:
        started = time.monotonic()
        http.get(f"{limited.legacy_url}/health")
        assert time.monotonic() - started >= 0.06
        statuses = [http.get(f"{limited.gateway_url}/menus", headers={"Origin": ALLOWED_ORIGIN})
                    for _ in range(5)]
        assert [a.status_code for a in statuses] == [200, 200, 200, 429, 429]
        first = statuses[3]
        assert 1 <= int(first.headers["retry-after"]) <= 20 and first.json()["error"]["code"] == "rate_limited"
        assert first.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
