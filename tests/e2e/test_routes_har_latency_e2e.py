"""Route inventory, HAR replay and latency overhead end to end against the demo stack, as a user runs them."""

import json

import httpx
import pytest

import yaml

from lockstep.demo import DemoStack
from lockstep.operations import operations_of

from .runner import demo_contract, ROOT, run_suites

pytestmark = pytest.mark.e2e

HAR = str(ROOT / "fixtures" / "demo-session.har")
FLOWS = ("suites/test_parity.py", "suites/test_routes.py", "suites/test_har.py", "suites/test_latency.py")
SLOW = "GET /recipes/{recipe_id}"


def _har_token() -> str:
    entries = json.loads((ROOT / "fixtures" / "demo-session.har").read_text())["log"]["entries"]
    value = next(h["value"] for e in entries for h in e["request"]["headers"] if h["name"].lower() == "authorization")
    return value.split(" ", 1)[1]


def test_faithful_demo_every_operation_routed_har_clean_latency_within_budget(tmp_path):
    run = run_suites(tmp_path, *FLOWS, "--har", HAR, "--lockstep-seed=8", "--max-examples=5")
    assert run.rc == 0, run.out[-3000:]
    summary = run.summary
    assert summary["findings"] == []
    routes = summary["figures"]["routes"]
    operations = {k: v for k, v in routes.items() if v["kind"] == "operation"}
    count = len(operations_of(yaml.safe_load((ROOT / "contracts" / "demo-api.yaml").read_text())))
    assert len(operations) == count and {v["verdict"] for v in operations.values()} == {"routed"}
    assert routes["GET /internal/stats (private)"]["verdict"] == "not reachable"
    assert {v["verdict"] for v in routes.values() if v["kind"] == "alias"} == {"like its new path"}
    har = summary["figures"]["har"]
    assert har["plan"]["replayed"] == 16 and har["plan"]["unknown_routes"] == 0
    assert {v["verdict"] for k, v in har.items() if k != "plan"} == {"same"}
    latency = summary["figures"]["latency"]
    assert len(latency) == count and {v["verdict"] for v in latency.values()} == {"within budget"}
    assert f"routes: operations {count} ({count} routed); private paths 1 (1 not reachable)" in run.out
    assert f"latency (gateway minus legacy): {count} operations measured" in run.out
    text = run.all_text()
    token = _har_token()
    assert token not in text and token[:40] not in text  # the recorded token never reaches a report
    assert "mk_session=9c2f1e0b7a6d4c3b8e5f" not in text
    svgs = list((run.reports / "allure-results").glob("*.svg"))
    assert len(svgs) == count  # a chart of both distributions per operation


def test_missing_route_shows_up_missing_in_the_inventory(tmp_path):
    run = run_suites(tmp_path, "suites/test_routes.py", "--demo-faults=missing-route")
    assert run.rc == 1, run.out[-3000:]
    assert {(f["operation"], f["check"]) for f in run.findings()} == {("GET /deliveries/{delivery_id}", "route-missing")}
    row = run.summary["figures"]["routes"]["GET /deliveries/{delivery_id}"]
    assert (row["verdict"], row["legacy"], row["gateway"]) == ("missing", 200, 404)
    assert "missing  GET /deliveries/{delivery_id}  (legacy 200; gateway 404)" in run.out


def test_an_exposed_internal_api_shows_up_exposed(tmp_path):
    run = run_suites(tmp_path, "suites/test_routes.py", "--demo-faults=expose-internal")
    assert run.rc == 1, run.out[-3000:]
    found = {(f["operation"], f["check"], f["location"]) for f in run.findings()}
    assert ("GET /internal/stats", "exposed", "path:the path") in found
    assert {op for op, _, _ in found} == {"GET /internal/stats"}
    assert run.summary["figures"]["routes"]["GET /internal/stats (private)"]["verdict"] == "exposed"


def test_slow_route_breaks_the_latency_budget_on_that_operation_only(tmp_path):
    run = run_suites(tmp_path, *FLOWS, "--har", HAR, "--demo-faults=slow-route", "--lockstep-seed=8",
                     "--max-examples=5")
    assert run.rc == 1, run.out[-3000:]
    assert [(f["flow"], f["operation"], f["check"]) for f in run.findings()] == [("latency", SLOW, "p95-over-budget")]
    latency = run.summary["figures"]["latency"]
    assert latency[SLOW]["verdict"] == "over budget"
    judged = latency[SLOW].get("confirmation", latency[SLOW])
    assert judged["overhead_p50_ms"] >= 140
    assert {op for op, f in latency.items() if f["verdict"] != "within budget"} == {SLOW}
    assert f"over budget  {SLOW}" in run.out


def test_latency_alone_samples_safe_operations_and_leaves_writes_unmeasured(tmp_path):
    run = run_suites(tmp_path, "suites", "-m", "latency", "-k", "recipes or subscriptions and not _id")
    assert run.rc == 0, run.out[-3000:]
    latency = run.summary["figures"]["latency"]
    assert latency["GET /recipes"]["samples"] == {"parity": 0, "sample": 20}
    assert latency["POST /subscriptions"]["verdict"] == "not measured"
    assert [n["check"] for n in run.summary["notes"]] == ["not-measured"]


def test_without_a_har_the_suite_skips_saying_how_to_give_one(tmp_path):
    contract = demo_contract(tmp_path)
    contract.write_text("\n".join(line for line in contract.read_text().splitlines() if not line.startswith("har:")))
    run = run_suites(tmp_path, "suites/test_har.py", "-rs", "--contract", str(contract))
    assert run.rc == 0, run.out[-3000:]
    assert "1 skipped" in run.out and "no recorded traffic to replay: pass --har FILE" in run.out


def test_an_unusable_har_is_a_one_line_usage_error(tmp_path):
    bad = tmp_path / "broken.har"
    bad.write_text("{ not json")
    run = run_suites(tmp_path, "suites/test_har.py", "--har", str(bad))
    assert run.rc == 4, run.out[-3000:]
    assert f"lockstep: {bad}: not JSON (line 1" in run.out and "Traceback" not in run.out


def test_the_demo_serves_its_alias_and_keeps_its_internal_api_inside():
    with DemoStack() as stack, httpx.Client(trust_env=False, timeout=10) as client:
        new = client.get(f"{stack.gateway_url}/recipes/r-004")
        old = client.get(f"{stack.gateway_url}/v1/recipes/r-004")
        assert old.status_code == new.status_code == 200 and old.json() == new.json()
        assert old.headers["etag"] == new.headers["etag"]
        listing = client.get(f"{stack.gateway_url}/v1/recipes", params={"per_page": 2})
        assert f"<{stack.gateway_url}/recipes?" in listing.headers["link"]
        assert client.get(f"{stack.legacy_url}/internal/stats").status_code == 200
        assert client.get(f"{stack.gateway_url}/internal/stats").status_code == 404
        assert client.get(f"{stack.gateway_url}/v1/menus").status_code == 404  # only the catalogue has an alias
