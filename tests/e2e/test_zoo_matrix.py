"""The fault zoo as one self-test: each demo fault alone is caught by the flow that should catch it,
and the faithful stack passes. The fault x flow matrix is printed (the README shows it)."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lockstep.demo import KNOWN_FAULTS
from lockstep.findings import FLOWS

from .runner import Run, run_suites

pytestmark = pytest.mark.e2e

EXPECTED = {
    "missing-route": "parity", "status-rewrite": "parity", "drop-cache-control": "parity",
    "drop-null-fields": "parity", "query-plus-decoded": "parity", "error-body-not-json": "parity",
    "cors-no-authorization-header": "cors", "cors-preflight-needs-auth": "cors",
    "cors-wildcard-with-credentials": "cors", "auth-open-route": "auth", "auth-scheme-case-sensitive": "auth",
    "auth-expired-accepted": "auth", "auth-alg-none-accepted": "auth", "drop-request-body-field": "stateful",
    "slow-route": "latency", "expose-internal": "routes",
}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory) -> dict[str, Run]:
    names = ["(faithful)", *KNOWN_FAULTS]

    def run(name: str) -> Run:
        folder = tmp_path_factory.mktemp(name.strip("()"))
        args = [] if name == "(faithful)" else [f"--demo-faults={name}"]
        return run_suites(folder, "suites", "--lockstep-seed=1234", *args)

    with ThreadPoolExecutor(max_workers=2) as pool:  # two suites at a time on two cores
        runs = dict(zip(names, pool.map(run, names)))
    _print_matrix(runs)
    return runs


def _flows(run: Run) -> set[str]:
    return {f["flow"] for f in run.findings()}


def _print_matrix(runs: dict[str, Run]) -> None:
    lines = [f"{'fault':32} {'expect':9} {'rc':3} " + " ".join(f"{f:9}" for f in FLOWS)]
    for name, run in runs.items():
        found = _flows(run)
        lines.append(f"{name:32} {EXPECTED.get(name, '-'):9} {run.rc:<3} "
                     + " ".join(f"{'x' if f in found else '.':9}" for f in FLOWS))
    text = "\n".join(lines)
    Path(__file__).resolve().parents[2].joinpath("reports").mkdir(exist_ok=True)
    Path(__file__).resolve().parents[2].joinpath("reports", "zoo-matrix.txt").write_text(text + "\n")
    print("\n" + text)


def test_every_fault_of_the_zoo_has_a_flow_that_must_catch_it():
    assert set(KNOWN_FAULTS) <= set(EXPECTED), set(KNOWN_FAULTS) - set(EXPECTED)


def test_the_faithful_stack_passes_every_flow(zoo):
    run = zoo["(faithful)"]
    assert run.rc == 0 and run.findings() == [], run.out[-3000:]


@pytest.mark.parametrize("fault", sorted(KNOWN_FAULTS))
def test_each_fault_alone_is_caught_by_its_flow(zoo, fault):
    run = zoo[fault]
    assert run.rc == 1, run.out[-3000:]
    assert EXPECTED[fault] in _flows(run), (fault, _flows(run), run.out[-2000:])
