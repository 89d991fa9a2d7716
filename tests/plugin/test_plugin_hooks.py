"""The plugin's hooks, run by pytester in a throwaway project: header, seed hand-off, outputs, signals.

No target is contacted: these suites never ask for the `lockstep` fixture (which starts and probes them).
"""

from __future__ import annotations

import json
import signal

import pytest

DOCUMENT = """
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /items:
    get:
      operationId: listItems
      tags: [items]
      responses: {"200": {description: ok}}
  /slow:
    get:
      operationId: slow
      tags: [slow]
      responses: {"200": {description: ok}}
"""
CONTRACT = """
spec: api.yaml
targets:
  legacy: {url: "http://127.0.0.1:9"}
  gateway: {url: "http://127.0.0.1:9"}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ["lockstep.pytest_plugin"]')
    pytester.makefile(".yaml", api=DOCUMENT)
    pytester.makefile(".yaml", migration=CONTRACT)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    return pytester


def _run(project: pytest.Pytester, *args: str, subprocess: bool = False) -> pytest.RunResult:
    base = ["--contract", "migration.yaml", "--reports", "reports", *args]
    return project.runpytest_subprocess(*base) if subprocess else project.runpytest(*base)


SUITE = """
from lockstep.pytest_plugin import lockstep_operations, lockstep_settings
import os, pathlib

def test_seed_and_operations():
    name = os.environ.get("PYTEST_XDIST_WORKER", "main")
    pathlib.Path(f"seed-{name}.txt").write_text(str(lockstep_settings().seed))
    pathlib.Path("operations.txt").write_text(",".join(op.label for op in lockstep_operations()))
"""


def test_the_header_prints_the_seed_and_summary_json_keeps_it(project: pytest.Pytester) -> None:
    project.makepyfile(test_suite=SUITE)
    result = _run(project, "--lockstep-seed", "1234")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*seed 1234 (option --lockstep-seed)*"])
    summary = json.loads((project.path / "reports" / "summary.json").read_text())
    assert summary["seed"] == 1234 and summary["interrupted"] is False


def test_under_xdist_every_worker_gets_the_controllers_random_seed(project: pytest.Pytester) -> None:
    project.makepyfile(test_a=SUITE, test_b=SUITE.replace("test_seed_and_operations", "test_again"))
    result = _run(project, "-n", "2", subprocess=True)
    result.assert_outcomes(passed=2)
    header = next(line for line in result.outlines if "; seed " in line)
    printed = header.split("; seed ", 1)[1].split()[0]
    seeds = {p.read_text() for p in project.path.glob("seed-gw*.txt")}
    assert seeds == {printed}
    summary = json.loads((project.path / "reports" / "summary.json").read_text())
    assert str(summary["seed"]) == printed


def test_the_contracts_selection_and_disabled_checks_show_in_the_header(project: pytest.Pytester) -> None:
    (project.path / "migration.yaml").write_text(CONTRACT + """
operations: {exclude: [{tag: slow}]}
checks: {disable: [{check: cors.error-429, reason: "the staging gateway has no rate limit"}, auth.nope]}
""")
    project.makepyfile(test_suite=SUITE)
    result = _run(project)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*the contract's `operations` leaves out 1 operation(s): GET /slow*",
        "*check cors.error-429 disabled: the staging gateway has no rate limit*",
        "*check auth.nope disabled: disabled by the contract (no check has this name)*",
    ])
    assert (project.path / "operations.txt").read_text() == "GET /items"


def test_a_new_run_removes_the_previous_runs_outputs_first(project: pytest.Pytester) -> None:
    reports = project.path / "reports"
    reports.mkdir()
    (reports / "summary.json").write_text('{"stale": true}')
    (reports / "junit.xml").write_text("<stale/>")
    project.makepyfile(test_suite="def test_collect_only_here(): pass")
    _run(project, "--collect-only")  # collection alone writes nothing and removes nothing
    assert (reports / "summary.json").read_text() == '{"stale": true}'
    project.makepyfile(test_suite="import pytest\ndef test_usage(): pytest.exit('stop', returncode=3)")
    _run(project)
    assert "stale" not in (reports / "summary.json").read_text()


def test_sigterm_is_an_interruption_and_the_summary_says_so(project: pytest.Pytester) -> None:
    project.makepyfile(test_suite=f"""
import os, signal
def test_first(): pass
def test_killed(): os.kill(os.getpid(), {int(signal.SIGTERM)})
def test_never(): pass
""")
    result = _run(project, subprocess=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    summary = json.loads((project.path / "reports" / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["totals"]["passed"] == 1


def test_a_broken_contract_is_one_usage_line(project: pytest.Pytester) -> None:
    (project.path / "migration.yaml").write_text(CONTRACT + "compre: {}\n")
    project.makepyfile(test_suite="def test_x(): pass")
    result = _run(project, subprocess=True)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert any("did you mean 'compare'" in line for line in result.errlines)
    assert not any("Traceback" in line for line in result.errlines + result.outlines)
