"""The engine without a session: the registry, one percentile, one send, the flow runner and its context."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest

from lockstep.contract import TargetSpec
from lockstep.engine import registry
from lockstep.engine.flows import NoChecks
from lockstep.engine.send import Sender, send
from lockstep.engine.stats import percentile
from lockstep.errors import UnsafeRequestError
from lockstep.operations import Operation
from lockstep.targets import Target

from .helpers import flow_runner

OP = Operation("GET", "/items/{id}", "getItem", (), None, "/items/7", False)


def _target(name: str, seen: list[httpx.Request], status: int = 200, **spec: object) -> Target:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json={"id": 7})

    return Target(name, TargetSpec(url=f"http://{name}.test", **spec), transport=httpx.MockTransport(handler))


def test_the_one_percentile_is_linear_on_0_to_100() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)  # numpy's default
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 1.5 * 100)


def test_send_adds_the_targets_own_headers_unless_told_not_to() -> None:
    seen: list[httpx.Request] = []
    target = _target("legacy", seen, headers={"X-User-Id": "u1"})
    send(target, "GET", "/items/7", headers={"Origin": "https://a.example"}, query={"q": "a b"})
    send(target, "OPTIONS", "/items/7", credentials=False)
    assert seen[0].url == "http://legacy.test/items/7?q=a+b"
    assert seen[0].headers["x-user-id"] == "u1" and seen[0].headers["origin"] == "https://a.example"
    assert "x-user-id" not in seen[1].headers


def test_send_refuses_a_method_the_target_may_not_receive_before_sending() -> None:
    seen: list[httpx.Request] = []
    target = _target("gateway", seen, writable=False)
    with pytest.raises(UnsafeRequestError):
        Sender({"gateway": target}).send("gateway", "DELETE", "/items/7")
    assert seen == []


def test_a_registered_check_gets_its_policy_slice_and_a_send_that_counts() -> None:
    @registry.check("unit-test-flow", "echo", group="g")
    def echo(ctx):  # type: ignore[no-untyped-def]
        answer = ctx.send("gateway")
        ctx.figures["seen"] = ctx.policy
        yield ctx.finding("echo", "status", "always", gateway=answer.status, answer=answer)

    registry.flow_policy("unit-test-flow", lambda contract: contract.mine)
    seen: list[httpx.Request] = []
    runner = flow_runner(_target("legacy", seen), _target("gateway", seen), SimpleNamespace(mine={"k": 1}))
    result = runner.run("unit-test-flow", OP)
    assert [f.check for f in result.new] == ["echo"] and result.new[0].reproducers["gateway"].startswith("curl")
    assert runner.figures["unit-test-flow"]["seen"] == {"k": 1}
    assert runner.counts[OP.label] == 1
    assert runner.run("unit-test-flow", OP).new == []  # the same finding again only adds to its count


def test_a_disabled_check_does_not_run_and_a_flow_without_checks_says_so() -> None:
    @registry.check("unit-test-off", "loud", group="g")
    def loud(ctx):  # type: ignore[no-untyped-def]
        raise AssertionError("a disabled check ran")

    seen: list[httpx.Request] = []
    runner = flow_runner(_target("legacy", seen), _target("gateway", seen), SimpleNamespace(),
                         disabled=["unit-test-off.loud"])
    with pytest.raises(NoChecks, match="disabled"):
        runner.run("unit-test-off", OP)
    assert registry.is_disabled("cors", "error-429", ["error-429"])
    assert not registry.is_disabled("cors", "error-429", ["auth.error-429"])


def test_every_check_module_registers_under_its_own_flow() -> None:
    checks = registry.load_all_checks()
    flows = {c.flow for c in checks}
    assert {"parity", "cors", "auth", "routes", "latency"} <= flows
    assert "conformance" in registry.rule_names("parity")
    names = [c.qualified for c in checks]
    assert len(names) == len(set(names))


def test_past_the_deadline_a_check_sends_nothing_more_and_a_note_says_what_was_left() -> None:
    @registry.check("unit-test-slow", "loop", group="g")
    def loop(ctx):  # type: ignore[no-untyped-def]
        for _ in range(200):
            ctx.send("gateway")
        return []

    @registry.check("unit-test-slow", "after", group="g")
    def after(ctx):  # type: ignore[no-untyped-def]
        raise AssertionError("ran past the deadline")

    import time as _time

    seen: list[httpx.Request] = []
    gateway = _target("gateway", seen)
    slow = gateway.client._transport.handler  # type: ignore[attr-defined]
    gateway.client._transport.handler = lambda r: (_time.sleep(0.01), slow(r))[1]  # type: ignore[attr-defined]
    runner = flow_runner(_target("legacy", seen), gateway, SimpleNamespace())
    runner.deadline = 0.1
    result = runner.run("unit-test-slow", OP)
    assert [f.check for f in result.new] == ["deadline"] and result.new[0].severity == "note"
    assert "loop, after" in result.new[0].message
    assert len(seen) < 200
