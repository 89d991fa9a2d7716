"""One direct HTTP probe per fault: with the fault alone the gateway shows the symptom, faithful it does not."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import jwt
import pytest

from lockstep.demo import KNOWN_FAULTS, DemoStack
from lockstep.demo.seed import SUB_DEMO_1

ORIGIN = "https://app.example.com"
Probe = Callable[[DemoStack, httpx.Client], bool]


def auth(stack: DemoStack, scheme: str = "Bearer", token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"{scheme} {token or stack.token()}"}


def missing_route(s: DemoStack, c: httpx.Client) -> bool:
    return c.get(f"{s.gateway_url}/deliveries/d-1001", headers=auth(s)).status_code == 404


def status_rewrite(s: DemoStack, c: httpx.Client) -> bool:
    body = {"plan": "veggie", "servings": 2, "meals_per_week": 3, "delivery_day": "monday"}
    status = c.post(f"{s.gateway_url}/subscriptions", json=body, headers=auth(s)).status_code
    s.reset()
    return status == 200


def drop_cache_control(s: DemoStack, c: httpx.Client) -> bool:
    return "cache-control" not in c.get(f"{s.gateway_url}/recipes/r-004").headers


def drop_null_fields(s: DemoStack, c: httpx.Client) -> bool:
    return "rating" not in c.get(f"{s.gateway_url}/recipes/r-004").json()  # r-004 has rating: null


def query_plus_decoded(s: DemoStack, c: httpx.Client) -> bool:
    echoed = c.get(f"{s.gateway_url}/recipes", params={"q": "salt+pepper"}).json()["query"]["q"]
    return echoed == "salt pepper"


def error_body_not_json(s: DemoStack, c: httpx.Client) -> bool:
    answer = c.get(f"{s.gateway_url}/recipes/r-999")
    return answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")


def preflight(s: DemoStack, c: httpx.Client, path: str, method: str) -> httpx.Response:
    return c.options(s.gateway_url + path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": method,
                                                    "Access-Control-Request-Headers": "authorization"})


def cors_no_authorization_header(s: DemoStack, c: httpx.Client) -> bool:
    allowed = preflight(s, c, "/users/me", "GET").headers.get("access-control-allow-headers", "")
    return "authorization" not in allowed.lower()


def cors_preflight_needs_auth(s: DemoStack, c: httpx.Client) -> bool:
    return preflight(s, c, "/subscriptions", "POST").status_code == 401


def cors_wildcard_with_credentials(s: DemoStack, c: httpx.Client) -> bool:
    headers = c.get(f"{s.gateway_url}/health", headers={"Origin": "https://evil.example"}).headers
    wildcard = headers.get("access-control-allow-origin") == "*"
    return wildcard and headers.get("access-control-allow-credentials") == "true"


def auth_open_route(s: DemoStack, c: httpx.Client) -> bool:
    s.clear_upstream_log()
    c.get(f"{s.gateway_url}/deliveries")  # no token
    return any(entry["path"] == "/deliveries" for entry in s.upstream_log())


def auth_scheme_case_sensitive(s: DemoStack, c: httpx.Client) -> bool:
    return c.get(f"{s.gateway_url}/users/me", headers=auth(s, "bearer")).status_code == 401


def auth_expired_accepted(s: DemoStack, c: httpx.Client) -> bool:
    past = int(time.time()) - 3600
    expired = s.mint(iat=past - 900, nbf=past - 900, exp=past)
    return c.get(f"{s.gateway_url}/users/me", headers=auth(s, token=expired)).status_code == 200


def auth_alg_none_accepted(s: DemoStack, c: httpx.Client) -> bool:
    now = int(time.time())
    claims = {"iss": s.issuer, "aud": s.audience, "sub": "demo-user", "scope": "profile", "iat": now, "exp": now + 300}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": s.kid})
    return c.get(f"{s.gateway_url}/users/me", headers=auth(s, token=unsigned)).status_code == 200


def drop_request_body_field(s: DemoStack, c: httpx.Client) -> bool:
    body = {"plan": "family", "servings": 4, "meals_per_week": 4, "delivery_day": "monday", "note": "Ring twice"}
    answer = c.put(f"{s.gateway_url}/subscriptions/{SUB_DEMO_1}", json=body, headers=auth(s))
    s.reset()
    return answer.json()["note"] != "Ring twice"


def slow_route(s: DemoStack, c: httpx.Client) -> bool:
    timings = []
    for _ in range(3):
        started = time.monotonic()
        c.get(f"{s.gateway_url}/recipes/r-004")
        timings.append(time.monotonic() - started)
    return min(timings) >= 0.14


def expose_internal(s: DemoStack, c: httpx.Client) -> bool:
    assert c.get(f"{s.legacy_url}/internal/stats").status_code == 200  # served inside, always
    return c.get(f"{s.gateway_url}/internal/stats").status_code == 200  # no token: the old DNS's way


def identity_trusted_on_public(s: DemoStack, c: httpx.Client) -> bool:
    """A public route greets whoever the client's X-User-Id names, token or not; a protected one still takes
    the caller from the token."""
    forged = {"X-User-Id": "other-user"}
    greeted = [c.get(f"{s.gateway_url}/greeting", headers={**forged, **token}).json()["user"]
               for token in ({}, auth(s))]
    me = c.get(f"{s.gateway_url}/users/me", headers={**forged, **auth(s)}).json()["id"]
    return greeted == ["other-user", "other-user"] and me == "demo-user"


PROBES: dict[str, Probe] = {
    "missing-route": missing_route, "status-rewrite": status_rewrite, "drop-cache-control": drop_cache_control,
    "drop-null-fields": drop_null_fields, "query-plus-decoded": query_plus_decoded,
    "error-body-not-json": error_body_not_json, "cors-no-authorization-header": cors_no_authorization_header,
    "cors-preflight-needs-auth": cors_preflight_needs_auth,
    "cors-wildcard-with-credentials": cors_wildcard_with_credentials, "auth-open-route": auth_open_route,
    "auth-scheme-case-sensitive": auth_scheme_case_sensitive, "auth-expired-accepted": auth_expired_accepted,
    "auth-alg-none-accepted": auth_alg_none_accepted, "drop-request-body-field": drop_request_body_field,
    "slow-route": slow_route, "expose-internal": expose_internal,
    "identity-trusted-on-public": identity_trusted_on_public,
}


class StackPool:
    """One stack per fault, started a little ahead of the test that needs it and stopped in the background.

    Starting a stack is mostly the child's imports; overlapping them with the previous test keeps the
    fault matrix fast without keeping every stack alive at once.
    """

    def __init__(self, faults: list[str], ahead: int = 2) -> None:
        self.order, self.ahead = faults, ahead
        self.executor = ThreadPoolExecutor(max_workers=ahead + 1)
        self.started: dict[str, Future[DemoStack]] = {}
        self.stopping: list[Future[None]] = []

    def take(self, fault: str) -> DemoStack:
        index = self.order.index(fault)
        for name in self.order[index:index + self.ahead + 1]:
            if name not in self.started:
                self.started[name] = self.executor.submit(DemoStack([name]).start)
        return self.started[fault].result(timeout=60)

    def release(self, fault: str) -> None:
        self.stopping.append(self.executor.submit(self.started[fault].result().stop))

    def close(self) -> None:
        for future in self.started.values():
            if future.exception(timeout=60) is None:
                future.result().stop()
        for stopping in self.stopping:
            stopping.result(timeout=30)
        self.executor.shutdown(wait=True)


@pytest.fixture(scope="module")
def stacks() -> Iterator[StackPool]:
    pool = StackPool(GATEWAY_FAULTS)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        yield http


@pytest.fixture(scope="module")
def faithful() -> Iterator[DemoStack]:
    with DemoStack() as running:
        yield running


# the auth service's faults show only under load: their probes are tests/load/probes.py's
GATEWAY_FAULTS = [f for f in KNOWN_FAULTS if f not in ("auth-slow-signing", "auth-pool-exhausted")]


def test_every_fault_has_a_probe_and_a_description() -> None:
    assert set(PROBES) == set(GATEWAY_FAULTS)
    assert all(desc and "\n" not in desc for desc in KNOWN_FAULTS.values())


@pytest.mark.parametrize("fault", GATEWAY_FAULTS)
def test_fault_alone_shows_its_symptom(fault: str, faithful: DemoStack, client: httpx.Client,
                                      stacks: StackPool) -> None:
    probe = PROBES[fault]
    assert not probe(faithful, client), f"the faithful gateway shows the symptom of {fault}"
    faulty = stacks.take(fault)
    try:
        assert faulty.faults == (fault,)
        assert probe(faulty, client), f"{fault}: {KNOWN_FAULTS[fault]}"
    finally:
        stacks.release(fault)


def test_faults_combine(client: httpx.Client) -> None:
    with DemoStack(["drop-cache-control", "drop-null-fields", "auth-scheme-case-sensitive"]) as faulty:
        assert drop_cache_control(faulty, client) and drop_null_fields(faulty, client)
        assert auth_scheme_case_sensitive(faulty, client)
