"""The nginx demo gateway served: it starts and stops cleanly, answers like the Python gateway, and each
fault's nginx form shows the symptom its description names (the probes of tests/test_demo_faults.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from lockstep.demo import DemoStack
from lockstep.demo.nginx import NGINX_FAULTS, process
from tests.test_demo_faults import PROBES, auth_scheme_case_sensitive, cors_preflight_needs_auth, \
    drop_null_fields, status_rewrite
from tests.test_demo_stack import GREETED, greeted_through, port_open, process_gone

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "https://app.example.com"
NOISE = {"request_id", "time", "last_seen", "created_at", "updated_at", "id"}
COMPARED = ("content-type", "cache-control", "etag", "allow", "www-authenticate", "vary", "via", "retry-after",
            "access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
            "access-control-allow-headers", "access-control-max-age", "access-control-expose-headers")

pytestmark = [pytest.mark.servers,
              pytest.mark.skipif(process.find_binary() is None or process.find_module() is None,
                                 reason=f"nginx with njs is not installed ({process.INSTALL})")]


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        yield http


@pytest.fixture(scope="module")
def stacks() -> Iterator[dict[str, DemoStack]]:
    with DemoStack() as python, DemoStack(gateway="nginx") as nginx:
        yield {"python": python, "nginx": nginx}


def unsigned(stack: DemoStack) -> str:
    now = int(time.time())
    claims = {"iss": stack.issuer, "aud": stack.audience, "sub": "demo-user", "scope": "profile", "iat": now,
              "exp": now + 300}
    return jwt.encode(claims, None, algorithm="none", headers={"kid": stack.kid})


def expired(stack: DemoStack) -> str:
    past = int(time.time()) - 3600
    return stack.mint(iat=past - 900, nbf=past - 900, exp=past)


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type"}


# name -> (method, path, headers made for a stack, JSON body)
REQUESTS: dict[str, tuple[str, str, Any, Any]] = {
    "routed GET": ("GET", "/recipes?tag=vegan&q=salt%2Bpepper", lambda s: {"Origin": ORIGIN}, None),
    "paged Link": ("GET", "/recipes?per_page=3&page=2", lambda s: {}, None),
    "HEAD": ("HEAD", "/recipes/r-004", lambda s: {}, None),
    "alias": ("GET", "/v1/recipes/r-004", lambda s: {}, None),
    "404 route": ("GET", "/nope/x", lambda s: {"Origin": ORIGIN}, None),
    "405": ("DELETE", "/recipes", lambda s: {}, None),
    "TRACE (nginx refuses it itself)": ("TRACE", "/subscriptions/x", lambda s: {"Origin": ORIGIN}, None),
    "plain OPTIONS": ("OPTIONS", "/subscriptions", lambda s: {}, None),
    "preflight allowed": ("OPTIONS", "/subscriptions", lambda s: preflight(ORIGIN), None),
    "preflight refused": ("OPTIONS", "/subscriptions", lambda s: preflight("https://app.example.com.evil"), None),
    "401 no token": ("GET", "/users/me", lambda s: {"Origin": ORIGIN}, None),
    "valid token": ("GET", "/users/me", lambda s: {"Authorization": f"Bearer {s.token()}"}, None),
    "public, token optional": ("GET", "/greeting", lambda s: {"Authorization": f"Bearer {s.token()}"}, None),
    "public, bad token": ("GET", "/greeting", lambda s: {"Authorization": "Bearer x.y.z", "X-User-Id": "o"}, None),
    "bearer lower-case": ("GET", "/users/me", lambda s: {"Authorization": f"bearer {s.token()}"}, None),
    "expired token": ("GET", "/users/me", lambda s: {"Authorization": f"Bearer {expired(s)}"}, None),
    "alg none": ("GET", "/users/me", lambda s: {"Authorization": f"Bearer {unsigned(s)}"}, None),
    "403 scope": ("GET", "/subscriptions", lambda s: {"Authorization": f"Bearer {s.token(['profile'])}"}, None),
    "malformed": ("GET", "/users/me", lambda s: {"Authorization": "Bearer a b"}, None),
    "token in query too": ("GET", "/users/me?access_token=x", lambda s: {"Authorization": f"Bearer {s.token()}"},
                           None),
    "api key only": ("POST", "/deliveries/d-1002/skip", lambda s: {"X-Api-Key": "partner-key"}, None),
    "bearer-only route": ("GET", "/deliveries/d-1001", lambda s: {"Authorization": f"Bearer {s.token([])}"}, None),
    "created": ("POST", "/subscriptions", lambda s: {"Authorization": f"Bearer {s.token()}"},
                {"plan": "fit", "servings": 2, "meals_per_week": 2, "delivery_day": "friday", "note": None}),
    "422": ("POST", "/subscriptions", lambda s: {"Authorization": f"Bearer {s.token()}"}, {"plan": "x"}),
}


def comparable(stack: DemoStack, answer: httpx.Response) -> tuple[Any, ...]:
    base = stack.gateway_url
    headers = {h: answer.headers.get(h) for h in COMPARED}
    for name in ("location", "link"):  # each gateway's own base, a created id is noise
        headers[name] = re.sub(r"[0-9a-f-]{36}", "{id}", (answer.headers.get(name) or "").replace(base, "{gateway}"))
    body: Any = answer.content
    if answer.headers.get("content-type") == "application/json" and body:
        body = strip_noise(answer.json())
    return answer.status_code, headers, body


def strip_noise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_noise(v) for k, v in value.items() if k not in NOISE}
    return [strip_noise(v) for v in value] if isinstance(value, list) else value


@pytest.mark.parametrize("name", list(REQUESTS))
def test_nginx_answers_like_the_python_gateway(stacks: dict[str, DemoStack], client: httpx.Client,
                                              name: str) -> None:
    method, path, headers, body = REQUESTS[name]
    answers = {}
    for kind, stack in stacks.items():
        stack.reset()
        answer = client.request(method, stack.gateway_url + path, headers=headers(stack), json=body)
        answers[kind] = comparable(stack, answer)
    assert answers["nginx"] == answers["python"]


def test_both_gateways_protect_the_bearer_and_api_key_operations(stacks: dict[str, DemoStack],
                                                                 client: httpx.Client) -> None:
    for stack in stacks.values():
        for method, path in (("GET", "/deliveries/d-1001"), ("POST", "/deliveries/d-1002/skip"),
                             ("DELETE", "/subscriptions/5f0c6a9e-1b7e-4c2a-9d3f-0a1b2c3d4e02")):
            refused = client.request(method, stack.gateway_url + path, headers={"X-Api-Key": "k"})
            assert refused.status_code == 401, (stack.gateway_kind, path)
            token = {"Authorization": f"Bearer {stack.token(['profile'])}"}  # no particular scope needed
            assert client.request(method, stack.gateway_url + path, headers=token).status_code in (200, 204)
        stack.reset()


def test_rate_limit_429_carries_cors_and_retry_after(client: httpx.Client) -> None:
    with DemoStack(rate_limit="3/min", gateway="nginx") as limited:
        answers = [client.get(f"{limited.gateway_url}/menus", headers={"Origin": ORIGIN}) for _ in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        refused = answers[3]
        assert refused.json()["error"]["code"] == "rate_limited" and refused.headers["retry-after"] == "20"
        assert refused.headers["access-control-allow-origin"] == ORIGIN and refused.headers["vary"] == "Origin"
        assert client.get(f"{limited.gateway_url}/health").status_code == 200  # a bucket per operation


def test_client_identity_headers_never_reach_the_legacy(stacks: dict[str, DemoStack], client: httpx.Client) -> None:
    nginx = stacks["nginx"]
    forged = [("X-User-Id", "evil"), ("x-user-id", "evil2"), ("X_User_Id", "evil3"), ("X-Forwarded-User", "e")]
    nginx.clear_upstream_log()
    client.get(f"{nginx.gateway_url}/users/me", headers=forged + [("Authorization", f"Bearer {nginx.token()}")])
    client.get(f"{nginx.gateway_url}/health", headers=forged)
    protected, public = nginx.upstream_log()
    assert protected["headers"]["x-user-id"] == "demo-user" and "authorization" not in protected["headers"]
    assert not {"x-user-id", "x_user_id", "x-forwarded-user"} & set(public["headers"])


def test_public_route_takes_an_optional_token_and_never_a_client_identity(stacks: dict[str, DemoStack],
                                                                         client: httpx.Client) -> None:
    nginx = stacks["nginx"]
    nginx.clear_upstream_log()
    # where nginx bites: Authorization is a singleton header to nginx, which refuses a repeated one itself
    # (400, before any location runs); the python gateway treats two tokens as none
    assert greeted_through(nginx, client) == {**GREETED, "two tokens": 400}
    sent = [e["headers"] for e in nginx.upstream_log()]
    assert [h.get("x-user-id") for h in sent] == [v for k, v in GREETED.items() if k != "two tokens"]
    assert not any("x-forwarded-user" in h or "authorization" in h for h in sent)


# ---------------------------------------------------------------- lifecycle

def nginx_alive(pid: int | None) -> bool:
    return pid is not None and not process_gone(pid)


def test_start_and_stop_leave_no_nginx_no_port_and_no_directory() -> None:
    stack = DemoStack(gateway="nginx").start()
    pid, url = stack.gateway_pid, stack.gateway_url
    assert pid is not None and pid != stack.pid
    prefix = prefix_of(pid)
    assert Path(f"/proc/{pid}/exe").resolve().name == "nginx" and (prefix / "nginx.conf").is_file()
    assert port_open(url)
    stack.stop()
    stack.stop()
    assert not nginx_alive(pid) and not port_open(url) and not prefix.exists()


def wait_gone(pids: list[int], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while any(nginx_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(nginx_alive(p) for p in pids)


def prefix_of(pid: int) -> Path:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return Path(argv[argv.index(b"-p") + 1].decode())


def test_nginx_dies_with_a_killed_demo_child() -> None:
    stack = DemoStack(gateway="nginx").start()
    try:
        assert stack.pid is not None and stack.gateway_pid is not None
        prefix = prefix_of(stack.gateway_pid)
        os.kill(stack.pid, signal.SIGKILL)  # no cleanup: the kernel's parent-death signal must do it
        assert wait_gone([stack.gateway_pid]), "nginx outlived the demo's child"
    finally:
        stack.stop()
    assert not prefix.exists()  # the parent removes what the killed child could not


def test_nginx_dies_with_the_parent_of_the_stack() -> None:
    code = ("from lockstep.demo import DemoStack; import time; s = DemoStack(gateway='nginx').start(); "
            "print(s.pid, s.gateway_pid, s.gateway_url, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    with parent:
        try:
            assert parent.stdout is not None
            child, nginx, url = parent.stdout.readline().split()
        finally:
            parent.kill()
    assert wait_gone([int(child), int(nginx)]) and not port_open(url)


def test_cli_runs_the_nginx_gateway() -> None:
    cli = subprocess.Popen([sys.executable, "-m", "lockstep.demo", "--gateway", "nginx"], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert cli.stdout is not None
        lines = [cli.stdout.readline() for _ in range(4)]
        gateway = lines[1].split()[1]
        assert lines[1].startswith("gateway: http://127.0.0.1:") and "(nginx gateway)" in lines[3]
        assert httpx.get(f"{gateway}/health", trust_env=False, timeout=10).status_code == 200
    finally:
        cli.send_signal(signal.SIGINT)
        cli.communicate(timeout=20)
    assert not port_open(gateway)


# ---------------------------------------------------------------- the faults' nginx forms

GATEWAY_FAULTS = [f for f in NGINX_FAULTS if f in PROBES]


def test_every_gateway_fault_has_a_probe() -> None:
    assert set(NGINX_FAULTS) - set(GATEWAY_FAULTS) <= {"auth-slow-signing", "auth-pool-exhausted"}


@pytest.mark.parametrize("fault", GATEWAY_FAULTS)
def test_the_nginx_form_shows_the_symptom(fault: str, stacks: dict[str, DemoStack], client: httpx.Client) -> None:
    probe = PROBES[fault]
    assert not probe(stacks["nginx"], client), f"the faithful nginx shows the symptom of {fault}"
    with DemoStack([fault], gateway="nginx") as faulty:
        assert probe(faulty, client), fault


def test_nginx_faults_combine(client: httpx.Client) -> None:
    faults = ["status-rewrite", "cors-preflight-needs-auth", "drop-null-fields", "auth-scheme-case-sensitive"]
    with DemoStack(faults, gateway="nginx") as faulty:
        for probe in (status_rewrite, cors_preflight_needs_auth, drop_null_fields, auth_scheme_case_sensitive):
            assert probe(faulty, client), probe.__name__
