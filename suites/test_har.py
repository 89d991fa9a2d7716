"""Recorded traffic: each request of a HAR file (a browser's or a proxy's export) is answered by the gateway
like the legacy answers it.

Replayed through the parity comparison (legacy twice, gateway once, learned noise), named after the
document's operation it matches. A request the document does not describe is an `unknown-route` note (a
spec gap), compared all the same. Secrets in the HAR are stripped before anything is sent: each target's own
credentials take their place. Unsafe methods follow the profile (smoke replays only GET/HEAD/OPTIONS).
Give the file with --har FILE or the contract's `har:`; without one, this suite is skipped.
"""

import pytest

from lockstep.pytest_plugin import lockstep_har_entries

pytestmark = pytest.mark.har


@pytest.mark.parametrize("entry", lockstep_har_entries(), ids=str)
def test_a_recorded_request_is_answered_like_legacy(entry, har_check):
    har_check(entry)
