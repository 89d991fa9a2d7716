"""The load flow end to end, as a user runs it: `pytest suites -m load` against the embedded demo, in a
subprocess, reports in a temporary folder. Faithful: figures for every step, no finding; each of the two
auth-service faults: a `load` finding naming the knee, below the contract's rate, with that step's figures."""

import json

import pytest

from lockstep.contract import load_contract
from lockstep.load.model import rate_of, steps_of

from ..e2e.runner import ROOT, Run, run_suites

pytestmark = pytest.mark.e2e

SPEC = load_contract(ROOT / "contracts" / "migration.yaml", env={}).load
RATES = [s.rate for s in steps_of(SPEC)]


def load_run(tmp_path, *args: str) -> Run:
    return run_suites(tmp_path, "suites", "-m", "load", *args, timeout=300)


def figures(run: Run) -> dict:
    return run.summary["figures"]["load"]


def test_the_faithful_demo_holds_the_rate_figures_for_every_step_and_no_finding(tmp_path):
    run = load_run(tmp_path)
    assert run.rc == 0, run.out[-3000:]
    assert run.findings() == [], run.findings()
    load = figures(run)
    assert [s["rate"] for s in load["steps"]] == RATES
    for step in load["steps"]:
        for stream in ("gateway", "legacy", "token"):
            fig = step[stream]
            assert fig["requests"] > 0 and fig["error_rate"] == 0.0, (step["rate"], stream, fig)
            assert {"achieved_rps", "p50_ms", "p95_ms", "p99_ms", "errors"} <= set(fig)
        assert step["gateway"]["requests"] == step["legacy"]["requests"]
        assert "overhead_p95_ms" in step
    assert load["knee"] is None or load["knee"]["rate"] > rate_of(SPEC)
    assert (run.reports / "load" / "locust.html").is_file()
    assert "load: step 1/" in run.out and "gateway" in run.out  # progress while it ran
    svg = [p for p in (run.reports / "allure-results").glob("*-attachment.svg")]
    assert svg and "auth path under load" in svg[0].read_text()


@pytest.mark.parametrize("fault", ["auth-slow-signing", "auth-pool-exhausted"])
def test_each_auth_service_fault_has_its_knee_below_the_rate(tmp_path, fault):
    run = load_run(tmp_path, f"--demo-faults={fault}")
    assert run.rc == 1, run.out[-3000:]
    knees = [f for f in run.findings("load") if f["check"] == "knee"]
    assert len(knees) == 1, run.findings()
    knee, load = knees[0], figures(run)
    assert load["knee"]["rate"] < rate_of(SPEC) and "token" in load["knee"]["streams"]
    assert knee["location"] == f"step {load['knee']['step']} at {load['knee']['rate']:g}/s"
    assert "the token service" in knee["message"] and knee["gateway"]["requests"] > 0
    assert knee["legacy"]["requests"] == knee["gateway"]["requests"]
    assert {f["flow"] for f in run.findings()} == {"load"}


def test_without_m_load_the_load_test_skips_saying_how_to_run_it(tmp_path):
    run = run_suites(tmp_path, "suites/test_load.py", "-rs")
    assert run.rc == 0, run.out[-2000:]
    assert "runs only when asked" in run.out and "pytest suites -m load" in run.out
    assert run.summary["totals"]["skipped"] == 1 and "load" not in run.summary["figures"]


def test_the_smoke_profile_never_loads(tmp_path):
    run = load_run(tmp_path, "--profile=smoke", "-rs")
    assert run.rc == 0 and "smoke profile never sends load" in run.out, run.out[-2000:]
    assert not (run.reports / "load" / "locust.html").exists()
    assert json.dumps(run.summary).count("locust") == 0
