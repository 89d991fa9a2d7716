"""Latency statistics and the overhead check, with fake targets whose delay the test sets."""

from __future__ import annotations

import time
from collections import Counter
from types import SimpleNamespace
from xml.etree import ElementTree

import httpx
import pytest

from lockstep.checks.latency import MIN_SAMPLES, distribution, measure, over_budget, skip_reason
from lockstep.engine.context import RunFacts
from lockstep.engine.stats import percentile
from lockstep.report.latency_chart import latency_lines, svg_chart
from lockstep.contract import DEFAULT_PROFILES, LatencyPolicy, TargetSpec
from lockstep.findings import Finding
from lockstep.operations import Operation
from lockstep.targets import Target

from .helpers import flow_runner

GET = Operation("GET", "/items/{id}", None, (), None, "/items/i1", False)
POST = Operation("POST", "/items", None, (), None, "/items", True)


# ---------------------------------------------------------------- statistics

def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([7.0], 95) == 7.0
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)  # numpy's default
    with pytest.raises(ValueError):
        percentile([], 50)


def test_distribution_and_overhead_in_milliseconds() -> None:
    legacy = [0.010] * 19 + [0.030]
    gateway = [0.012] * 19 + [0.090]
    figure = measure(legacy, gateway)
    assert figure["legacy"] == distribution(legacy)
    assert figure["legacy"]["n"] == 20 and figure["legacy"]["p50_ms"] == 10.0 and figure["legacy"]["max_ms"] == 30.0
    assert figure["overhead_p50_ms"] == 2.0
    assert figure["overhead_p95_ms"] == pytest.approx(figure["gateway"]["p95_ms"] - figure["legacy"]["p95_ms"])


def test_budgets_fail_only_where_set_and_few_answers_need_a_slow_median() -> None:
    figure = {"overhead_p50_ms": 3.0, "overhead_p95_ms": 80.0}
    assert over_budget(figure, LatencyPolicy()) == []  # no budget: figures only
    assert over_budget(figure, LatencyPolicy(p95_overhead_ms=50)) == [("p95", 50, 80.0)]
    assert over_budget(figure, LatencyPolicy(p95_overhead_ms=50), robust=False) == []  # one slow answer
    slow = {"overhead_p50_ms": 150.0, "overhead_p95_ms": 152.0}
    assert over_budget(slow, LatencyPolicy(p95_overhead_ms=50, p50_overhead_ms=20), robust=False) == \
        [("p50", 20, 150.0), ("p95", 50, 152.0)]


def test_a_profile_without_bursts_measures_nothing_unless_asked() -> None:
    smoke, staging = DEFAULT_PROFILES["smoke"], DEFAULT_PROFILES["staging"]
    assert "smoke" in skip_reason(smoke, "smoke", "") and "-m latency" in skip_reason(smoke, "smoke", None)
    assert skip_reason(smoke, "smoke", "latency") is None and skip_reason(staging, "staging", "") is None
    live = DEFAULT_PROFILES["staging"].model_copy(update={"bursts": False})
    assert "live" in skip_reason(live, "live", "")  # a contract's own live profile: no name switch


def test_the_chart_is_an_svg_of_both_distributions() -> None:
    svg = svg_chart("GET /items/{id} <&>", [0.001, 0.002, 0.003], [0.150, 0.152, 0.160], p95_budget=50)
    root = ElementTree.fromstring(svg)  # well-formed XML, label escaped
    assert root.tag.endswith("svg")
    circles = [e for e in root.iter() if e.tag.endswith("circle")]
    assert len(circles) == 6
    texts = " ".join(e.text or "" for e in root.iter() if e.tag.endswith("text"))
    assert "legacy" in texts and "gateway" in texts and "p95 budget" in texts and "<&>" in texts
    ElementTree.fromstring(svg_chart("GET /", [], [0.001]))  # an empty side still draws


def test_terminal_lines_name_the_largest_overhead_and_each_breach() -> None:
    figures = {"latency": {
        "GET /a": {"overhead_p50_ms": 1.0, "overhead_p95_ms": 2.5, "budget": {"p95_overhead_ms": 50}, "verdict": "within budget"},
        "GET /b": {"overhead_p50_ms": 150.0, "overhead_p95_ms": 151.0, "budget": {"p95_overhead_ms": 50},
                   "verdict": "over budget"},
        "POST /c": {"samples": {"parity": 1}, "verdict": "not measured"}}}
    lines = latency_lines(figures)
    assert "2 operations measured" in lines[0] and "+151 ms (GET /b)" in lines[0] and "1 over" in lines[0]
    assert lines[1].strip().startswith("over budget  GET /b")
    assert latency_lines({}) == []


# ---------------------------------------------------------------- the check, against fake targets

class FakeSession:
    """Two MockTransport targets and the latency flow's runner: no session, the check's own context."""

    def __init__(self, gateway_delay: float, policy: LatencyPolicy | None, timings: dict | None = None) -> None:
        def serve(delay: float):
            def handler(request: httpx.Request) -> httpx.Response:
                self.sent[request.url.host] += 1
                if delay:
                    time.sleep(delay)
                return httpx.Response(200, json={"ok": True})
            return handler

        self.sent: Counter[str] = Counter()
        legacy = Target("legacy", TargetSpec(url="http://legacy.test"), transport=httpx.MockTransport(serve(0)))
        gateway = Target("gateway", TargetSpec(url="http://gw.test"), transport=httpx.MockTransport(serve(gateway_delay)))
        self.runner = flow_runner(legacy, gateway, SimpleNamespace(latency=policy),
                                  facts=RunFacts(timings=timings or {}))
        self.figures = self.runner.figures


def run(session: FakeSession, operation: Operation) -> list[Finding]:
    return session.runner.run("latency", operation, group="overhead").new


def parity_timings(legacy: list[float], gateway: list[float]) -> dict[str, dict[str, list[float]]]:
    return {"legacy": legacy, "gateway": gateway}


def test_parity_timings_within_budget_send_nothing() -> None:
    session = FakeSession(0, LatencyPolicy(p95_overhead_ms=50),
                          {GET.label: parity_timings([0.002] * 10, [0.004] * 10)})
    assert run(session, GET) == []
    assert sum(session.sent.values()) == 0  # no extra traffic
    figure = session.figures["latency"][GET.label]
    assert figure["samples"] == {"parity": 10} and figure["verdict"] == "within budget"
    assert figure["overhead_p50_ms"] == 2.0


def test_one_slow_parity_answer_is_re_measured_before_it_fails() -> None:
    gateway = [0.004] * 9 + [0.400]  # a GC pause on a loaded machine
    session = FakeSession(0, LatencyPolicy(p95_overhead_ms=50, sample=10),
                          {GET.label: parity_timings([0.002] * 10, gateway)})
    assert run(session, GET) == []
    figure = session.figures["latency"][GET.label]
    assert figure["overhead_p95_ms"] > 50 and figure["confirmation"]["overhead_p95_ms"] < 50
    assert session.sent == Counter({"legacy.test": 10, "gw.test": 10})


def test_a_slow_gateway_breaks_the_budget_after_confirmation() -> None:
    session = FakeSession(0.06, LatencyPolicy(p95_overhead_ms=50, sample=5),
                          {GET.label: parity_timings([0.002] * 10, [0.062] * 10)})
    [finding] = run(session, GET)
    assert (finding.flow, finding.operation, finding.check, finding.location) == \
        ("latency", GET.label, "p95-over-budget", "latency:p95")
    assert finding.gateway > finding.legacy + 50 and "budget 50 ms" in finding.message
    assert session.figures["latency"][GET.label]["verdict"] == "over budget"


def test_without_parity_timings_a_safe_operation_is_sampled_and_a_write_is_not_measured() -> None:
    session = FakeSession(0, LatencyPolicy(sample=6))
    assert run(session, GET) == []
    assert session.figures["latency"][GET.label]["samples"] == {"parity": 0, "sample": 6}
    assert session.figures["latency"][GET.label]["verdict"] == "figures only"
    [note] = run(session, POST)
    assert note.check == "not-measured" and note.severity == "note"
    assert session.sent == Counter({"legacy.test": 6, "gw.test": 6})  # the POST sent nothing


def test_a_write_with_few_timings_fails_on_a_slow_median_not_on_one_slow_answer() -> None:
    policy = LatencyPolicy(p95_overhead_ms=50)
    spike = FakeSession(0, policy, {POST.label: parity_timings([0.002] * 10, [0.004] * 9 + [0.400])})
    assert run(spike, POST) == [] and sum(spike.sent.values()) == 0
    slow = FakeSession(0, policy, {POST.label: parity_timings([0.002] * 10, [0.160] * 10)})
    assert [f.check for f in run(slow, POST)] == ["p95-over-budget"]


def test_a_burst_joins_the_distribution_for_safe_methods_only() -> None:
    session = FakeSession(0, LatencyPolicy(burst=12), {GET.label: parity_timings([0.002] * MIN_SAMPLES,
                                                                                  [0.003] * MIN_SAMPLES)})
    assert run(session, GET) == []
    assert session.figures["latency"][GET.label]["samples"] == {"parity": MIN_SAMPLES, "burst": 12}
    assert session.figures["latency"][GET.label]["gateway"]["n"] == MIN_SAMPLES + 12
