"""Load on the auth path: the gateway with valid tokens, and the token service, at the traffic the cutover
must hold (the contract's `load:` section), measured with Locust.

Signed off when, at every step up to the contract's `rate`:
- the gateway answers the operations' example requests with its p95 not doubled against the first step;
- the token service issues tokens at its share of the rate with its p95 not doubled either;
- neither fails more than the budget's error rate (the run stops at the first step that does);
and at `rate`: both p95s within `budget.p95_ms`, the gateway's p95 overhead over the legacy (sent the
same requests at the same rate) within `budget.overhead_p95_ms`.

A different kind of run (it sends real traffic for a minute or more): only with `-m load`, never on the
smoke profile, never to a target the contract does not mark `loadable: true`. Figures per step in
summary.json (`figures.load`), a chart in Allure, Locust's own report in reports/load/locust.html.
"""

import pytest

pytestmark = pytest.mark.load


def test_the_auth_path_holds_the_expected_traffic(load_check):
    load_check()
