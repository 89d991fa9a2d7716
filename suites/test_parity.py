"""Parity: for every operation of the document, the gateway answers like the legacy.

Each generated case goes to the legacy twice (what differs is learned noise) and to the gateway once.
Signed off when: every operation passes, or each finding is a known difference with a reason.
"""

import pytest

from lockstep.pytest_plugin import lockstep_schema

schema = lockstep_schema()


@pytest.mark.parity
@schema.parametrize()
def test_gateway_answers_like_legacy(case, parity_check):
    parity_check(case)
