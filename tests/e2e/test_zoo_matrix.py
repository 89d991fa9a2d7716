"""The fault zoo as one self-test, on both demo gateways (ours in Python, and a real nginx): each fault
alone is caught by the flow that should catch it, and the faithful stacks give zero findings over several
seeds. The fault x flow matrix is printed and written under the test's temporary directory (set
LOCKSTEP_ZOO_MATRIX=path to keep a copy; the README shows it), never into the repository."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lockstep.demo import KNOWN_FAULTS
from lockstep.findings import FLOWS

from .runner import Run, run_suites

pytestmark = [pytest.mark.e2e, pytest.mark.servers]

EXPECTED = {
    "missing-route": "parity", "status-rewrite": "parity", "drop-cache-control": "parity",
    "drop-null-fields": "parity", "query-plus-decoded": "parity", "error-body-not-json": "parity",
    "cors-no-authorization-header": "cors", "cors-preflight-needs-auth": "cors",
    "cors-wildcard-with-credentials": "cors", "auth-open-route": "auth", "auth-scheme-case-sensitive": "auth",
    "auth-expired-accepted": "auth", "auth-alg-none-accepted": "auth", "identity-trusted-on-public": "auth",
    "drop-request-body-field": "stateful", "slow-route": "latency", "expose-internal": "routes",
    "auth-slow-signing": "load", "auth-pool-exhausted": "load",
}
LOAD_FAULTS = {f for f, flow in EXPECTED.items() if flow == "load"}  # the auth service's: one gateway is enough
SEEDS = (1234, 1, 2, 3, 4)  # the faithful stacks: every flow on the first, generated-case flows on the others
GATEWAYS = ("python", "nginx") if shutil.which("nginx") else ("python",)


def _runs() -> list[tuple[str, str, list[str]]]:
    """(gateway, row name, extra arguments) for every run of the matrix."""
    runs = []
    for gateway in GATEWAYS:
        runs.append((gateway, "(faithful)", [f"--lockstep-seed={SEEDS[0]}"]))
        runs += [(gateway, f"(faithful, seed {s})", [f"--lockstep-seed={s}", "-m", "parity or stateful or har"])
                 for s in SEEDS[1:]]
        for fault in sorted(KNOWN_FAULTS):
            if fault in LOAD_FAULTS and gateway != "python":
                continue
            marks = ["-m", "load"] if fault in LOAD_FAULTS else []
            runs.append((gateway, fault, [f"--demo-faults={fault}", f"--lockstep-seed={SEEDS[0]}", *marks]))
    return runs


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Run]:
    plan = _runs()

    def run(entry: tuple[str, str, list[str]]) -> Run:
        gateway, name, args = entry
        folder = tmp_path_factory.mktemp(f"{gateway}-{name.strip('()').replace(' ', '-').replace(',', '')}")
        return run_suites(folder, "suites", f"--demo-gateway={gateway}", *args)

    with ThreadPoolExecutor(max_workers=2) as pool:  # two suites at a time on two cores
        runs = dict(zip(((g, n) for g, n, _ in plan), pool.map(run, plan)))
    _write_matrix(runs, tmp_path_factory.getbasetemp() / "zoo-matrix.txt")
    return runs


def _flows(run: Run) -> set[str]:
    return {f["flow"] for f in run.findings()}


def _write_matrix(runs: dict[tuple[str, str], Run], path: Path) -> None:
    lines = [f"{'gateway':8} {'fault':32} {'expect':9} {'rc':3} " + " ".join(f"{f:9}" for f in FLOWS)]
    for (gateway, name), run in runs.items():
        found = _flows(run)
        lines.append(f"{gateway:8} {name:32} {EXPECTED.get(name, '-'):9} {run.rc:<3} "
                     + " ".join(f"{'x' if f in found else '.':9}" for f in FLOWS))
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    if os.environ.get("LOCKSTEP_ZOO_MATRIX"):
        Path(os.environ["LOCKSTEP_ZOO_MATRIX"]).write_text(text)
    print("\n" + text)


def test_every_fault_of_the_zoo_has_a_flow_that_must_catch_it() -> None:
    assert set(KNOWN_FAULTS) == set(EXPECTED), set(KNOWN_FAULTS) ^ set(EXPECTED)


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_the_faithful_stacks_give_zero_findings_over_every_seed(zoo: dict, gateway: str) -> None:
    for (kind, name), run in zoo.items():
        if kind == gateway and name.startswith("(faithful"):
            assert run.rc == 0 and run.findings() == [], (name, run.findings()[:5], run.out[-2000:])


@pytest.mark.parametrize("gateway", GATEWAYS)
@pytest.mark.parametrize("fault", sorted(KNOWN_FAULTS))
def test_each_fault_alone_is_caught_by_its_flow(zoo: dict, fault: str, gateway: str) -> None:
    if (gateway, fault) not in zoo:
        pytest.skip(f"{fault} is the auth service's fault, the same behind either gateway: run on the python one")
    run = zoo[(gateway, fault)]
    assert run.rc == 1, run.out[-3000:]
    assert EXPECTED[fault] in _flows(run), (fault, gateway, _flows(run), run.out[-2000:])
