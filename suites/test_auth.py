"""Auth: the gateway lets in exactly the right callers, and says no the right way.

Which operations are protected (and with which scopes) comes from the document's `security`; how tokens
are checked comes from the contract's `auth:`. Each test is one line of the checklist, run for every
operation it concerns; signed off when every line passes (or each finding is a known difference with a
reason). The checks and the token variants are in lockstep/checks/auth/ and lockstep/tokens/, with the
catalog cases (B01-B28) they cover; the plugin registers them. A line that cannot run here (no signing
key on staging, no token, no CORS policy, a profile without bursts) is skipped, saying why.
"""

import pytest

from lockstep.pytest_plugin import lockstep_operations, none_to_run

OPERATIONS = lockstep_operations()
_PROTECTED = [op for op in OPERATIONS if op.protected]
PROTECTED = _PROTECTED or none_to_run("none-protected", "no operation tested here declares a `security` "
                                      "requirement (a Swagger 2.0 document without `security`, or only public "
                                      "operations), so there is no token to refuse")
SCOPED = [op for op in _PROTECTED if op.scopes] or none_to_run(
    "none-scoped", "no protected operation names a scope (oauth2 scopes in `security`), so no 403 to expect")
PUBLIC = [op for op in OPERATIONS if not op.protected] or none_to_run(
    "none-public", "every operation tested here is protected: no public operation to call without a token")
READS = [op for op in OPERATIONS if op.method == "GET"] or none_to_run(
    "no-reads", "no GET operation is tested here, so no identity probe through a read")
PROTECTED_READS = [op for op in OPERATIONS if op.method == "GET" and op.protected] or none_to_run(
    "no-protected-read", "no protected GET is tested here: the latency figures and the invalid-token burst need one")
BURST_TARGET = PROTECTED_READS[:1]

pytestmark = pytest.mark.auth


@pytest.mark.parametrize("operation", PROTECTED, ids=str)
def test_it_refuses_missing_malformed_and_forged_tokens(operation, run_flow):
    """No token, empty, bare or wrong scheme, raw token, odd whitespace, two Authorization headers, the token
    in the query, malformed JWS, oversize and odd bytes, a flipped or stripped signature, tampered claims,
    `alg: none` in every casing, HMAC with the issuer's public key, embedded or foreign keys, kid tricks:
    401 (400 for a malformed request) with a `Bearer` challenge, `error="invalid_token"` for a bad token,
    never a 5xx."""
    run_flow("auth", operation, group="forged")


@pytest.mark.parametrize("operation", PROTECTED, ids=str)
def test_it_refuses_expired_and_misaddressed_tokens(operation, run_flow):
    """Signed with the issuer's key (a freshly minted token is accepted first): expired, not yet valid, an
    odd `exp`, another or no audience, another issuer (also by letter case or a trailing slash), no `exp`,
    no `sub`, an unknown `crit`, RS512 where RS256 is pinned: 401 `invalid_token`."""
    run_flow("auth", operation, group="claims")


@pytest.mark.parametrize("operation", PROTECTED, ids=str)
def test_the_bearer_scheme_is_case_insensitive(operation, run_flow):
    """`bearer`, `BEARER`, `bEaReR` and the header name in other cases are answered like `Bearer`."""
    run_flow("auth", operation, group="scheme")


@pytest.mark.parametrize("operation", SCOPED, ids=str)
def test_a_valid_token_lacking_the_scope_gets_403(operation, run_flow):
    """A valid token without the operation's scopes: 403 `insufficient_scope`, not 401, never let through."""
    run_flow("auth", operation, group="scope")


@pytest.mark.parametrize("operation", PUBLIC, ids=str)
def test_a_public_operation_needs_no_token(operation, run_flow):
    """`security: []` in the document: the gateway answers without a token, as the legacy does."""
    run_flow("auth", operation, group="public")


@pytest.mark.parametrize("operation", READS, ids=str)
def test_client_sent_identity_headers_are_never_trusted(operation, run_flow):
    """Public and protected reads: `X-User-Id: other-user` (and friends, other letter cases, underscores,
    duplicates), with a valid token and without one: the answer is never the other user's, as the legacy
    answers for each identity."""
    run_flow("auth", operation, group="identity")


@pytest.mark.parametrize("operation", PROTECTED, ids=str)
def test_the_gateways_auth_errors_carry_cors_headers(operation, run_flow):
    """With an allowed Origin, the 401 for a bad token and the 403 for a lacking scope carry
    Access-Control-Allow-Origin (and -Credentials): a browser sees the error, not "CORS error"."""
    run_flow("auth", operation, group="cors")


@pytest.mark.parametrize("operation", PROTECTED_READS, ids=str)
def test_authenticated_calls_cost_about_what_they_cost_on_the_legacy(operation, run_flow):
    """p50/p95 of authenticated calls, gateway vs legacy: figures in summary.json (a failure only beyond
    the contract's auth.max_overhead_p95_ms)."""
    run_flow("auth", operation, group="latency")


@pytest.mark.parametrize("operation", BURST_TARGET, ids=str)
def test_valid_tokens_stay_fast_while_invalid_ones_flood_in(operation, run_flow):
    """A bounded burst of invalid tokens (threads, loopback only) while valid calls are timed: none of
    them refused, their p95 in summary.json (a failure only beyond auth.max_burst_slowdown)."""
    run_flow("auth", operation, group="burst")
