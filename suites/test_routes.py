"""Routes: the gateway routes every operation of the document, keeps private paths private, and still
answers the old paths clients call.

Each test is one line of the checklist; signed off when every line passes (or each finding is a known
difference with a reason). The inventory (routed / missing / exposed, one row per operation, private path
and alias) is in summary.json (`figures.routes`) and in the terminal summary. Private paths and aliases
come from the contract's `routes:`; the checks are in lockstep/checks/routes.py.
"""

import pytest

from lockstep.checks.routes import aliases_for, private_operation
from lockstep.pytest_plugin import lockstep_operations, lockstep_settings

OPERATIONS = lockstep_operations()

pytestmark = pytest.mark.routes


def pytest_generate_tests(metafunc):
    routes = lockstep_settings().contract.routes
    if "private" in metafunc.fixturenames:
        paths = [private_operation(p) for p in (routes.private if routes else [])]
        metafunc.parametrize("private", paths or [pytest.param(None, marks=pytest.mark.skip(
            reason="the contract declares no `routes.private` paths (e.g. an internal admin API the old DNS "
                   "exposed only inside), so there is nothing the gateway must keep private"))],
            ids=str if paths else ["none-declared"])
    if "aliased" in metafunc.fixturenames:
        covered = [op for op in OPERATIONS if routes and aliases_for(op, routes.aliases)]
        metafunc.parametrize("aliased", covered or [pytest.param(None, marks=pytest.mark.skip(
            reason="the contract declares no `routes.aliases` covering an operation (old paths or hosts that "
                   "old app versions still call)"))], ids=str if covered else ["none-declared"])


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_the_gateway_routes_it(operation, run_flow):
    """The operation's example request (a write: without credentials, so nothing changes) is not answered
    by the gateway's own 404/405 where the legacy answers it."""
    run_flow("routes", operation, group="inventory")


def test_a_private_path_is_not_reachable_through_the_gateway(private, run_flow):
    """A private path the legacy serves inside answers 403/404 through the public gateway: the path, its
    trailing-slash, double-slash, percent-encoded and letter-case variants, and at the gateway host's root."""
    run_flow("routes", private, group="private")


def test_an_old_path_answers_like_its_new_path(aliased, run_flow):
    """Through each alias that covers it, the operation's example request answers like the legacy (as the
    parity flow holds the new path to); a write is only asked whether the old path is routed."""
    run_flow("routes", aliased, group="aliases")
