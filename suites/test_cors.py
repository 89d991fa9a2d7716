"""CORS: a browser on an allowed origin can call every operation, and no other origin can.

The declared policy (the contract's `cors:`) is the truth, not the legacy. Each test is one line of the
checklist, run for every operation; signed off when every line passes (or each finding is a known
difference with a reason). The checks are in lockstep/checks/cors/ (one module per line), with the
catalog cases they cover; the plugin registers them.
"""

import pytest

from lockstep.checks.cors import browser_can_send, policy_for, rate_limit_operation, unused_overrides
from lockstep.operations import operations_of
from lockstep.pytest_plugin import lockstep_operations, lockstep_schema, lockstep_settings, none_to_run

OPERATIONS = lockstep_operations()
DOCUMENT_OPERATIONS = operations_of(lockstep_schema().raw_schema)  # the selection left out included
# the one the check chooses from the whole document, where this run tests it
BURST_TARGET = [op for op in [rate_limit_operation(DOCUMENT_OPERATIONS)] if op is not None and op in OPERATIONS] \
    or none_to_run("no-burst-target", "no cheap public GET is tested here, so the 429 answer's CORS is not probed")

pytestmark = pytest.mark.cors


@pytest.fixture(autouse=True)
def cors(request):
    """The declared policy; without one there is nothing to judge the gateway's CORS against."""
    policy = lockstep_settings().contract.cors
    if policy is None:
        pytest.skip("the contract declares no `cors:` policy, so the gateway's CORS cannot be judged: "
                    "add one to the contract (origins, credentials, headers, expose, max_age)")
    callspec = getattr(request.node, "callspec", None)
    operation = callspec.params.get("operation") if callspec else None
    if operation is not None and not browser_can_send(operation.method):
        pytest.skip(f"no browser can send {operation.method} (a forbidden method in the Fetch standard): no "
                    f"preflight asks for it, so no CORS rule applies to {operation}")
    return policy


@pytest.fixture
def browsers_allowed(cors, request):
    """Skip the lines about allowed browsers where the policy turns CORS off (`enabled: false`)."""
    operation = request.node.callspec.params["operation"]
    if not policy_for(cors, operation).enabled:
        pytest.skip(f"the policy turns CORS off for {operation} (enabled: false): no origin may call it")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_browser_on_an_allowed_origin_may_call_it(operation, browsers_allowed, run_flow):
    """Preflight from each allowed origin: 2xx without credentials, its exact origin, the method in exact
    case, Authorization and Content-Type allowed, credentials as declared, max age as declared."""
    run_flow("cors", operation, group="preflight")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_its_preflight_is_never_redirected(operation, browsers_allowed, run_flow):
    """Trailing-slash and case variants of the path: no 301/308 on a preflight."""
    run_flow("cors", operation, group="redirect")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_no_other_origin_may_call_it(operation, run_flow):
    """Another site, `null`, and look-alikes of each allowed origin (prefix, suffix, subdomain, unescaped
    dot, http for https, special characters, another port) get no Access-Control-Allow-Origin."""
    run_flow("cors", operation, group="origins")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_it_grants_only_the_offered_methods_and_declared_headers(operation, browsers_allowed, run_flow):
    """A preflight asking for a method the path does not offer, or an unlisted header, is not granted."""
    run_flow("cors", operation, group="grants")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_credentials_never_go_with_a_wildcard_or_several_origins(operation, run_flow):
    """Never `Access-Control-Allow-Origin: *` with credentials; exactly one Access-Control-Allow-Origin."""
    run_flow("cors", operation, group="safety")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_caches_keep_answers_apart_by_origin(operation, browsers_allowed, run_flow):
    """`Vary: Origin` on origin-specific answers and on answers without Origin; the legacy's Vary kept."""
    run_flow("cors", operation, group="vary")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_script_on_an_allowed_origin_may_read_the_answer(operation, browsers_allowed, run_flow):
    """The actual (simple) request's answer carries the origin, credentials and the exposed headers."""
    run_flow("cors", operation, group="actual")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_the_gateways_own_errors_carry_cors(operation, browsers_allowed, run_flow):
    """401 without a token, 404 for an unknown path, 405 for a method the path does not offer: each
    readable by the browser (else it shows "CORS error" instead of the status)."""
    run_flow("cors", operation, group="errors")


@pytest.mark.parametrize("operation", BURST_TARGET, ids=str)
def test_a_rate_limited_answer_carries_cors(operation, browsers_allowed, run_flow):
    """A bounded burst to one cheap public GET until it is answered 429 (not in the smoke profile)."""
    run_flow("cors", operation, group="rate-limit")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_plain_options_is_answered_like_legacy(operation, run_flow):
    """OPTIONS without a preflight's headers: same status class and Allow as the legacy, not swallowed."""
    run_flow("cors", operation, group="plain-options")


def test_every_policy_override_selects_an_operation(cors):
    """An override whose path, method or tag matches nothing is a typo that silently changes nothing."""
    unused = unused_overrides(cors, DOCUMENT_OPERATIONS)
    assert not unused, "CORS overrides selecting no operation of the document: " + "; ".join(unused)
