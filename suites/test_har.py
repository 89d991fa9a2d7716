"""Recorded traffic: each request of a HAR file (a browser's or a proxy's export) is answered by the gateway
like the legacy answers it.

Replayed through the parity comparison (legacy twice, gateway once, learned noise), named after the
document's operation it matches. A request the document does not describe is an `unknown-route` note (a
spec gap), compared all the same. Secrets in the HAR are stripped before anything is sent: each target's own
credentials take their place. Unsafe methods follow the profile (smoke replays only GET/HEAD/OPTIONS).
Give the file with --har FILE or the contract's `har:`; without one, this suite is skipped.
"""

import pytest

from lockstep.har import HarReplay
from lockstep.pytest_plugin import ITEM_FINDINGS, lockstep_har_entries, lockstep_schema
from lockstep.errors import UnsafeRequestError
from lockstep.report import allure_report

pytestmark = pytest.mark.har


@pytest.fixture(scope="module")
def replayer(lockstep):
    return HarReplay(lockstep, lockstep_schema())


@pytest.mark.parametrize("entry", lockstep_har_entries(), ids=str)
def test_a_recorded_request_is_answered_like_legacy(entry, replayer, request):
    allure_report.label("har", entry.label)
    try:
        replayed = replayer.replay(entry)
    except UnsafeRequestError as exc:
        pytest.skip(f"recorded request #{entry.index}: {exc}")
    request.node.stash.setdefault(ITEM_FINDINGS, []).extend(replayed.findings)
    failing = [f for f in replayed.findings if f.severity == "failure"]
    if failing:
        allure_report.attach_findings(failing)
        ex = replayed.exchange
        allure_report.attach_answers([ex.legacy, ex.gateway])
