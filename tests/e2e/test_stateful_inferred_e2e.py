"""Class 8 of issue 12: real documents declare no OpenAPI links, and writes must still be compared.

On a copy of the demo document with every `links:` removed, the stateful flow infers the create's
links (Schemathesis's dependency analysis: `POST /subscriptions` answers an `id` that
`/subscriptions/{subscription_id}` takes), runs the sequences on both targets, passes the faithful
gateway and catches the write-path faults.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .runner import ROOT, Run, demo_contract, run_suites

pytestmark = [pytest.mark.e2e, pytest.mark.servers]

ITEM = "/subscriptions/{subscription_id}"


def linkless_contract(folder: Path) -> Path:
    document = yaml.safe_load((ROOT / "contracts" / "demo-api.yaml").read_text())
    removed = 0
    for item in document["paths"].values():
        for operation in item.values():
            for response in (operation.get("responses") or {}).values() if isinstance(operation, dict) else ():
                removed += response.pop("links", None) is not None
    assert removed, "the demo document declares links: this test removes them"
    spec = folder / "demo-api-no-links.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    return demo_contract(folder, (f"spec: {ROOT / 'contracts' / 'demo-api.yaml'}", f"spec: {spec}"))


def stateful_run(tmp_path: Path, *args: str) -> Run:
    contract = linkless_contract(tmp_path)
    assert "links:" not in Path(yaml.safe_load(contract.read_text())["spec"]).read_text()
    return run_suites(tmp_path, "suites", "-m", "stateful", "--contract", str(contract), "--lockstep-seed=7", *args)


def test_sequences_are_inferred_run_and_a_faithful_gateway_passes(tmp_path):
    run = stateful_run(tmp_path)
    assert run.rc == 0, run.out[-3000:]
    summary = run.summary
    assert summary["findings"] == [], summary["findings"]
    ran = summary["cases_by_operation"]
    for label in ("POST /subscriptions", f"GET {ITEM}", f"PATCH {ITEM}", f"PUT {ITEM}", f"DELETE {ITEM}"):
        assert ran.get(label, 0) > 0, (label, ran)


@pytest.mark.parametrize("fault, operation, where", [
    ("status-rewrite", "POST /subscriptions", "status"),
    ("drop-request-body-field", f"PATCH {ITEM}", "body:/note"),
])
def test_write_path_faults_are_caught_by_the_stateful_flow(tmp_path, fault, operation, where):
    run = stateful_run(tmp_path, f"--demo-faults={fault}")
    assert run.rc == 1, run.out[-3000:]
    found = {(f["operation"], f["location"].split(": ", 1)[-1]) for f in run.findings("stateful")}
    assert (operation, where) in found, found
