"""Parity's comparison rules by name: a rule the contract disables is dropped by the judge, the others stay."""

from __future__ import annotations

from lockstep.contract import TargetSpec
from lockstep.engine.judge import Judge, NoDocument
from lockstep.engine.record import Recorder
from lockstep.exchange import Exchange
from lockstep.findings import FindingBook, Rules
from lockstep.targets import Target

from .helpers import answer


def _judge(disabled: frozenset[str] = frozenset()) -> Judge:
    legacy, gateway = (Target(n, TargetSpec(url=f"http://{n}.test")) for n in ("legacy", "gateway"))
    return Judge(legacy, gateway, headers=["cache-control", "content-type"], max_body_bytes=10_000,
                 recorder=Recorder(Rules([], []), FindingBook()), disabled=disabled)


def _exchange() -> Exchange:
    first = answer(200, {"id": 1, "name": "a"}, {"cache-control": "max-age=60"})
    again = answer(200, {"id": 1, "name": "a"}, {"cache-control": "max-age=60"})
    gateway = answer(200, {"id": 1, "name": "b"}, target="gateway")
    return Exchange("GET /x", first, again, gateway)


def test_every_rule_on_reports_the_header_and_the_value() -> None:
    verdict = _judge().judge(NoDocument(), _exchange(), None)
    assert sorted(d.category for d in verdict.differences) == ["body-value", "header"]


def test_a_disabled_rule_is_dropped_and_only_that_one() -> None:
    verdict = _judge(frozenset({"header"})).judge(NoDocument(), _exchange(), None)
    assert [d.category for d in verdict.differences] == ["body-value"]
