"""Auth: the gateway lets in exactly the right callers, and says no the right way.

Which operations are protected (and with which scopes) comes from the document's `security`; how tokens
are checked comes from the contract's `auth:`. Each test is one line of the checklist, run for every
operation it concerns; signed off when every line passes (or each finding is a known difference with a
reason). The checks and the token variants are in lockstep/checks/auth.py and lockstep/tokens.py, with
the catalog cases (B01-B28) they cover. Lines that need the issuer's signing key (staging only) are
skipped, saying so, when the contract gives none.
"""

import pytest

from lockstep.checks.auth import skip_reason
from lockstep.pytest_plugin import lockstep_operations

OPERATIONS = lockstep_operations()
PROTECTED = [op for op in OPERATIONS if op.protected]
SCOPED = [op for op in PROTECTED if op.scopes]
PUBLIC = [op for op in OPERATIONS if not op.protected]
PROTECTED_READS = [op for op in PROTECTED if op.method == "GET"]
BURST_TARGET = PROTECTED_READS[:1]

pytestmark = pytest.mark.auth


def needs(session, operation, *what):
    reason = skip_reason(session, operation, *what)
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("operation", PROTECTED, ids=str)
def test_it_refuses_missing_malformed_and_forged_tokens(operation, lockstep, run_flow):
    """No token, empty, bare or wrong scheme, raw token, odd whitespace, two Authorization headers, the token
    in the query, malformed JWS, oversize and odd bytes, a flipped or stripped signature, tampered claims,
    `alg: none` in every casing, HMAC with the issuer's public key, embedded or foreign keys, kid tricks:
    401 (400 for a malformed request) with a `Bearer` challenge, `error="invalid_token"` for a bad token,
    never a 5xx."""
    run_flow("auth", operation, group="forged")


@pytest.mark.parametrize("operation", PROTECTED, ids=str)
def test_it_refuses_expired_and_misaddressed_tokens(operation, lockstep, run_flow):
    """Signed with the issuer's key (a freshly minted token is accepted first): expired, not yet valid, an
    odd `exp`, another or no audience, another issuer (also by letter case or a trailing slash), no `exp`,
    no `sub`, an unknown `crit`, RS512 where RS256 is pinned: 401 `invalid_token`."""
    needs(lockstep, operation, "key")
    run_flow("auth", operation, group="claims")


@pytest.mark.parametrize("operation", PROTECTED, ids=str)
def test_the_bearer_scheme_is_case_insensitive(operation, lockstep, run_flow):
    """`bearer`, `BEARER`, `bEaReR` and the header name in other cases are answered like `Bearer`."""
    needs(lockstep, operation, "token")
    run_flow("auth", operation, group="scheme")


@pytest.mark.parametrize("operation", SCOPED, ids=str)
def test_a_valid_token_lacking_the_scope_gets_403(operation, lockstep, run_flow):
    """A valid token without the operation's scopes: 403 `insufficient_scope`, not 401, never let through."""
    needs(lockstep, operation, "key")
    run_flow("auth", operation, group="scope")


@pytest.mark.parametrize("operation", PUBLIC, ids=str)
def test_a_public_operation_needs_no_token(operation, run_flow):
    """`security: []` in the document: the gateway answers without a token, as the legacy does."""
    run_flow("auth", operation, group="public")


@pytest.mark.parametrize("operation", PROTECTED_READS, ids=str)
def test_client_sent_identity_headers_are_never_trusted(operation, lockstep, run_flow):
    """A valid token plus `X-User-Id: other-user` (and friends, other letter cases, underscores, duplicates,
    no token at all): the answer is still the token owner's, as the legacy answers for each identity."""
    needs(lockstep, operation, "token")
    run_flow("auth", operation, group="identity")


@pytest.mark.parametrize("operation", PROTECTED, ids=str)
def test_the_gateways_auth_errors_carry_cors_headers(operation, lockstep, run_flow):
    """With an allowed Origin, the 401 for a bad token and the 403 for a lacking scope carry
    Access-Control-Allow-Origin (and -Credentials): a browser sees the error, not "CORS error"."""
    needs(lockstep, operation, "cors")
    run_flow("auth", operation, group="cors")


@pytest.mark.parametrize("operation", PROTECTED_READS, ids=str)
def test_authenticated_calls_cost_about_what_they_cost_on_the_legacy(operation, lockstep, run_flow):
    """p50/p95 of authenticated calls, gateway vs legacy: figures in summary.json (a failure only beyond
    the contract's auth.max_overhead_p95_ms)."""
    needs(lockstep, operation, "token", "focus")
    run_flow("auth", operation, group="latency")


@pytest.mark.parametrize("operation", BURST_TARGET, ids=str)
def test_valid_tokens_stay_fast_while_invalid_ones_flood_in(operation, lockstep, run_flow):
    """A bounded burst of invalid tokens (threads, loopback only) while valid calls are timed: none of
    them refused, their p95 in summary.json (a failure only beyond auth.max_burst_slowdown)."""
    needs(lockstep, operation, "token", "loopback")
    run_flow("auth", operation, group="burst")
