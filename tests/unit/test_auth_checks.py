"""The auth checks against fake gateways: real HTTP servers on 127.0.0.1 (http.server in a thread), run as a
flow with no session (helpers.flow_runner).

A correct fake gateway must give no finding at all; each broken one (alg none accepted, a case-sensitive
scheme, exp not checked, a trusted X-User-Id, scopes not enforced, an open route ...) must be caught by the
right check, with the variant named, and no token in anything a report would show. An upstream that judges
credentials itself is not the gateway's fault (a spec-gap note), and identity headers are probed on public
operations too (issue 12, classes 6 and 9).
"""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lockstep.checks.auth import auth_path, material, skip_reason
from lockstep.contract import AuthPolicy, CorsPolicy, TargetSpec
from lockstep.engine.context import RunFacts
from lockstep.operations import Operation
from lockstep.targets import Target

from .helpers import flow_runner

pytestmark = pytest.mark.servers

ISSUER, AUDIENCE, KID = "https://issuer.test", "lockstep-test-api", "test-kid-1"
ORIGIN = "https://app.test"
USERS = {"alice": {"id": "alice", "name": "Alice", "email": "alice@example.test"},
         "mallory": {"id": "mallory", "name": "Mallory", "email": "mallory@example.test"}}
ME = Operation("GET", "/users/me", "getMe", ("users",), (("oauth2", ("profile",)),), "/users/me", False)
THINGS = Operation("GET", "/things", "listThings", ("things",), None, "/things", False)
WHOAMI = Operation("GET", "/whoami", "whoAmI", ("users",), None, "/whoami", False)  # public, echoes the caller
DELETE = Operation("DELETE", "/things/{thing_id}", "deleteThing", ("things",), (("oauth2", ("things:write",)),),
                   "/things/42", False)
OPERATIONS = (ME, THINGS, WHOAMI, DELETE)
ROUTES = {("GET", "/users/me"): ("profile",), ("GET", "/things"): None, ("GET", "/whoami"): None,
          ("DELETE", "/things/"): ("things:write",)}
GROUPS = {"refuse-forged": "forged", "refuse-claims": "claims", "scheme-case": "scheme", "scope-403": "scope",
          "public-open": "public", "identity-headers": "identity", "errors-carry-cors": "cors",
          "latency": "latency", "burst": "burst"}

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
    trust_identity_on_public: bool = False  # client identity headers stripped only where the token sets them
    scope_hides: bool = False  # a lacking scope is answered 404 (RFC 9110 15.5.4), not 403
    forward_authorization: bool = False  # the client's Authorization is passed upstream
    upstream_scheme_exact: bool = False  # the upstream (legacy) itself refuses any Authorization but `Bearer ...`


def legacy_answer(method: str, path: str, user: str | None, authorization: str | None = None,
                  faults: Faults | None = None) -> tuple[int, dict]:
    """What the fake legacy answers: it trusts X-User-Id, as the old session layer did."""
    if faults and faults.upstream_scheme_exact and authorization is not None and not authorization.startswith("Bearer "):
        return 401, {"error": "unauthorized"}
    if (method, path) == ("GET", "/things"):
        return 200, {"items": []}
    if (method, path) == ("GET", "/whoami"):
        return 200, {"user": user, "seen": time.time()}
    if method == "DELETE" and path.startswith("/things/"):
        return (401, {"error": "unauthorized"}) if user is None else (404, {"error": "not_found"})
    if (method, path) == ("GET", "/users/me"):
        if user is None:
            return 401, {"error": "unauthorized"}
        if user not in USERS:
            return 404, {"error": "not_found"}
        return 200, {**USERS[user], "seen": time.time()}  # `seen` is noise
    return 404, {"error": "not_found"}


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
            self.reply(*legacy_answer(self.command, url.path, self.headers.get("X-User-Id"),
                                      self.headers.get("Authorization"), self.faults))
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
            return self.forward(path, self.headers.get("X-User-Id") if f.trust_identity_on_public else None)
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
            if f.scope_hides:
                return self.reply(404, {"error": "not_found"})
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
        authorization = self.headers.get("Authorization") if self.faults.forward_authorization else None
        self.reply(*legacy_answer(self.command, path, user, authorization, self.faults))


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
def runner_for(legacy_url: str, faults: Faults | None = None, *, key: bool = True, cors: bool = True,
               **auth: object) -> Iterator:
    """A flow runner over the fake legacy and a fake gateway with `faults` (no session)."""
    with server("gateway", faults) as gateway_url:
        policy = AuthPolicy(issuer=ISSUER, audience=AUDIENCE, jwks_url=f"{gateway_url}/.well-known/jwks.json",
                            kid=KID, other_identity="mallory", latency_samples=5, burst_requests=16,
                            signing_key=KEY_PEM if key else None, **auth)
        legacy_spec, gateway_spec = TargetSpec(url=legacy_url, headers={"X-User-Id": "alice"}), TargetSpec(url=gateway_url)
        contract = SimpleNamespace(auth=policy, cors=CorsPolicy(origins=[ORIGIN], credentials=True) if cors else None,
                                   targets=SimpleNamespace(legacy=legacy_spec, gateway=gateway_spec))
        token = token_for()
        legacy, gateway = Target("legacy", legacy_spec), Target("gateway", gateway_spec, token=token)
        try:
            yield flow_runner(legacy, gateway, contract, OPERATIONS, RunFacts(gateway_token=token))
        finally:
            legacy.close()
            gateway.close()


def run(runner, name: str, operation: Operation) -> list:
    """The findings of one check (each auth check is its group's only one)."""
    return runner.run("auth", operation, group=GROUPS[name]).new


ALL = list(GROUPS)


def assert_no_secret(findings: list) -> None:
    text = json.dumps([f.to_dict() for f in findings])
    assert "eyJ" not in text and KEY_PEM[40:80] not in text


# ---------------------------------------------------------------- a correct gateway passes

def test_a_correct_gateway_gives_no_finding_at_all(legacy_url):
    with runner_for(legacy_url, identity_probe=["GET /users/me", "GET /whoami"]) as runner:
        found = [f for name in ALL for op in (ME, THINGS, WHOAMI, DELETE) for f in run(runner, name, op)]
        assert found == [], "\n".join(f.headline() for f in found)
        figures = runner.figures["auth"]
        assert set(figures["latency GET /users/me"]) >= {"legacy", "gateway", "overhead_p95_ms"}
        assert figures["burst"]["invalid_statuses"] == {"401": 16}
        assert figures["burst"]["valid_under_burst"]["p95_ms"] > 0
        assert "variants not run" not in figures  # key, JWKS and token were all there
        assert figures["identity probes"] == {"GET /users/me": "protected", "GET /whoami": "public"}
        assert "identity classes without a probe" not in figures
        assert runner.counts["DELETE /things/{thing_id}"] > 50


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
def test_a_broken_gateway_is_caught_with_the_variant_named(legacy_url, faults, name, operation, check, variant,
                                                           also):
    with runner_for(legacy_url, faults) as runner:
        found = run(runner, name, operation)
    failing = [f for f in found if f.failing]
    assert [f.check for f in failing] == [check], "\n".join(f.headline() for f in found)
    if variant is not None:
        assert failing[0].location == f"variant {variant}"
    for other in also:
        assert other in failing[0].message
    assert_no_secret(found)


def test_a_correct_gateway_is_not_blamed_for_the_faults_of_another_line(legacy_url):
    """alg none accepted: the forged line fails, the scheme and claims lines do not."""
    with runner_for(legacy_url, Faults(accept_none=True)) as runner:
        assert run(runner, "scheme-case", ME) == []
        assert run(runner, "refuse-claims", ME) == []
        forged = run(runner, "refuse-forged", ME)
    assert {f.check for f in forged} == {"token-accepted"}
    named = forged[0].message
    assert "alg-none-with-signature (" in named  # unverified: the kept signature does not matter
    assert "sig-flipped (" not in named and "jws-no-alg (" not in named and "expired (" not in named


# ---------------------------------------------------------------- who decided: the gateway or the upstream? (class 6)

def test_an_upstream_that_checks_the_scheme_itself_is_a_spec_gap_not_the_gateways_finding():
    """The gateway forwards Authorization; the upstream refuses `bearer ...` with its own 401, as the legacy
    (the same upstream, reached directly) does: a spec-gap note. Before, this failed `scheme-case-refused`."""
    faults = Faults(forward_authorization=True, upstream_scheme_exact=True)
    with server("legacy", faults) as legacy_url, runner_for(legacy_url, faults) as runner:
        found = run(runner, "scheme-case", ME)
    assert [f for f in found if f.failing] == [], "\n".join(f.headline() for f in found)
    assert [(f.check, f.severity, f.location) for f in found] == [("spec-gap", "note", "variant scheme-lower")]
    assert "scheme-upper" in found[0].message and "as the legacy: 401 (no WWW-Authenticate)" in found[0].message
    assert set(found[0].reproducers) == {"gateway", "legacy"}
    assert_no_secret(found)


def test_a_gateway_that_refuses_the_scheme_itself_is_still_found_when_the_upstream_also_would():
    """Both refuse `bearer`, but the gateway with its own Bearer challenge: the gateway decided."""
    faults = Faults(case_sensitive=True, forward_authorization=True, upstream_scheme_exact=True)
    with server("legacy", faults) as legacy_url, runner_for(legacy_url, faults) as runner:
        found = run(runner, "scheme-case", ME)
    assert [f.check for f in found if f.failing] == ["scheme-case-refused"]


def test_a_legacy_without_auth_never_excuses_a_forged_token():
    """The legacy answers 200 to everything (no auth of its own): alg none let through stays a failure."""
    faults = Faults(accept_none=True, forward_authorization=True)
    with server("legacy", faults) as legacy_url, runner_for(legacy_url, faults) as runner:
        found = run(runner, "refuse-forged", ME)
    assert [f.check for f in found] == ["token-accepted"]


# ---------------------------------------------------------------- identity headers on public operations (class 9)

def test_identity_headers_trusted_on_public_operations_are_caught_through_a_public_probe(legacy_url):
    """The gateway strips client-sent identity headers only where the token sets them: on the public echo
    probe, anyone is anyone. Before, the identity check ran on protected reads only and missed it."""
    with runner_for(legacy_url, Faults(trust_identity_on_public=True),
                    identity_probe=["GET /users/me", "GET /whoami"]) as runner:
        assert run(runner, "identity-headers", ME) == []  # protected: stripped and set from the token
        found = run(runner, "identity-headers", WHOAMI)
    assert [f.check for f in found] == ["identity-header-trusted"], "\n".join(f.headline() for f in found)
    assert found[0].location == "variant X-User-Id"
    assert "X-User-Id without a token" in found[0].message and "x-user-id (lower case) without a token" in found[0].message
    assert "/user" in found[0].message


def test_a_public_operation_whose_own_answer_names_the_caller_is_probed_without_being_listed(legacy_url):
    with runner_for(legacy_url, Faults(trust_identity_on_public=True)) as runner:
        found = run(runner, "identity-headers", WHOAMI)
        assert runner.figures["auth"]["identity classes without a probe"] == ["public"]
    assert [f.check for f in found] == ["identity-header-trusted"]
    assert "without a token" in found[0].message  # the plain header, with the token and without


# ---------------------------------------------------------------- what the RFCs allow is not a finding

def test_a_gateway_hiding_the_resource_behind_404_for_a_lacking_scope_is_not_a_finding(legacy_url):
    """RFC 9110 15.5.4 lets a server answer 404 for a forbidden resource (before: scope-not-enforced)."""
    with runner_for(legacy_url, Faults(scope_hides=True)) as runner:
        assert run(runner, "scope-403", ME) == []
        found = run(runner, "scope-403", DELETE)  # the upstream's 404 with the full scopes too: not provable
    assert [f.check for f in found] == ["scope-not-enforced"]


# ---------------------------------------------------------------- without the key, a CORS policy, a burst

def test_without_the_signing_key_its_lines_are_skipped_saying_why(legacy_url):
    with runner_for(legacy_url, key=False) as runner:
        for group in ("claims", "scope"):
            result = runner.run("auth", ME, group=group)
            assert result.new == [] and result.ran == 0
            assert "signing_key" in result.skipped[0] and "AUTH_SIGNING_KEY" in result.skipped[0]
        assert run(runner, "refuse-forged", ME) == []  # everything else still runs
        not_run = runner.figures["auth"]["variants not run"]
        assert "expired" in not_run and "signing_key" in not_run["expired"]
        assert skip_reason(runner.context("auth", ME), "token", "loopback") is None


def test_without_a_cors_policy_that_line_is_skipped(legacy_url):
    with runner_for(legacy_url, cors=False) as runner:
        result = runner.run("auth", ME, group="cors")
    assert result.ran == 0 and "cors" in result.skipped[0]


def test_the_material_reads_the_key_jwks_and_token(legacy_url):
    with runner_for(legacy_url) as runner:
        found = material(runner.context("auth", ME))
        assert found.subject == "alice" and found.signer.kid == KID and found.public_key
        assert found.signer.issuer == ISSUER and found.signer.audience == AUDIENCE
        assert material(runner.context("auth", THINGS)) is found  # built once per run
