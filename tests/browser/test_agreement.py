"""The CORS model against the browser: zero disagreements over every operation, origin and CORS fault.

- Faithful demo gateways (Python and nginx): from every allowed origin, the browser may call every
  operation; from every disallowed or fuzzed origin, it may not.
- Each CORS fault of the zoo, on both gateways: every CORS finding lockstep reports, replayed with
  `--cors-browser`, is one the browser confirms, for the check's own reason. A disagreement fails and
  names the check.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lockstep.browser import BrowserCase, BrowserOracle, UnsupportedCase
from lockstep.checks.cors import browser_can_send, fuzz_origins, policy_for
from lockstep.contract import load_contract
from lockstep.demo import DemoStack
from lockstep.operations import operations_of

from ..e2e.runner import ROOT, run_suites

pytestmark = [pytest.mark.browser, pytest.mark.servers]
GATEWAYS = ["python", pytest.param("nginx", marks=pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed: apt-get install nginx libnginx-mod-http-js"))]
CORS_FAULTS = ["cors-no-authorization-header", "cors-preflight-needs-auth", "cors-wildcard-with-credentials"]


@pytest.fixture(scope="module")
def demo_contract() -> object:
    return load_contract(ROOT / "contracts" / "migration.yaml", env={})


@pytest.fixture(params=GATEWAYS)
def stack(request: pytest.FixtureRequest) -> Iterator[DemoStack]:
    with DemoStack(gateway=request.param) as running:
        yield running


def _cases(stack: DemoStack, contract: object) -> list[tuple[str, bool, BrowserCase]]:
    """(what, must the browser get through, the fetch) for every operation and origin."""
    document = yaml.safe_load((ROOT / "contracts" / "demo-api.yaml").read_text())
    token = stack.token()
    found = []
    for op in operations_of(document):
        if not browser_can_send(op.method):
            continue
        policy = policy_for(contract.cors, op)  # type: ignore[attr-defined]
        headers = (("Authorization", f"Bearer {token}"), ("Content-Type", "application/json"))
        body = None if op.method in ("GET", "HEAD") else "{"  # a write the API refuses: nothing changes
        mode = "include" if policy.credentials else "omit"
        origins = [(o, policy.enabled) for o in policy.allowed] + [(o, False) for o, _ in fuzz_origins(policy)]
        for origin, may in origins:
            case = BrowserCase(origin, op.method, stack.gateway_url + op.example_path, headers, mode, body)
            found.append((f"{op.label} from {origin}", may, case))
    return found


def test_on_the_faithful_gateways_allowed_origins_get_through_and_no_other_does(stack: DemoStack,
                                                                                 demo_contract: object) -> None:
    disagreements, judged = [], 0
    with BrowserOracle() as oracle:
        for what, may, case in _cases(stack, demo_contract):
            try:
                verdict = oracle.run(case)
            except UnsupportedCase:
                continue  # an origin no page can have (the oracle says so): nothing to compare
            judged += 1
            if verdict.cors_blocked == may:
                disagreements.append(f"{what}: browser {'blocked' if verdict.cors_blocked else 'allowed'} "
                                     f"({verdict.reason or verdict.error}), the policy says "
                                     f"{'allowed' if may else 'blocked'}")
    assert judged > 100
    assert disagreements == []


@pytest.mark.parametrize("gateway", GATEWAYS)
@pytest.mark.parametrize("fault", CORS_FAULTS)
def test_every_cors_finding_of_a_fault_is_one_the_browser_confirms(tmp_path: Path, fault: str, gateway: str) -> None:
    run = run_suites(tmp_path, "suites", "-m", "cors", "--cors-browser", f"--demo-faults={fault}",
                     f"--demo-gateway={gateway}", "--lockstep-seed=1234")
    assert run.rc == 1, run.out[-3000:]
    findings = run.findings("cors")
    assert findings, f"{fault} was not caught on the {gateway} gateway"
    unconfirmed = [f"{f['check']} on {f['operation']}: {f.get('browser')}" for f in findings
                   if not (f.get("browser") or {}).get("confirmed")]
    disowned = [f"{n['check']} on {n['operation']}: {n['message'][-200:]}" for n in run.summary["notes"]
                if "not confirmed by a real browser" in n["message"]]
    assert unconfirmed == [] and disowned == []
    assert all("Chromium" in f["message"] and "says:" in f["message"] for f in findings)
