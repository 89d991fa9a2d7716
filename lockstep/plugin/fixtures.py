"""The fixtures suites use: the run's session, and one checker per flow (parity, HAR, stateful, checks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import allure
import pytest

from ..contract import DEMO
from ..engine.flows import NoChecks
from ..errors import ContractError, LockstepError, UnsafeRequestError
from ..findings import Finding
from ..har import HarReplay
from ..report import allure_report
from ..session import LockstepSession
from ..stateful import Lockstep, explore
from .browser import confirm_new
from .progress import Deadline, progress_line
from .state import ITEM_FINDINGS, LABELLED, STATE

__all__ = ["lockstep", "parity_check", "har_check", "stateful_check", "run_flow",
           "load_check"]


@pytest.fixture(scope="session")
def lockstep(request: pytest.FixtureRequest) -> Iterator[LockstepSession]:
    """The run's session: targets started and probed (the demo stack too, if the contract asks for it)."""
    state = request.config.stash[STATE]
    try:
        state.session.start()
    except LockstepError as exc:
        state.session.close()
        state.exit_reason = str(exc)
        pytest.exit(f"lockstep: {exc}", returncode=3)
    yield state.session
    state.session.close()


def _found(item: pytest.Item) -> list[Finding]:
    return item.stash.setdefault(ITEM_FINDINGS, [])


@pytest.fixture(scope="session")
def parity_check(lockstep: LockstepSession, request: pytest.FixtureRequest) -> Callable[[Any], None]:
    """Compare one Schemathesis case on both targets; findings fail the test once all its cases ran.

    Session-scoped because Hypothesis calls the test once per case; the current item comes from the
    runtest hook. Past the profile's per-operation deadline, the remaining cases are not sent (a note).
    """
    state = request.config.stash[STATE]

    def check(case: Any) -> None:
        item = state.running
        operation = case.operation.label
        if not item.stash.get(LABELLED, False):
            allure_report.label("parity", operation)
            item.stash[LABELLED] = True
        deadline = Deadline.of(item, request.config, operation)
        if deadline.reached():
            return
        with deadline.timing():
            try:
                outcome = lockstep.judge().case(case)
            except UnsafeRequestError as exc:
                pytest.skip(str(exc))
        lockstep.ledger.count_case(operation)
        ex = outcome.exchange
        if outcome.judged:
            lockstep.ledger.record_timing(operation, ex.legacy.elapsed, ex.gateway.elapsed)
        if outcome.findings:
            _found(item).extend(outcome.findings)
            allure_report.attach_findings(outcome.findings)
            allure_report.attach_answers([ex.legacy, ex.gateway])

    return check


@pytest.fixture(scope="session")
def har_replayer(lockstep: LockstepSession, request: pytest.FixtureRequest) -> HarReplay:
    """One replayer for the run: its prefixes and counts span every recorded request."""
    return HarReplay(lockstep.judge(), lockstep.ledger, request.config.stash[STATE].schema)


@pytest.fixture
def har_check(har_replayer: HarReplay, request: pytest.FixtureRequest) -> Callable[[Any], None]:
    """Replay one recorded request through the parity comparison; findings fail the test."""
    found = _found(request.node)

    def check(entry: Any) -> None:
        allure_report.label("har", entry.label)
        try:
            replayed = har_replayer.replay(entry)
        except UnsafeRequestError as exc:
            pytest.skip(f"recorded request #{entry.index}: {exc}")
        found.extend(replayed.findings)
        failing = [f for f in replayed.findings if f.severity == "failure"]
        if failing:
            allure_report.attach_findings(failing)
            allure_report.attach_answers([replayed.exchange.legacy, replayed.exchange.gateway])

    return check


@pytest.fixture
def stateful_check(lockstep: LockstepSession, request: pytest.FixtureRequest) -> Callable[[Any], None]:
    """Run a scenario's sequences in lockstep on both targets; findings fail the test at the end."""
    found = _found(request.node)
    state = request.config.stash[STATE]

    def check(scenario: Any) -> None:
        allure_report.label("stateful", scenario.name)
        settings = lockstep.settings
        runner = Lockstep(lockstep.judge(), state.schema, reset=lockstep.stack.reset if lockstep.stack else None)

        def record(run: Any) -> None:
            for step_label in run.scenario.labels:
                lockstep.ledger.count_case(step_label)
            new = lockstep.recorder.record_all(run.findings)
            if new:
                found.extend(new)
                allure_report.attach_findings(new)

        explore(runner, scenario, runs=settings.profile.sequences, seed=settings.seed, on_run=record)
        lockstep.ledger.flow("stateful")[scenario.name] = {"sequences": runner.sequences}

    return check


@pytest.fixture
def run_flow(lockstep: LockstepSession, request: pytest.FixtureRequest) -> Callable[..., None]:
    """Run a flow's registered checks (optionally one group) on one operation and record the findings."""
    found = _found(request.node)

    def run(flow: str, operation: Any, group: str | None = None) -> None:
        allure_report.label(flow, operation.label)
        try:
            result = lockstep.flows().run(flow, operation, group)
        except NoChecks as exc:
            pytest.fail(f"lockstep: {exc}")
        confirm_new(request, flow, result.new)
        if result.new:
            found.extend(result.new)
            allure_report.attach_findings(result.new)
            allure_report.attach_answers(result.answers[-6:])
        if result.skipped and not result.ran:
            pytest.skip("; ".join(result.skipped))

    return run



@pytest.fixture
def load_check(lockstep: LockstepSession, request: pytest.FixtureRequest) -> Callable[[], None]:
    """Run the contract's load steps with Locust (child processes); findings fail the test at the end.

    Skips, saying why, unless `-m` names the `load` marker, the profile is not smoke and both targets are
    `loadable: true`. Progress lines are printed per step; figures go to summary.json (`figures.load`),
    the chart to Allure, Locust's own HTML report to <reports>/load/locust.html.
    """
    from ..load.flow import LoadTargets, PlanError, run_load, skip_reason
    from ..load.runner import LoadRunError
    from ..report.load_chart import load_chart

    found, config = _found(request.node), request.config
    settings = lockstep.settings

    def check() -> None:
        allure_report.label("load", "auth path")
        reason = skip_reason(settings.contract, settings.profile_name, config.option.markexpr)
        if reason:
            pytest.skip(reason)
        html = Path(config.option.lockstep_reports) / "load" / "locust.html"
        try:
            outcome = run_load(_load_targets(lockstep, LoadTargets), workers=config.option.lockstep_load_workers,
                               html=html, progress=lambda line: progress_line(config, line))
        except ContractError as exc:
            config.stash[STATE].exit_reason = str(exc)
            pytest.exit(f"lockstep: {exc}", returncode=4)
        except (PlanError, LoadRunError) as exc:
            pytest.fail(f"lockstep: load: {exc}", pytrace=False)
        lockstep.ledger.flow("load").update(outcome.figures)
        new = lockstep.recorder.record_all(outcome.findings)
        found.extend(new)
        if new:
            allure_report.attach_findings(new)
        allure.attach(load_chart(outcome.figures), name="load: p95 and errors against the offered rate",
                      attachment_type=allure.attachment_type.SVG)

    return check


def _load_targets(session: LockstepSession, kind: Any) -> Any:
    """What the load flow needs of the run; with the embedded demo, its token URL and its own OAuth client."""
    demo_url = client = None
    if session.stack is not None and session.settings.gateway_url == DEMO:
        from ..demo.auth_service import CLIENTS

        demo_url, client = session.stack.token_url, ("lockstep-demo", CLIENTS["lockstep-demo"].secret)
    return kind(session.settings.contract, session.document_operations, session.legacy, session.gateway,
                demo_url, client)
