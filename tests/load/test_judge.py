"""The knee and the budget, judged on synthetic step figures (no traffic)."""

from lockstep.contract import LoadSpec
from lockstep.load.judge import find_knee, judge
from lockstep.report.load_chart import load_chart

SPEC = LoadSpec(rate="100/s", ramp=[25, 50, 200], operations=["GET /a"], token_rate="10/s",
                budget={"p95_ms": 150, "error_rate": 0.01, "overhead_p95_ms": 30}, knee_floor_ms=20)


def stream(rate: float, p95: float, failures: int = 0, errors: dict | None = None, requests: int | None = None) -> dict:
    n = requests if requests is not None else int(rate * 10)
    return {"requests": n, "failures": failures, "achieved_rps": n / 10, "p50_ms": p95 / 2, "p95_ms": p95,
            "p99_ms": p95 * 1.2, "error_rate": round(failures / n, 4) if n else 0.0, "errors": errors or {},
            "operations": {}}


def step(index: int, rate: float, gateway: float, legacy: float = 10, token: float = 8, **more) -> dict:
    return {"index": index, "rate": rate, "token_rate": rate / 10, "window_s": 10.0,
            "gateway": more.get("gateway_stream") or stream(rate, gateway),
            "legacy": stream(rate, legacy), "token": more.get("token_stream") or stream(rate / 10, token)}


def healthy() -> list[dict]:
    return [step(1, 25, 14), step(2, 50, 15), step(3, 100, 18), step(4, 200, 90)]


def test_a_path_that_holds_the_rate_gives_figures_and_no_finding():
    findings, figures = judge({"steps": healthy()}, SPEC)
    assert findings == []
    assert figures["knee"] == {"step": 4, "rate": 200, "streams": ["gateway"],
                               "why": "the gateway's p95 doubled: 90 ms against 14 ms at 25/s (floor 20 ms)"}
    assert [s["overhead_p95_ms"] for s in figures["steps"]] == [4, 5, 8, 80]  # gateway p95 - legacy p95
    assert figures["rate"] == 100 and figures["budget"]["p95_ms"] == 150


def test_the_knee_below_rate_is_a_finding_naming_the_step_and_its_figures():
    steps = [step(1, 25, 14), step(2, 50, 45), step(3, 100, 50)]  # 45 > 2 x max(14, floor 20)
    findings, _ = judge({"steps": steps}, SPEC)
    knee = [f for f in findings if f.check == "knee"]
    assert len(knee) == 1 and knee[0].flow == "load" and knee[0].location == "step 2 at 50/s"
    assert "breaks at 50/s, below the contract's rate 100/s" in knee[0].message
    assert knee[0].gateway["p95_ms"] == 45 and knee[0].legacy["p95_ms"] == 10  # the step's figures


def test_under_the_floor_a_doubling_is_no_knee():
    steps = [step(1, 25, 3), step(2, 50, 7), step(3, 100, 19)]  # 3 -> 19 ms: x6, but under 2 x 20 ms
    assert find_knee(steps, SPEC) is None


def test_the_token_service_has_a_knee_of_its_own():
    steps = [step(1, 25, 14, token=30), step(2, 50, 15, token=200), step(3, 100, 16, token=900)]
    knee = find_knee(steps, SPEC)
    assert knee["step"] == 2 and knee["streams"] == ["token"] and "token service's p95 doubled" in knee["why"]


def test_errors_past_the_budget_are_a_knee_and_name_their_statuses():
    failing = stream(5, 60, failures=3, errors={"503": 3}, requests=100)
    steps = [step(1, 25, 14), step(2, 50, 15, token_stream=failing)]
    findings, figures = judge({"steps": steps, "stopped_early": "step 2 (50/s): token error rate 3.0% > 1.0%"}, SPEC)
    assert figures["knee"]["step"] == 2 and "failed 3.0%" in figures["knee"]["why"] and "503: 3" in figures["knee"]["why"]
    assert [f.check for f in findings] == ["knee"]  # stopped before rate: the knee says it, no not-reached


def test_an_error_rate_at_the_budget_is_not_over_it():
    at_limit = stream(25, 14, failures=1, requests=100)  # 1.0% == budget
    assert find_knee([step(1, 25, 14, gateway_stream=at_limit)], SPEC) is None


def test_the_budget_at_rate_fails_each_figure_it_breaks():
    steps = [step(1, 25, 100), step(2, 50, 120), step(3, 100, 160, legacy=100, token=170)]
    findings, _ = judge({"steps": steps}, SPEC)
    assert [f.location for f in findings] == [
        "step 3 at 100/s: the gateway's p95", "step 3 at 100/s: the token service's p95",
        "step 3 at 100/s: the gateway's p95 overhead over the legacy"]
    assert all(f.check == "budget" and f.failing for f in findings)
    assert "160 ms > 150 ms" in findings[0].message and "60 ms > 30 ms" in findings[2].message


def test_a_run_that_never_reached_the_rate_says_so():
    findings, _ = judge({"steps": [step(1, 25, 14), step(2, 50, 15)], "stopped_early": None}, SPEC)
    assert [(f.check, f.location) for f in findings] == [("not-reached", "rate 100/s")]


def test_a_step_the_generator_could_not_offer_is_a_note_not_a_failure():
    short = stream(50, 15, requests=300)  # 30/s of 50/s, latency fine
    steps = [step(1, 25, 14), step(2, 50, 15, gateway_stream=short), step(3, 100, 18)]
    findings, _ = judge({"steps": steps}, SPEC)
    assert [(f.check, f.severity) for f in findings] == [("generator-limited", "note")]
    assert "--load-workers" in findings[0].message


def test_the_chart_draws_three_series_the_budget_the_rate_and_the_knee():
    _, figures = judge({"steps": healthy()}, SPEC)
    svg = load_chart(figures)
    assert svg.startswith("<svg") and svg.count("<polyline") == 6  # 3 series x (p95, errors)
    for text in ("gateway", "legacy", "token service", "budget 150", ">rate<", ">knee<", "200/s"):
        assert text in svg, text
    assert "no step was measured" in load_chart({"steps": []})
