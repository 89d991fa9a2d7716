"""Stateful parity: writes compared in lockstep. Each sequence (create -> read -> update -> read ->
replace -> read -> delete -> read, from the document's links) runs on both targets, each with its own
resource; every step's answers must agree once the two sides' ids are paired.

Signed off when: every scenario passes on the staging profile.
"""

import pytest

from lockstep.pytest_plugin import lockstep_scenarios


@pytest.mark.stateful
@pytest.mark.parametrize("scenario", lockstep_scenarios(), ids=str)
def test_writes_in_lockstep_leave_both_sides_alike(scenario, stateful_check):
    stateful_check(scenario)
