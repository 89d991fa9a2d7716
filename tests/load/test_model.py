"""The contract's `load:` section: valid, unknown keys, unknown operations, the consent, when it runs."""

from pathlib import Path

import pytest

from lockstep.contract import load_contract
from lockstep.errors import ContractError
from lockstep.load.flow import load_requested, skip_reason
from lockstep.load.model import check_operations, load_skip_reason, steps_of, token_ratio

SPEC = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
TARGETS = ("spec: api.yaml\ntargets:\n  legacy: {url: 'http://127.0.0.1:1', loadable: true}\n"
           "  gateway: {url: 'http://127.0.0.1:2', loadable: true}\n")
LOAD = ("load:\n  rate: 200/s\n  duration: 60\n  ramp: [25, 50, 100, 400]\n"
        "  operations: [GET /recipes, 'GET /subscriptions/{subscription_id}']\n  token_rate: 20/s\n"
        "  budget: {p95_ms: 150, error_rate: 0.01, overhead_p95_ms: 30}\n")
DOCUMENT = ["GET /recipes", "GET /subscriptions/{subscription_id}", "POST /subscriptions"]


def contract(tmp_path: Path, text: str):
    (tmp_path / "api.yaml").write_text(SPEC)
    (tmp_path / "migration.yaml").write_text(text)
    return load_contract(tmp_path / "migration.yaml", env={})


def test_the_issue_s_load_section_is_valid_and_becomes_rising_steps(tmp_path):
    spec = contract(tmp_path, TARGETS + LOAD).load
    steps = steps_of(spec)
    assert [s.rate for s in steps] == [25, 50, 100, 200, 400]  # `rate` joins the ramp
    assert [s.seconds for s in steps] == [10, 10, 10, 60, 10]  # held `duration` at rate, step_duration else
    assert token_ratio(spec) == pytest.approx(0.1) and steps[0].token_rate == pytest.approx(2.5)
    assert spec.budget.p95_ms == 150 and spec.budget.overhead_p95_ms == 30
    check_operations(spec, DOCUMENT)  # every operation is in the document


def test_an_unknown_load_key_is_a_contract_error_with_a_hint(tmp_path):
    with pytest.raises(ContractError) as err:
        contract(tmp_path, TARGETS + LOAD.replace("  duration: 60\n", "  duraton: 60\n"))
    assert "load.duraton" in str(err.value) and "did you mean 'duration'" in str(err.value)
    with pytest.raises(ContractError) as err:
        contract(tmp_path, TARGETS + LOAD.replace("p95_ms: 150,", "p99_ms: 150,"))
    assert "load.budget.p99_ms" in str(err.value) and "did you mean 'p95_ms'" in str(err.value)


def test_an_operation_not_in_the_document_is_one_line_naming_the_key(tmp_path):
    spec = contract(tmp_path, TARGETS + LOAD.replace("GET /recipes,", "GET /recipe,")).load
    with pytest.raises(ContractError) as err:
        check_operations(spec, DOCUMENT, file="migration.yaml")
    text = str(err.value)
    assert text.startswith("migration.yaml: load.operations[0]: 'GET /recipe' is not an operation")
    assert "did you mean 'GET /recipes'" in text and "\n" not in text


@pytest.mark.parametrize("bad, says", [
    ("operations: [POST /subscriptions]", "only safe reads carry load"),
    ("ramp: [100, 50]", "rising"),
    ("rate: 20000/s", "more than 5000/s"),
    ("rate: lots", "N/s"),
])
def test_unsafe_or_unbounded_load_is_refused(tmp_path, bad, says):
    key = bad.split(":")[0]
    text = "\n".join(f"  {bad}" if line.startswith(f"  {key}:") else line for line in LOAD.splitlines()) + "\n"
    with pytest.raises(ContractError) as err:
        contract(tmp_path, TARGETS + text)
    assert says in str(err.value)


def test_load_is_never_sent_without_loadable_on_both_targets(tmp_path):
    text = TARGETS.replace("url: 'http://127.0.0.1:2', loadable: true", "url: 'http://127.0.0.1:2'") + LOAD
    reason = load_skip_reason(contract(tmp_path, text), "staging")
    assert reason is not None and "gateway `loadable: true`" in reason and "legacy" not in reason


def test_the_smoke_profile_never_loads_and_no_section_says_so(tmp_path):
    loaded = contract(tmp_path, TARGETS + LOAD)
    assert "smoke profile never sends load" in load_skip_reason(loaded, "smoke")
    assert load_skip_reason(loaded, "staging") is None
    assert "no `load:` section" in load_skip_reason(contract(tmp_path, TARGETS), "staging")


@pytest.mark.parametrize("markexpr, runs", [
    ("", False), (None, False), ("parity", False), ("not load", False), ("not (load)", False),
    ("load", True), ("load or parity", True), ("parity or load", True), ("(load)", True), ("loadish", False),
])
def test_the_load_flow_runs_only_when_m_names_it(markexpr, runs):
    assert load_requested(markexpr) is runs


def test_the_skip_reason_says_how_to_run_it(tmp_path):
    reason = skip_reason(contract(tmp_path, TARGETS + LOAD), "staging", "")
    assert "-m load" in reason and "--load-workers" in reason
    assert skip_reason(contract(tmp_path, TARGETS + LOAD), "staging", "load") is None


def test_lockstep_never_imports_locust_or_gevent_in_its_own_process():
    """Locust patches its process with gevent when imported: only its child processes may import it."""
    import subprocess
    import sys

    code = ("import sys, lockstep.pytest_plugin, lockstep.load.flow, lockstep.load.runner, lockstep.load.judge, "
            "lockstep.report.load_chart; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('locust', 'gevent', 'geventhttpclient')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
