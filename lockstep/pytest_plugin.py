"""lockstep's pytest plugin: options, the run header, fixtures, the per-operation verdict, reports.

Thin on purpose: the engine (settings, session, checks, report) holds the logic. Loaded from the
project's root conftest.py (`pytest_plugins = ["lockstep.pytest_plugin"]`).
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .checks.latency import latency_lines
from .checks.registry import FlowContext, checks_for
from .checks.routes import inventory_lines
from .errors import LockstepError, UnsafeRequestError
from .findings import Finding
from .har import HarReplay, har_lines, load_plan as load_har_plan
from .report import allure_report
from .report.summary import build_summary, terminal_lines, write_summary
from .session import LockstepSession
from .settings import resolve_settings
from .operations import operations_of
from .spec import load_spec
from .stateful import Lockstep, explore, scenarios_of

SESSION = pytest.StashKey[LockstepSession]()
SUMMARY = pytest.StashKey[dict]()
TOTALS = pytest.StashKey[Counter]()
ITEM_FINDINGS = pytest.StashKey[list[Finding]]()
LABELLED = pytest.StashKey[bool]()
MARKERS = {
    "parity": "gateway answers compared with the legacy's (Schemathesis cases)",
    "cors": "preflights and actual answers checked against the declared CORS policy",
    "auth": "token and header edge cases against the spec's security requirements",
    "stateful": "write sequences run in lockstep on both targets",
    "routes": "every operation routed; private paths unreachable; aliases",
    "latency": "the gateway's latency overhead per operation",
    "har": "recorded requests (a HAR file) replayed through the parity comparison",
}
_loaded: dict[str, Any] = {}
_running: list[pytest.Item] = []  # the test being called (for the session-scoped parity_check)


class LockstepFailure(AssertionError):
    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("\n".join(f.headline() for f in findings))
        self.findings = findings


def lockstep_schema() -> Any:
    """The Schemathesis schema of the run, for `@schema.parametrize()` in the suites."""
    if "schema" not in _loaded:
        raise RuntimeError("lockstep's plugin is not active: run pytest from the project root "
                           "(its conftest.py loads lockstep.pytest_plugin)")
    return _loaded["schema"]


def lockstep_settings() -> Any:
    """The run's resolved settings (lockstep.settings.Settings: contract, profile, seed, targets)."""
    lockstep_schema()
    return _loaded["settings"]


def lockstep_operations() -> list[Any]:
    """The document's operations (lockstep.operations.Operation) allowed by the profile, for parametrize."""
    lockstep_schema()
    return _loaded["operations"]


def lockstep_scenarios() -> list[Any]:
    """The stateful scenarios from the document's links, or one skipped placeholder saying why none run."""
    schema = lockstep_schema()
    settings = _loaded["settings"]
    if settings.profile.sequences == 0:
        return [pytest.param(None, id="no-sequences", marks=pytest.mark.skip(
            reason=f"the {settings.profile_name} profile runs no stateful sequences (safe methods only)"))]
    scenarios = scenarios_of(schema, repeat_writes=settings.profile.sequence_repeat)
    if not scenarios:
        return [pytest.param(None, id="no-links", marks=pytest.mark.skip(
            reason="the document declares no OpenAPI links, so no write sequence can be built"))]
    return scenarios


def lockstep_har_entries() -> list[Any]:
    """The recorded requests to replay (lockstep.har.HarEntry), or one skipped placeholder saying why none."""
    lockstep_schema()
    plan = _loaded.get("har")
    if plan is None:
        return [pytest.param(None, id="no-har", marks=pytest.mark.skip(
            reason="no recorded traffic to replay: pass --har FILE (a HAR exported by a browser or a proxy) "
                   "or set `har:` in the contract"))]
    return plan.entries


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lockstep", "lockstep: gateway vs legacy contract tests")
    group.addoption("--contract", dest="lockstep_contract", metavar="PATH",
                    help="the migration contract (default: $LOCKSTEP_CONTRACT, then contracts/migration.yaml)")
    group.addoption("--legacy-url", dest="lockstep_legacy_url", metavar="URL",
                    help="the legacy API's base URL (default: the contract's; 'demo' starts the demo stack)")
    group.addoption("--gateway-url", dest="lockstep_gateway_url", metavar="URL",
                    help="the gateway's base URL, prefix included (default: the contract's)")
    group.addoption("--profile", dest="lockstep_profile", metavar="NAME",
                    help="smoke, staging or deep, or one the contract defines (default: $LOCKSTEP_PROFILE, "
                         "then the contract's `profile`, then staging)")
    group.addoption("--lockstep-seed", dest="lockstep_seed", metavar="N",
                    help="the generation seed (default: $LOCKSTEP_SEED, then the contract's, then random; printed)")
    group.addoption("--max-examples", dest="lockstep_max_examples", type=int, metavar="N",
                    help="generated cases per operation (default: the profile's)")
    group.addoption("--demo-faults", dest="lockstep_demo_faults", metavar="A,B",
                    help="start the embedded demo gateway with these faults (see python -m lockstep.demo --help)")
    group.addoption("--demo-gateway", dest="lockstep_demo_gateway", metavar="KIND",
                    help="the embedded demo's gateway: python (default) or nginx (a real nginx with njs; "
                         "$LOCKSTEP_DEMO_GATEWAY)")
    group.addoption("--demo-rate-limit", dest="lockstep_demo_rate_limit", metavar="N/s",
                    help="the demo gateway's per-route rate limit (default: the document's x-rate-limit)")
    group.addoption("--har", dest="lockstep_har", metavar="FILE",
                    help="replay the requests of this HAR file through the parity comparison (default: the "
                         "contract's `har`)")
    group.addoption("--reports", dest="lockstep_reports", metavar="DIR", default="reports",
                    help="where summary.json, junit.xml and allure-results go (default: reports)")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    opt = config.option
    try:
        settings = resolve_settings(contract=opt.lockstep_contract, legacy_url=opt.lockstep_legacy_url,
                                    gateway_url=opt.lockstep_gateway_url, profile=opt.lockstep_profile,
                                    seed=opt.lockstep_seed, demo_faults=opt.lockstep_demo_faults,
                                    max_examples=opt.lockstep_max_examples,
                                    demo_rate_limit=opt.lockstep_demo_rate_limit,
                                    demo_gateway=opt.lockstep_demo_gateway)
        _loaded["schema"] = load_spec(settings)
        _loaded["settings"] = settings
        _loaded["operations"] = _profile_operations(settings, _loaded["schema"].raw_schema)
        _loaded["har"] = load_har_plan(opt.lockstep_har, settings, _loaded["schema"].raw_schema)
        config.stash[SESSION] = LockstepSession(settings)
        if _loaded["har"] is not None:
            config.stash[SESSION].figures["har"] = {"plan": _loaded["har"].figure()}
    except LockstepError as exc:
        raise pytest.UsageError(f"lockstep: {exc}") from None
    config.stash[TOTALS] = Counter()
    _default_reports(config, Path(opt.lockstep_reports))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Latency items run last: they read the timings this run's parity cases recorded."""
    items.sort(key=lambda item: item.get_closest_marker("latency") is not None)


def _profile_operations(settings: Any, document: dict) -> list[Any]:
    methods = {m.upper() for m in settings.profile.methods or ()}
    return [op for op in operations_of(document) if not methods or op.method in methods]


def _default_reports(config: pytest.Config, reports: Path) -> None:
    if getattr(config.option, "collectonly", False):
        return
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(reports / "junit.xml")
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(reports / "allure-results")
        if not hasattr(config, "workerinput"):  # the controller cleans once, before workers start
            shutil.rmtree(config.option.allure_report_dir, ignore_errors=True)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(config), "lockstep-xdist")


def pytest_report_header(config: pytest.Config) -> list[str]:
    if SESSION not in config.stash:
        return []
    settings = config.stash[SESSION].settings
    lines = settings.header_lines()
    if settings.profile.methods:
        allowed = {m.upper() for m in settings.profile.methods}
        skipped = [op.label for op in operations_of(_loaded["schema"].raw_schema) if op.method not in allowed]
        if skipped:
            lines.append(f"lockstep: the {settings.profile_name} profile skips {len(skipped)} operation(s) that "
                         f"are not {'/'.join(sorted(allowed))}: {', '.join(skipped)}")
    return lines


@pytest.fixture(scope="session")
def lockstep(request: pytest.FixtureRequest) -> Iterator[LockstepSession]:
    """The run's session: targets started and probed (the demo stack too, if the contract asks for it)."""
    session = request.config.stash[SESSION]
    try:
        session.start()
    except LockstepError as exc:
        session.close()
        pytest.exit(f"lockstep: {exc}", returncode=3)
    yield session
    session.close()


@pytest.fixture(scope="session")
def parity_check(lockstep: LockstepSession) -> Callable[[Any], None]:
    """Compare one Schemathesis case on both targets; findings fail the test once all its cases ran.

    Session-scoped because Hypothesis calls the test once per case (a function-scoped fixture would not
    be reset between them anyway); the current item comes from the runtest hook.
    """

    def check(case: Any) -> None:
        item = _running[0]
        found = item.stash.setdefault(ITEM_FINDINGS, [])
        operation = case.operation.label
        if not item.stash.get(LABELLED, False):
            allure_report.label("parity", operation)
            item.stash[LABELLED] = True
        try:
            outcome = lockstep.parity().check(case)
        except UnsafeRequestError as exc:
            pytest.skip(str(exc))
        lockstep.count_case(operation)
        ex = outcome.exchange
        if outcome.judged:
            lockstep.record_timing(operation, ex.legacy.elapsed, ex.gateway.elapsed)
        if outcome.findings:
            found.extend(outcome.findings)
            allure_report.attach_findings(outcome.findings)
            ex = outcome.exchange
            allure_report.attach_answers([ex.legacy, ex.gateway])

    return check


@pytest.fixture(scope="session")
def har_replayer(lockstep: LockstepSession) -> HarReplay:
    """One replayer for the run: its prefixes and counts span every recorded request."""
    return HarReplay(lockstep, lockstep_schema())


@pytest.fixture
def har_check(har_replayer: HarReplay, request: pytest.FixtureRequest) -> Callable[[Any], None]:
    """Replay one recorded request through the parity comparison; findings fail the test."""
    found = request.node.stash.setdefault(ITEM_FINDINGS, [])
    replayer = har_replayer

    def check(entry: Any) -> None:
        allure_report.label("har", entry.label)
        try:
            replayed = replayer.replay(entry)
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
    found = request.node.stash.setdefault(ITEM_FINDINGS, [])

    def check(scenario: Any) -> None:
        allure_report.label("stateful", scenario.name)
        settings = lockstep.settings
        runner = Lockstep(lockstep.parity(), lockstep_schema(), reset=lockstep.stack.reset if lockstep.stack else None)

        def record(run: Any) -> None:
            for step_label in run.scenario.labels:
                lockstep.count_case(step_label)
            new = [f for f in (lockstep.rules.apply_known(f) for f in run.findings) if lockstep.book.add(f)]
            if new:
                found.extend(new)
                allure_report.attach_findings(new)

        explore(runner, scenario, runs=settings.profile.sequences, seed=settings.seed, on_run=record)
        lockstep.figures.setdefault("stateful", {})[scenario.name] = {"sequences": runner.sequences}

    return check


@pytest.fixture
def run_flow(lockstep: LockstepSession, request: pytest.FixtureRequest) -> Callable[..., None]:
    """Run a flow's registered checks (optionally one group) on one operation and record the findings."""
    found = request.node.stash.setdefault(ITEM_FINDINGS, [])

    def run(flow: str, operation: Any, group: str | None = None) -> None:
        allure_report.label(flow, operation.label)
        selected = checks_for(flow, group=group)
        if not selected:
            pytest.fail(f"lockstep: no {flow} checks registered{f' in group {group!r}' if group else ''}")
        skipped = []
        for registered in selected:
            ctx = FlowContext(flow, operation, lockstep, check_name=registered.name)
            try:
                findings = list(registered.func(ctx))
            except UnsafeRequestError as exc:
                skipped.append(f"{registered.name}: {exc}")
                continue
            new = [f for f in (lockstep.rules.apply_known(f) for f in findings) if lockstep.book.add(f)]
            if new:
                found.extend(new)
                allure_report.attach_findings(new)
                allure_report.attach_answers(ctx.answers[-6:])
        if skipped and len(skipped) == len(selected):
            pytest.skip("; ".join(skipped))

    return run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    _running[:] = [item]
    try:
        result = yield
    finally:
        _running.clear()
    found = item.stash.get(ITEM_FINDINGS, [])
    failing = [f for f in found if f.failing]
    if failing:
        raise LockstepFailure(failing)
    known = [f for f in found if f.known and f.severity == "failure"]
    if known:
        pytest.xfail("known difference(s): " + "; ".join(f.headline() for f in known))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    if report.when == "teardown" and hasattr(item.config, "workerinput") and SESSION in item.config.stash:
        report.lockstep = item.config.stash[SESSION].drain()  # travels to the xdist controller
    if call.excinfo is not None and isinstance(call.excinfo.value, LockstepFailure):
        findings = call.excinfo.value.findings
        lines = [f"{len(findings)} finding(s):"]
        for f in findings:
            lines.append("  " + f.headline())
            lines += [f"    reproduce ({t}): {c}" for t, c in f.reproducers.items()]
        from .report.redact import redact

        report.longrepr = redact("\n".join(lines))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # this hook gets no config: the session's is kept by pytest_sessionstart
    config = _CONFIG[0] if _CONFIG else None
    if config is None or TOTALS not in config.stash:
        return
    totals = config.stash[TOTALS]
    payload = getattr(report, "lockstep", None)
    if payload and not hasattr(config, "workerinput"):
        config.stash[SESSION].merge(payload)
    if report.when == "call":
        totals["xfailed" if hasattr(report, "wasxfail") else report.outcome] += 1
    elif report.failed:
        totals["errors"] += 1
    elif report.skipped and report.when == "setup":
        totals["skipped"] += 1


_CONFIG: list[pytest.Config] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG[:] = [session.config]
    _started.append(time.monotonic())


def pytest_runtest_setup(item: pytest.Item) -> None:
    if SESSION not in item.config.stash or not _started:
        return
    budget = item.config.stash[SESSION].settings.profile.time_budget
    if budget and time.monotonic() - _started[0] > budget:
        pytest.skip(f"the profile's time budget of {budget:g} s is used up")


_started: list[float] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if SESSION not in config.stash:
        return
    run = config.stash[SESSION]
    if hasattr(config, "workerinput"):
        config.workeroutput["lockstep"] = run.drain()
        return
    totals = config.stash[TOTALS]
    summary = build_summary(
        findings=run.book.all(), cases=dict(run.cases), operations=sorted(run.operations),
        totals={k: totals.get(k, 0) for k in ("passed", "failed", "errors", "skipped", "xfailed")},
        settings=run.settings, interrupted=int(exitstatus) == int(pytest.ExitCode.INTERRUPTED),
        exit_status=int(exitstatus), unused_ignores=run.unused_ignores(), lost=run.lost,
        extra={"figures": run.figures})
    config.stash[SUMMARY] = summary
    write_summary(Path(config.option.lockstep_reports) / "summary.json", summary)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    summary = config.stash.get(SUMMARY, None)
    if summary is None or not summary["cases"] and not summary["findings"]:
        return
    terminalreporter.section("lockstep")
    figures = summary.get("figures", {})
    for line in terminal_lines(summary) + inventory_lines(figures) + har_lines(figures) + latency_lines(figures):
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    if SESSION in config.stash:
        config.stash[SESSION].close()


class _XdistHooks:
    """Workers hand their findings to the controller, which alone writes summary.json."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        run = self.config.stash[SESSION]
        payload = getattr(node, "workeroutput", {}).get("lockstep")
        if payload:
            run.merge(payload)
        if error:
            run.lost.append(f"worker {node.gateway.id} went down: {str(error).splitlines()[0][:200]}")

    def pytest_handlecrashitem(self, crashitem: str, report: Any, sched: Any) -> None:
        self.config.stash[SESSION].lost.append(f"{crashitem} (its worker crashed while running it)")
