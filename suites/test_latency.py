"""Latency: the gateway's overhead over the legacy, per operation (p50 and p95, gateway minus legacy).

Measured on the parity cases this run already sent (these tests run last), with a bounded sample of the
example request only where those are too few. A failure only where the contract's `latency:` sets a
budget; the figures are in summary.json (`figures.latency`) and in Allure, with a chart per operation.
Not in the smoke profile unless asked for (`-m latency`). The check is in lockstep/checks/latency.py.
"""

import pytest

from lockstep.checks.latency import skip_reason
from lockstep.pytest_plugin import lockstep_operations, lockstep_settings

OPERATIONS = lockstep_operations()

pytestmark = pytest.mark.latency


@pytest.fixture(autouse=True)
def measured(request):
    settings = lockstep_settings()
    reason = skip_reason(settings.profile, settings.profile_name, request.config.option.markexpr)
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_the_gateway_adds_little_latency(operation, run_flow):
    """p50 and p95 answer times of the gateway against the legacy's, within the contract's budget."""
    run_flow("latency", operation, group="overhead")
