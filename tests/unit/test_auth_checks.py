"""The auth checks against fake gateways: real HTTP servers on 127.0.0.1 (http.server in a thread).

A correct fake gateway must give no finding at all; each broken one (alg none accepted, a case-sensitive
scheme, exp not checked, a trusted X-User-Id, scopes not enforced, an open route ...) must be caught by the
right check, with the variant named, and no token in anything a report would show.
"""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lockstep.checks.auth import auth_path, bearer_challenge, judge, material_for, skip_reason
from lockstep.checks.registry import FlowContext, checks_for
from lockstep.operations import Operation
from lockstep.session import LockstepSession
from lockstep.settings import resolve_settings
from lockstep.tokens import CHALLENGE, INVALID_TOKEN, REFUSED, Variant

from .helpers import answer

ISSUER, AUDIENCE, KID = "https://issuer.test", "lockstep-test-api", "test-kid-1"
ORIGIN = "https://app.test"
USERS = {"alice": {"id": "alice", "name": "Alice", "email": "alice@example.test"},
         "mallory": {"id": "mallory", "name": "Mallory", "email": "mallory@example.test"}}
ME = Operation("GET", "/users/me", "getMe", ("users",), (("oauth2", ("profile",)),), "/users/me", False)
THINGS = Operation("GET", "/things", "listThings", ("things",), None, "/things", False)
DELETE = Operation("DELETE", "/things/{thing_id}", "deleteThing", ("things",), (("oauth2", ("things:write",)),),
                   "/things/42", False)
ROUTES = {("GET", "/users/me"): ("profile",), ("GET", "/things"): None, ("DELETE", "/things/"): ("things:write",)}

_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_PEM = _PRIVATE.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
JWKS = {"keys": [{**json.loads(RSAAlgorithm.to_jwk(_PRIVATE.public_key())), "kid": KID, "alg": "RS256"}]}


def token_for(sub="alice", scope="profile things:write", **extra) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "scope": scope, "iat": now, "nbf": now,
              "exp": now + 900, **extra}
    return jwt.encode(claims, _PRIVATE, algorithm="RS256", headers={"kid": KID})


# ---------------------------------------------------------------- the fakes

def legacy_answer(method: str, path: str, user: str | None) -> tuple[int, dict]:
    """What the fake legacy answers: it trusts X-User-Id, as the old session layer did."""
    if (method, path) == ("GET", "/things"):
        return 200, {"items": []}
    if method == "DELETE" and path.startswith("/things/"):
        return (401, {"error": "unauthorized"}) if user is None else (404, {"error": "not_found"})
    if (method, path) == ("GET", "/users/me"):
        if user is None:
            return 401, {"error": "unauthorized"}
        if user not in USERS:
            return 404, {"error": "not_found"}
        return 200, {**USERS[user], "seen": time.time()}  # `seen` is noise
    return 404, {"error": "not_found"}


@dataclass
class Faults:
    accept_none: bool = False
    case_sensitive: bool = False
    check_exp: bool = True
    trust_identity: bool = False
    enforce_scopes: bool = True
    cors_on_errors: bool = True
    public_needs_token: bool = False
    open_me: bool = False  # GET /users/me forwarded without auth (and without identity)
    crash_on_bad_header: bool = False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: without it, 40 ms delayed ACKs
    role = "legacy"
    faults = Faults()

    def log_message(self, *args) -> None:  # quiet
        pass

    def reply(self, status: int, body: dict | None, headers: dict | None = None, *, cors: bool = True) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.role == "gateway" and cors and self.headers.get("Origin") == ORIGIN:
            self.send_header("Access-Control-Allow-Origin", ORIGIN)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Vary", "Origin")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self) -> None:
        if int(self.headers.get("Content-Length") or 0):
            self.rfile.read(int(self.headers["Content-Length"]))
        url = urlsplit(self.path)
        if self.role == "legacy":
            self.reply(*legacy_answer(self.command, url.path, self.headers.get("X-User-Id")))
        elif url.path == "/.well-known/jwks.json":
            self.reply(200, JWKS)
        else:
            try:
                self.gateway(url.path, parse_qs(url.query))
            except Exception:  # a gateway bug: answered 500, as real gateways do
                self.reply(500, {"error": "internal"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

    def challenge(self, status: int, error: str | None, **params: str) -> None:
        value = 'Bearer realm="fake"' + (f', error="{error}"' if error else "")
        value += "".join(f', {k}="{v}"' for k, v in params.items())
        self.reply(status, {"error": error or "unauthorized"}, {"WWW-Authenticate": value},
                   cors=self.faults.cors_on_errors)

    def gateway(self, path: str, query: dict) -> None:
        f = self.faults
        key = (self.command, path if not path.startswith("/things/") else "/things/")
        if key not in ROUTES:
            return self.reply(404, {"error": "not_found"})
        scopes = ROUTES[key]
        if scopes is None and not f.public_needs_token or (f.open_me and key == ("GET", "/users/me")):
            return self.forward(path, None)
        values = self.headers.get_all("Authorization") or []
        if len(values) > 1 or (values and "access_token" in query):
            return self.challenge(400, "invalid_request")
        if not values:
            return self.challenge(401, None)
        scheme, _, rest = values[0].partition(" ")
        if not (scheme == "Bearer" if f.case_sensitive else scheme.lower() == "bearer"):
            return self.challenge(401, None)
        token = rest.strip(" ")
        if not token or " " in token:
            return self.challenge(400, "invalid_request")
        claims = self.verify(token)
        if claims is None:
            return self.challenge(401, "invalid_token")
        granted = str(claims.get("scope", "")).split()
        if f.enforce_scopes and any(s not in granted for s in scopes or ()):
            return self.challenge(403, "insufficient_scope", scope=" ".join(scopes or ()))
        user = claims["sub"]
        if f.trust_identity and self.headers.get("X-User-Id"):
            user = self.headers["X-User-Id"]
        self.forward(path, user)

    def verify(self, token: str) -> dict | None:
        f = self.faults
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            if f.crash_on_bad_header:
                raise
            return None
        alg = header.get("alg")
        options = {"require": ["exp", "iss", "aud", "sub"], "verify_exp": f.check_exp}
        try:
            if f.accept_none and isinstance(alg, str) and alg.lower() == "none":
                return jwt.decode(token, options={**options, "verify_signature": False}, audience=AUDIENCE,
                                  issuer=ISSUER)
            if alg != "RS256" or header.get("kid") != KID:
                return None
            return jwt.decode(token, _PRIVATE.public_key(), algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER,
                              leeway=30, options=options)
        except Exception:
            return None

    def forward(self, path: str, user: str | None) -> None:
        self.reply(*legacy_answer(self.command, path, user))


@contextmanager
def server(role: str, faults: Faults | None = None) -> Iterator[str]:
    handler = type(f"{role.title()}Handler", (Handler,), {"role": role, "faults": faults or Faults()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def legacy_url():
    with server("legacy") as url:
        yield url


@contextmanager
def session_for(tmp_path, legacy_url: str, faults: Faults | None = None, *, key: bool = True,
                cors: bool = True) -> Iterator[LockstepSession]:
    with server("gateway", faults) as gateway_url:
        (tmp_path / "api.yaml").write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
        contract = {
            "spec": "api.yaml",
            "targets": {"legacy": {"url": legacy_url, "headers": {"X-User-Id": "alice"}},
                        "gateway": {"url": gateway_url, "auth": {"bearer": "${TEST_GATEWAY_TOKEN}"}}},
            "auth": {"issuer": ISSUER, "audience": AUDIENCE, "jwks_url": f"{gateway_url}/.well-known/jwks.json",
                     "kid": KID, "other_identity": "mallory", "latency_samples": 5, "burst_requests": 16,
                     **({"signing_key": "${TEST_SIGNING_KEY}"} if key else {})},
            **({"cors": {"origins": [ORIGIN], "credentials": True}} if cors else {}),
        }
        path = tmp_path / "migration.yaml"
        path.write_text(json.dumps(contract))  # JSON is YAML
        env = {"TEST_GATEWAY_TOKEN": token_for(), "TEST_SIGNING_KEY": KEY_PEM}
        settings = resolve_settings(contract=str(path), legacy_url=None, gateway_url=None, profile="staging",
                                    seed="1", demo_faults=None, max_examples=None, env=env)
        session = LockstepSession(settings)
        session.start()
        try:
            yield session
        finally:
            session.close()


def run(session: LockstepSession, name: str, operation: Operation) -> list:
    registered = next(c for c in checks_for("auth") if c.name == name)
    return list(registered.func(FlowContext("auth", operation, session, check_name=name)))


ALL = ["refuse-forged", "refuse-claims", "scheme-case", "scope-403", "public-open", "identity-headers",
       "errors-carry-cors", "latency", "burst"]


def assert_no_secret(findings: list) -> None:
    text = json.dumps([f.to_dict() for f in findings])
    assert "eyJ" not in text and KEY_PEM[40:80] not in text


# ---------------------------------------------------------------- a correct gateway passes

def test_a_correct_gateway_gives_no_finding_at_all(tmp_path, legacy_url):
    with session_for(tmp_path, legacy_url) as session:
        found = [f for name in ALL for op in (ME, THINGS, DELETE) for f in run(session, name, op)]
        assert found == [], "\n".join(f.headline() for f in found)
        figures = session.figures["auth"]
        assert set(figures["latency GET /users/me"]) >= {"legacy", "gateway", "overhead_p95_ms"}
        assert figures["burst"]["invalid_statuses"] == {"401": 16}
        assert figures["burst"]["valid_under_burst"]["p95_ms"] > 0
        assert "variants not run" not in figures  # key, JWKS and token were all there
        assert session.cases["DELETE /things/{thing_id}"] > 50


def test_writes_go_to_a_resource_that_does_not_exist():
    assert auth_path(DELETE) == "/things/987654321"
    assert auth_path(ME) == "/users/me"


# ---------------------------------------------------------------- each broken gateway is caught, variant named

@pytest.mark.parametrize("faults, name, operation, check, variant, also", [
    (Faults(accept_none=True), "refuse-forged", ME, "token-accepted", "alg-none",
     ["alg-none-title", "alg-none-upper", "alg-none-mixed"]),
    (Faults(accept_none=True), "refuse-forged", DELETE, "token-accepted", "alg-none", ["alg-none-mixed"]),
    (Faults(case_sensitive=True), "scheme-case", ME, "scheme-case-refused", "scheme-lower",
     ["scheme-upper", "scheme-mixed"]),
    (Faults(check_exp=False), "refuse-claims", ME, "token-accepted", "expired", ["exp-negative"]),
    (Faults(enforce_scopes=False), "scope-403", ME, "scope-not-enforced", "scope-lacking", []),
    (Faults(trust_identity=True), "identity-headers", ME, "identity-header-trusted", "X-User-Id",
     ["x-user-id (lower case)", "X-User-Id twice"]),
    (Faults(public_needs_token=True), "public-open", THINGS, "public-refused", None, []),
    (Faults(cors_on_errors=False), "errors-carry-cors", ME, "auth-error-without-cors", "sig-flipped",
     ["scope-lacking"]),
    (Faults(open_me=True), "refuse-forged", ME, "route-not-protected", "missing", []),
    (Faults(crash_on_bad_header=True), "refuse-forged", ME, "server-error", "jws-one-segment",
     ["jws-non-json-header", "jws-bad-base64url"]),
])
def test_a_broken_gateway_is_caught_with_the_variant_named(tmp_path, legacy_url, faults, name, operation, check,
                                                           variant, also):
    with session_for(tmp_path, legacy_url, faults) as session:
        found = run(session, name, operation)
    failing = [f for f in found if f.failing]
    assert [f.check for f in failing] == [check], "\n".join(f.headline() for f in found)
    if variant is not None:
        assert failing[0].location == f"variant {variant}"
    for other in also:
        assert other in failing[0].message
    assert_no_secret(found)


def test_a_correct_gateway_is_not_blamed_for_the_faults_of_another_line(tmp_path, legacy_url):
    """alg none accepted: the forged line fails, the scheme and claims lines do not."""
    with session_for(tmp_path, legacy_url, Faults(accept_none=True)) as session:
        assert run(session, "scheme-case", ME) == []
        assert run(session, "refuse-claims", ME) == []
        forged = run(session, "refuse-forged", ME)
    assert {f.check for f in forged} == {"token-accepted"}
    named = forged[0].message
    assert "alg-none-with-signature (" in named  # unverified: the kept signature does not matter
    assert "sig-flipped (" not in named and "jws-no-alg (" not in named and "expired (" not in named


# ---------------------------------------------------------------- without the key

def test_without_the_signing_key_its_lines_are_skipped_saying_why(tmp_path, legacy_url):
    with session_for(tmp_path, legacy_url, key=False) as session:
        reason = skip_reason(session, ME, "key")
        assert reason and "signing_key" in reason and "AUTH_SIGNING_KEY" in reason
        assert run(session, "refuse-claims", ME) == [] and run(session, "scope-403", ME) == []
        assert run(session, "refuse-forged", ME) == []  # everything else still runs
        not_run = session.figures["auth"]["variants not run"]
        assert "expired" in not_run and "signing_key" in not_run["expired"]
        assert skip_reason(session, ME, "token", "loopback") is None


def test_without_a_cors_policy_that_line_is_skipped(tmp_path, legacy_url):
    with session_for(tmp_path, legacy_url, cors=False) as session:
        assert "cors" in skip_reason(session, ME, "cors")


def test_the_material_reads_the_key_jwks_and_token(tmp_path, legacy_url):
    with session_for(tmp_path, legacy_url) as session:
        material = material_for(session)
        assert material.subject == "alice" and material.signer.kid == KID and material.public_key
        assert material.signer.issuer == ISSUER and material.signer.audience == AUDIENCE


# ---------------------------------------------------------------- judging one answer

def variant(expect, presents=True) -> Variant:
    headers = [("Authorization", "Bearer x")] if presents else []
    return Variant("v", headers, {}, expect, False, "a test variant")


@pytest.mark.parametrize("expect, status, headers, check", [
    (INVALID_TOKEN, 401, {"www-authenticate": 'Bearer realm="r", error="invalid_token"'}, None),
    (INVALID_TOKEN, 401, {"www-authenticate": 'Bearer realm="r"'}, "wrong-error-code"),
    (INVALID_TOKEN, 401, {}, "no-bearer-challenge"),
    (INVALID_TOKEN, 401, {"www-authenticate": 'Basic realm="r"'}, "no-bearer-challenge"),
    (INVALID_TOKEN, 200, {}, "token-accepted"),
    (INVALID_TOKEN, 403, {}, "wrong-refusal-status"),
    (INVALID_TOKEN, 502, {}, "server-error"),
    (CHALLENGE, 401, {"www-authenticate": 'Newauth realm="x", bearer realm="r"'}, None),
    (REFUSED, 400, {}, None),
    (REFUSED, 401, {"www-authenticate": "Bearer"}, None),
])
def test_judge(expect, status, headers, check):
    verdict = judge(variant(expect), answer(status, {"e": 1}, headers, target="gateway"))
    assert (verdict.check if verdict else None) == check


def test_a_write_answered_like_the_valid_token_was_let_through():
    baseline = answer(400, {"error": "validation"}, target="gateway")
    verdict = judge(variant(INVALID_TOKEN), answer(400, {"error": "validation"}, target="gateway"), baseline)
    assert verdict.check == "token-accepted"
    missing = judge(variant(CHALLENGE, presents=False), answer(404, {}, target="gateway"), answer(404, {}))
    assert missing.check == "not-refused"


def test_transport_errors_are_findings_but_unsendable_requests_are_not():
    failed = answer(None, target="gateway")
    failed.error = "read timeout"
    assert judge(variant(INVALID_TOKEN), failed).check == "transport-error"
    failed.error = "LocalProtocolError: Illegal header value"
    assert judge(variant(INVALID_TOKEN), failed) is None


def test_bearer_challenge_parameters():
    got = bearer_challenge(answer(401, headers={"www-authenticate":
                                                'Basic realm="b", Bearer realm="x, y", error="invalid_token"'}))
    assert got == {"realm": "x, y", "error": "invalid_token"}
    assert bearer_challenge(answer(401, headers={"www-authenticate": "Bearer"})) == {}
    assert bearer_challenge(answer(401)) is None
    assert httpx.Headers({"a": "b"})  # helpers build answers with httpx headers
