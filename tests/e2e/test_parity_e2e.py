"""The parity flow end to end against the demo stack: faithful is clean, each seeded fault is caught."""

import pytest

from lockstep.demo import DemoStack

from .runner import demo_contract, run_suites

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("seed", [11, 22, 33, 44, 55])
def test_faithful_gateway_gives_zero_parity_findings(tmp_path, seed):
    run = run_suites(tmp_path, "suites/test_parity.py", f"--lockstep-seed={seed}")
    assert run.rc == 0, run.out[-3000:]
    summary = run.summary
    assert summary["findings"] == [] and summary["seed"] == seed
    assert summary["operations"] >= 14 and summary["cases"] >= 100
    assert summary["totals"]["passed"] == summary["operations"]


# fault -> (operation, category) the parity flow must report
CAUGHT = {
    "missing-route": ("GET /deliveries/{delivery_id}", "route-missing"),
    "status-rewrite": ("POST /subscriptions", "status"),
    "drop-cache-control": ("GET /recipes/{recipe_id}", "header"),
    "drop-null-fields": ("GET /recipes/{recipe_id}", "missing-key"),
    "query-plus-decoded": ("GET /recipes", "body-value"),
    "error-body-not-json": ("GET /recipes/{recipe_id}", "body-type"),
}


@pytest.mark.parametrize("fault", sorted(CAUGHT))
def test_each_parity_fault_is_caught_on_the_right_operation(tmp_path, fault):
    run = run_suites(tmp_path, "suites/test_parity.py", "--lockstep-seed=7", f"--demo-faults={fault}")
    operation, category = CAUGHT[fault]
    assert run.rc == 1, run.out[-3000:]
    found = {(f["operation"], f["check"]) for f in run.findings("parity")}
    assert (operation, category) in found, found
    assert f"FINDING [parity] {operation}: {category}" in run.out


def test_external_pair_with_token_from_the_environment_never_leaks_it(tmp_path):
    with DemoStack(["status-rewrite"]) as stack:
        token = stack.token()
        run = run_suites(tmp_path, "suites/test_parity.py", "-m", "parity", "--contract", "contracts/migration.yaml",
                         "--legacy-url", stack.legacy_url, "--gateway-url", stack.gateway_url,
                         "--lockstep-seed=3", env={"GATEWAY_TOKEN": token})
        assert run.rc == 1, run.out[-3000:]
        assert run.summary["targets"] == {"legacy": stack.legacy_url, "gateway": stack.gateway_url}
        text = run.all_text()
        assert "$GATEWAY_TOKEN" in text  # reproducers name the variable ...
        assert token not in text and token[:40] not in text  # ... never the value
        assert stack.signing_key_pem.splitlines()[1] not in text


def test_known_difference_turns_a_finding_into_an_expected_result(tmp_path):
    contract = demo_contract(tmp_path, ("known_differences: []", "known_differences:\n  - {operation: 'POST /subscriptions', "
                                        "where: status, reason: 'ticket GW-12', until: 2999-01-01}"))
    run = run_suites(tmp_path, "suites/test_parity.py", "--contract", str(contract), "--demo-faults=status-rewrite",
                     "-k", "POST and subscriptions and not skip", "--lockstep-seed=5")
    assert run.rc == 0, run.out[-3000:]
    assert "1 xfailed" in run.out
    [known] = [f for f in run.summary["findings"] if f["known"]]
    assert "GW-12" in known["reason"]
    expired = contract.read_text().replace("2999-01-01", "2020-01-01")
    contract.write_text(expired)
    run = run_suites(tmp_path, "suites/test_parity.py", "--contract", str(contract), "--demo-faults=status-rewrite",
                     "-k", "POST and subscriptions and not skip", "--lockstep-seed=5")
    assert run.rc == 1 and "expired on 2020-01-01" in run.out


def test_a_selection_of_no_operation_fails_loudly(tmp_path):
    run = run_suites(tmp_path, "suites/test_parity.py", "-k", "no-such-operation")
    assert run.rc != 0
