"""What headless Chromium really does with a gateway's CORS answers: the oracle's verdicts, checked against
a loopback server whose answers each test sets, and against what that server received."""

from __future__ import annotations

import jwt
import pytest

from lockstep.browser import BrowserCase, BrowserOracle, BrowserVerdict

from .conftest import ORIGIN, CorsServer

pytestmark = pytest.mark.browser

BLOCKED = "has been blocked by CORS policy"
TOKEN = jwt.encode({"sub": "demo-user", "aud": "lockstep-browser-tests"}, "k" * 32, algorithm="HS256")
PREFLIGHTED = (("Authorization", f"Bearer {TOKEN}"), ("Content-Type", "application/json"))


def fetch(oracle: BrowserOracle, server: CorsServer, method: str = "GET", *, origin: str = ORIGIN,
          headers: tuple[tuple[str, str], ...] = (), credentials: str = "omit",
          body: str | None = None) -> BrowserVerdict:
    return oracle.run(BrowserCase(origin, method, f"{server.url}/recipes/7", headers, credentials, body))


def assert_blocked(verdict: BrowserVerdict, reason: str) -> None:
    assert not verdict.allowed and verdict.status is None
    assert verdict.cors_blocked and verdict.reason == reason, verdict
    assert verdict.error is not None and BLOCKED in verdict.error and f"from origin '{ORIGIN}'" in verdict.error


# ---------------------------------------------------------------- simple requests

def test_a_simple_get_is_readable_when_the_allow_origin_echoes_the_origin(oracle, cors_server):
    cors_server.answer("GET", 200, acao=ORIGIN)
    verdict = fetch(oracle, cors_server)
    assert verdict == BrowserVerdict(True, 200, None, None, ("content-length",))
    assert cors_server.methods() == ["GET"]


def test_the_script_reads_the_status_even_of_an_error_answer(oracle, cors_server):
    cors_server.answer("GET", 503, acao=ORIGIN)
    assert fetch(oracle, cors_server).status == 503


def test_a_simple_get_is_blocked_without_an_allow_origin(oracle, cors_server):
    cors_server.answer("GET", 200)
    verdict = fetch(oracle, cors_server)
    assert_blocked(verdict, "MissingAllowOriginHeader")
    assert "No 'Access-Control-Allow-Origin' header is present" in verdict.error
    assert cors_server.methods() == ["GET"]  # sent, answered, and hidden from the script


def test_a_simple_get_is_blocked_when_the_allow_origin_is_another_origin(oracle, cors_server):
    cors_server.answer("GET", 200, acao="https://www.example.com")
    verdict = fetch(oracle, cors_server)
    assert_blocked(verdict, "AllowOriginMismatch")
    assert "'https://www.example.com' that is not equal to the supplied origin" in verdict.error


def test_only_the_exposed_headers_are_readable(oracle, cors_server):
    cors_server.answer("GET", 200, acao=ORIGIN, aceh="X-Request-Id", **{"X-Request-Id": "r1", "X-Other": "o"})
    assert fetch(oracle, cors_server).exposed == ("content-length", "x-request-id")


# ---------------------------------------------------------------- credentials

def test_a_credentialed_fetch_is_blocked_by_a_wildcard_allow_origin(oracle, cors_server):
    cors_server.answer("GET", 200, acao="*", acac="true")
    verdict = fetch(oracle, cors_server, credentials="include")
    assert_blocked(verdict, "WildcardOriginNotAllowed")
    assert "must not be the wildcard '*' when the request's credentials mode is 'include'" in verdict.error


def test_the_same_wildcard_is_fine_without_credentials(oracle, cors_server):
    cors_server.answer("GET", 200, acao="*")
    assert fetch(oracle, cors_server, credentials="omit").allowed


@pytest.mark.parametrize("acac", [None, "True", "1"], ids=["missing", "True", "1"])
def test_a_credentialed_fetch_needs_allow_credentials_exactly_true(oracle, cors_server, acac):
    cors_server.answer("GET", 200, acao=ORIGIN, **({"acac": acac} if acac else {}))
    verdict = fetch(oracle, cors_server, credentials="include")
    assert_blocked(verdict, "InvalidAllowCredentials")
    assert f"'Access-Control-Allow-Credentials' header in the response is '{acac or ''}'" in verdict.error


def test_a_credentialed_fetch_is_allowed_with_the_exact_origin_and_allow_credentials(oracle, cors_server):
    cors_server.answer("GET", 200, acao=ORIGIN, acac="true")
    assert fetch(oracle, cors_server, credentials="include") == BrowserVerdict(True, 200, None, None,
                                                                               ("content-length",))


# ---------------------------------------------------------------- preflights

GOOD_PREFLIGHT = {"acao": ORIGIN, "acac": "true", "acam": "PATCH", "acah": "Authorization, Content-Type"}


def patch(oracle: BrowserOracle, server: CorsServer, *, status: int = 204, **preflight: str) -> BrowserVerdict:
    server.answer("OPTIONS", status, **{**GOOD_PREFLIGHT, **preflight})
    server.answer("PATCH", 200, acao=ORIGIN, acac="true")
    return fetch(oracle, server, "PATCH", headers=PREFLIGHTED, credentials="include", body='{"servings": 4}')


def test_a_patch_with_authorization_and_json_is_preflighted_and_allowed_when_all_is_granted(oracle, cors_server):
    verdict = patch(oracle, cors_server)
    assert verdict.allowed and verdict.status == 200
    preflight, actual = cors_server.received
    assert (preflight.method, actual.method) == ("OPTIONS", "PATCH")
    assert preflight.headers["access-control-request-method"] == "PATCH"
    assert preflight.headers["access-control-request-headers"] == "authorization,content-type"
    assert "authorization" not in preflight.headers  # a preflight never carries the credentials
    assert actual.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("preflight, reason, says", [
    ({"acah": "Content-Type"}, "HeaderDisallowedByPreflightResponse",
     "Request header field authorization is not allowed by Access-Control-Allow-Headers"),
    ({"acah": "*"}, "HeaderDisallowedByPreflightResponse", "is not allowed by Access-Control-Allow-Headers"),
    ({"status": 401}, "PreflightInvalidStatus", "It does not have HTTP ok status"),
    ({"acam": "patch"}, "MethodDisallowedByPreflightResponse", "Method PATCH is not allowed"),
    ({"acam": "GET, POST, PUT"}, "MethodDisallowedByPreflightResponse", "Method PATCH is not allowed"),
    ({"acam": "*"}, "MethodDisallowedByPreflightResponse", "Method PATCH is not allowed"),
    ({"status": 307, "Location": "/recipes/7/"}, "PreflightDisallowedRedirect",
     "Redirect is not allowed for a preflight request"),
    ({"acao": "*"}, "PreflightWildcardOriginNotAllowed", "must not be the wildcard '*'"),
    ({"acac": "false"}, "PreflightInvalidAllowCredentials", "Access-Control-Allow-Credentials"),
], ids=["headers-lack-authorization", "headers-wildcard-with-credentials", "preflight-401", "methods-lowercase-patch",
        "methods-lack-patch", "methods-wildcard-with-credentials", "preflight-redirect", "origin-wildcard",
        "credentials-false"])
def test_a_preflighted_patch_is_blocked(oracle, cors_server, preflight, reason, says):
    status = preflight.pop("status", 204)
    verdict = patch(oracle, cors_server, status=status, **preflight)
    assert_blocked(verdict, reason)
    assert says in verdict.error
    assert "Response to preflight request doesn't pass access control check" in verdict.error or \
        "in preflight response" in verdict.error
    assert cors_server.methods() == ["OPTIONS"]  # the gateway's real preflight answer was judged; no PATCH left


def test_a_put_granted_only_as_lowercase_put_is_blocked(oracle, cors_server):
    """fetch() upper-cases PUT (one of six methods it normalises), then compares it case-sensitively."""
    cors_server.answer("OPTIONS", 204, acao=ORIGIN, acam="put", acah="Authorization")
    verdict = fetch(oracle, cors_server, "PUT", headers=PREFLIGHTED[:1], body="{}")
    assert_blocked(verdict, "MethodDisallowedByPreflightResponse")
    assert "Method PUT is not allowed by Access-Control-Allow-Methods" in verdict.error


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize("acam", ["PATCH, DELETE", None], ids=["methods-lack-it", "no-methods-header"])
def test_a_safelisted_method_needs_no_allow_methods_even_when_preflighted(oracle, cors_server, method, acam):
    """GET, HEAD and POST pass a preflight whatever Access-Control-Allow-Methods lists (Fetch: a
    CORS-safelisted method is always allowed); Authorization still needs Access-Control-Allow-Headers."""
    cors_server.answer("OPTIONS", 204, acao=ORIGIN, acah="Authorization", **({"acam": acam} if acam else {}))
    cors_server.answer(method, 200, acao=ORIGIN)
    verdict = fetch(oracle, cors_server, method, headers=PREFLIGHTED[:1], body="{}" if method == "POST" else None)
    assert verdict.allowed and verdict.status == 200
    assert cors_server.methods() == ["OPTIONS", method]


def test_chromium_lets_a_wildcard_allow_headers_cover_authorization_without_credentials(oracle, cors_server):
    """Fetch says '*' never covers Authorization (a "CORS non-wildcard request-header name"); Chromium 156
    still lets it (its CorsNonWildcardRequestHeadersSupport feature is off by default). If this starts
    failing, Chromium enforces the standard now: lockstep's rule already does."""
    cors_server.answer("OPTIONS", 204, acao=ORIGIN, acam="PATCH", acah="*")
    cors_server.answer("PATCH", 200, acao=ORIGIN)
    verdict = fetch(oracle, cors_server, "PATCH", headers=PREFLIGHTED, body="{}")
    assert verdict.allowed
    assert cors_server.methods() == ["OPTIONS", "PATCH"]


def test_a_blocked_actual_answer_after_a_granted_preflight(oracle, cors_server):
    cors_server.answer("OPTIONS", 204, **GOOD_PREFLIGHT)
    cors_server.answer("PATCH", 401, **{"WWW-Authenticate": "Bearer"})  # the gateway's 401 without CORS headers
    verdict = fetch(oracle, cors_server, "PATCH", headers=PREFLIGHTED, credentials="include", body="{}")
    assert_blocked(verdict, "MissingAllowOriginHeader")
    assert cors_server.methods() == ["OPTIONS", "PATCH"]


def test_each_case_gets_its_own_preflight(oracle, cors_server):
    """No case is judged on an earlier case's cached preflight (Chromium caches one for 5 s by default)."""
    assert patch(oracle, cors_server).allowed
    cors_server.received.clear()
    assert not patch(oracle, cors_server, acam="GET").allowed
    assert cors_server.methods() == ["OPTIONS"]
