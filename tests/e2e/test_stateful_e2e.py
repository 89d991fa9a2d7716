"""Writes in lockstep, judged by what the demo's own servers saw, not by the suite's claims."""

import pytest

from lockstep.demo import DemoStack

from .runner import run_suites

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("seed", [101, 202, 303, 404, 505])
def test_faithful_gateway_gives_zero_stateful_findings(tmp_path, seed):
    run = run_suites(tmp_path, "suites/test_stateful.py", f"--lockstep-seed={seed}")
    assert run.rc == 0, run.out[-3000:]
    assert run.summary["findings"] == [] and run.summary["cases"] > 0


def test_sequences_really_create_read_update_delete_on_both_sides_and_leave_nothing(tmp_path):
    with DemoStack() as stack:
        before = stack_state(stack)
        run = run_suites(tmp_path, "suites/test_stateful.py", "--legacy-url", stack.legacy_url,
                         "--gateway-url", stack.gateway_url, "--lockstep-seed=8",
                         env={"GATEWAY_TOKEN": stack.token()})
        assert run.rc == 0, run.out[-3000:]
        log = stack.upstream_log()
        after = stack_state(stack)
    seen = {("gateway" if "via" in e["headers"] else "legacy", e["method"], _shape(e["path"])) for e in log}
    for side in ("legacy", "gateway"):
        for method in ("POST", "GET", "PATCH", "PUT", "DELETE"):
            path = "/subscriptions" if method == "POST" else "/subscriptions/{id}"
            assert (side, method, path) in seen, (side, method)
    assert after == before, "the sequences (and their extra legacy creates) must clean up after themselves"


def test_a_write_path_fault_is_caught_by_the_stateful_flow(tmp_path):
    run = run_suites(tmp_path, "suites/test_stateful.py", "--demo-faults=drop-request-body-field", "--lockstep-seed=1")
    assert run.rc == 1, run.out[-3000:]
    found = {(f["operation"], f["location"].split(": ", 1)[-1]) for f in run.findings("stateful")}
    assert ("PATCH /subscriptions/{subscription_id}", "body:/note") in found, found


def stack_state(stack: DemoStack) -> dict:
    state = stack._http("GET", f"{stack.legacy_url}/__demo__/state").json()
    state.pop("log_size", None)
    return state


def _shape(path: str) -> str:
    parts = path.strip("/").split("/")
    return "/" + parts[0] + ("/{id}" if len(parts) > 1 else "")
