"""The auth verdicts without servers: judging one answer against RFC 6750 / 9110 / 7519, who decided (the
gateway or the upstream, through httpx.MockTransport targets), why a line is skipped, and the figures."""

from types import SimpleNamespace

import httpx
import pytest

from lockstep.checks.auth import bearer_challenge, judge, skip_reason
from lockstep.checks.auth.challenge import got
from lockstep.checks.auth.latency import milliseconds
from lockstep.contract import AuthPolicy, TargetSpec
from lockstep.engine.context import RunFacts
from lockstep.operations import Operation
from lockstep.targets import Target
from lockstep.tokens import CHALLENGE, INVALID_TOKEN, LENIENT, REFUSED, Variant

from .helpers import answer, flow_runner

TOKEN = "lockstep-test-token-0123456789"  # not a JWT: the scheme check needs only a token the gateway accepts
ME = Operation("GET", "/users/me", "getMe", ("users",), (("bearer", ()),), "/users/me", False)


def variant(expect, presents=True, query=None, tolerated="") -> Variant:
    headers = [("Authorization", "Bearer x")] if presents else []
    return Variant("v", headers, query or {}, expect, False, "a test variant", tolerated=tolerated)


# ---------------------------------------------------------------- judging one answer

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
    got_ = bearer_challenge(answer(401, headers={"www-authenticate":
                                                 'Basic realm="b", Bearer realm="x, y", error="invalid_token"'}))
    assert got_ == {"realm": "x, y", "error": "invalid_token"}
    assert bearer_challenge(answer(401, headers={"www-authenticate": "Bearer"})) == {}
    assert bearer_challenge(answer(401)) is None


# ---------------------------------------------------------------- what the RFCs allow (each failed before)

def test_a_challenge_without_an_error_code_misses_only_a_should():
    """RFC 6750 3: a refused token SHOULD carry `error`; none is a note, another code a failure."""
    bare = judge(variant(INVALID_TOKEN), answer(401, headers={"www-authenticate": 'Bearer realm="r"'}))
    assert (bare.check, bare.severity) == ("wrong-error-code", "note")
    other = judge(variant(INVALID_TOKEN), answer(401, headers={"www-authenticate": 'Bearer error="invalid_request"'}))
    assert (other.check, other.severity) == ("wrong-error-code", "failure")


def test_a_400_for_an_unsupported_access_token_parameter_is_allowed():
    """RFC 6750 3.1: invalid_request (400) covers an unsupported parameter such as ?access_token=."""
    query_only = variant(CHALLENGE, presents=False, query={"access_token": "t"})
    assert judge(query_only, answer(400, {"error": "invalid_request"})) is None
    assert judge(query_only, answer(403, {})).check == "wrong-refusal-status"
    assert judge(variant(CHALLENGE, presents=False), answer(400, {})).check == "wrong-refusal-status"


def test_an_optional_claim_accepted_is_a_note_naming_the_rfc():
    """RFC 7519 makes `exp` and `sub` optional: a gateway accepting a token without them is allowed."""
    verdict = judge(variant(INVALID_TOKEN, tolerated="RFC 7519 4.1.4"), answer(200, {"ok": 1}), answer(200, {}))
    assert (verdict.check, verdict.severity) == ("accepted-tolerated", "note")
    assert judge(variant(INVALID_TOKEN), answer(200, {"ok": 1}), answer(200, {})).severity == "failure"


def test_lenient_variants_accepted_are_no_finding_but_a_5xx_is():
    assert judge(variant(LENIENT), answer(200, {})) is None
    assert judge(variant(LENIENT), answer(500, {})).check == "server-error"


def test_a_401_without_any_challenge_says_so_precisely():
    """Envoy jwt_authn answers 401 "Jwt is missing" without WWW-Authenticate: a finding, worded as such."""
    bare = answer(401, raw=b"Jwt is missing", headers={"content-type": "text/plain"})
    verdict = judge(variant(CHALLENGE, presents=False), bare)
    assert verdict.check == "no-bearer-challenge" and verdict.got == "401 (no WWW-Authenticate)"
    assert got(answer(401, headers={"www-authenticate": 'Basic realm="r"'})) == "401 (challenge: Basic only)"


# ---------------------------------------------------------------- who decided (MockTransport targets)

def upstream(scheme_exact: bool):
    """An upstream that, when `scheme_exact`, refuses any Authorization but `Bearer ...` itself (401, no
    challenge), and otherwise answers the caller's profile."""
    def handle(request: httpx.Request) -> httpx.Response:
        authorization = request.headers.get("authorization")
        if scheme_exact and authorization is not None and not authorization.startswith("Bearer "):
            return httpx.Response(401, json={"error": "unauthorized"})
        return httpx.Response(200, json={"id": request.headers.get("x-user-id") or "alice"})
    return handle


def gateway(relay, own_challenge: bool = False):
    """A gateway that accepts TOKEN in any scheme case and relays to `relay` (Authorization forwarded); with
    `own_challenge` it refuses a scheme other than `Bearer` itself, with its own Bearer challenge."""
    def handle(request: httpx.Request) -> httpx.Response:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if own_challenge and scheme != "Bearer" or scheme.lower() != "bearer" or token != TOKEN:
            return httpx.Response(401, headers={"www-authenticate": 'Bearer realm="gw"'}, json={})
        return relay(request)
    return handle


def scheme_findings(legacy_handler, gateway_handler) -> list:
    spec = TargetSpec(url="http://127.0.0.1:9")
    legacy = Target("legacy", spec, transport=httpx.MockTransport(legacy_handler))
    gw = Target("gateway", spec, token=TOKEN, transport=httpx.MockTransport(gateway_handler))
    contract = SimpleNamespace(auth=AuthPolicy(), cors=None, targets=SimpleNamespace(legacy=spec, gateway=spec))
    runner = flow_runner(legacy, gw, contract, [ME], RunFacts(gateway_token=TOKEN))
    try:
        return runner.run("auth", ME, group="scheme").new
    finally:
        legacy.close()
        gw.close()


def test_the_upstreams_own_scheme_check_is_a_spec_gap():
    found = scheme_findings(upstream(True), gateway(upstream(True)))
    assert [(f.check, f.severity) for f in found] == [("spec-gap", "note")]


def test_a_legacy_that_accepts_what_the_gateway_refuses_leaves_the_finding():
    found = scheme_findings(upstream(False), gateway(upstream(True)))
    assert [(f.check, f.severity) for f in found] == [("scheme-case-refused", "failure")]


def test_the_gateways_own_refusal_is_its_finding_even_where_the_upstream_agrees():
    found = scheme_findings(upstream(True), gateway(upstream(True), own_challenge=True))
    assert [(f.check, f.severity) for f in found] == [("scheme-case-refused", "failure")]


# ---------------------------------------------------------------- why a line cannot run, and the figures

def context(facts: RunFacts, operation: Operation = ME, probe: str = "GET /users/me"):
    spec = TargetSpec(url="http://127.0.0.1:9")
    target = Target("gateway", spec, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    contract = SimpleNamespace(auth=AuthPolicy(identity_probe=probe), cors=None,
                               targets=SimpleNamespace(legacy=spec, gateway=spec))
    return flow_runner(target, target, contract, [operation], facts).context("auth", operation)


def test_bursts_follow_the_run_facts_not_a_profile_name():
    assert skip_reason(context(RunFacts(gateway_token=TOKEN)), "loopback") is None
    assert "bursts" in skip_reason(context(RunFacts(gateway_token=TOKEN, bursts=False, profile="live")), "loopback")
    assert "ceiling" in skip_reason(context(RunFacts(gateway_token=TOKEN, rate_ceiling="10/s")), "loopback")


def test_under_a_rate_ceiling_the_heavy_lines_run_on_the_identity_probes_only():
    facts = RunFacts(gateway_token=TOKEN, rate_ceiling="10/s", profile="smoke")
    assert skip_reason(context(facts), "focus") is None
    other = Operation("GET", "/things", None, (), (("bearer", ()),), "/things", False)
    assert "GET /users/me only" in skip_reason(context(facts, other), "focus")
    assert "has no token" in skip_reason(context(RunFacts()), "token")


def test_latency_figures_use_the_one_linear_percentile():
    """0..100, linear between ranks: p50 of 1-4 ms is 2.5 ms (the nearest-rank one said 2 ms)."""
    assert milliseconds([0.001, 0.002, 0.003, 0.004]) == {"p50_ms": 2.5, "p95_ms": 3.85}
    assert milliseconds([]) == {}
