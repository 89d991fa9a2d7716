"""lockstep's pytest plugin: hooks and fixtures only; the logic is in the engine, the state in config.stash.

Loaded from the project's root conftest.py (`pytest_plugins = ["lockstep.pytest_plugin"]`). The suites
import their collection-time helpers from here (`lockstep_schema()`, `lockstep_operations()` ...).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .engine.registry import load_all_checks
from .errors import LockstepError
from .plugin import outputs
from .plugin.browser import cors_browser
from .plugin.fixtures import (har_check, har_replayer, load_check, lockstep, parity_check, run_flow,
                              stateful_check)
from .plugin.header import header_lines
from .plugin.options import MARKERS, add_options, build_state
from .plugin.outcome import LockstepFailure, failure_text, verdict
from .plugin.state import STATE, activate, deactivate, state_of
from .plugin.suite import (lockstep_har_entries, lockstep_operations, lockstep_scenarios, lockstep_schema,
                           lockstep_settings, none_to_run)
from .plugin.xdist import XdistHooks

__all__ = ["lockstep_schema", "lockstep_settings", "lockstep_operations", "lockstep_scenarios",
           "lockstep_har_entries", "none_to_run", "LockstepFailure",
           # fixtures
           "lockstep", "parity_check", "har_replayer", "har_check", "stateful_check", "run_flow",
           "load_check", "cors_browser"]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    try:
        load_all_checks()
        config.stash[STATE] = build_state(config)
    except LockstepError as exc:
        raise pytest.UsageError(f"lockstep: {exc}") from None
    activate(config)
    outputs.prepare_reports(config, Path(config.option.lockstep_reports))
    config.pluginmanager.register(_RunHooks(config), "lockstep-run")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(config), "lockstep-xdist")
    if not hasattr(config, "workerinput"):
        outputs.cancel_on_sigterm()


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = state_of(config)
    return header_lines(state) if state else []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Latency items run last: they read the timings this run's parity cases recorded."""
    items.sort(key=lambda item: item.get_closest_marker("latency") is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    state = state_of(item.config)
    if state is not None:
        state.running = item
    try:
        result = yield
    finally:
        if state is not None:
            state.running = None
    verdict(item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    state = state_of(item.config)
    if report.when == "teardown" and hasattr(item.config, "workerinput") and state is not None:
        report.lockstep = state.session.drain()  # travels to the xdist controller
    if call.excinfo is not None and isinstance(call.excinfo.value, LockstepFailure):
        report.longrepr = failure_text(call.excinfo.value.findings)
    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = state_of(config)
    if state is not None:
        outputs.terminal_section(terminalreporter, state)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = state_of(config)
    deactivate(config)
    if state is None:
        return
    state.session.close()
    if state.exit_reason and not hasattr(config, "workerinput"):  # the last line a user reads says why
        config.get_terminal_writer().line(f"ERROR: lockstep: {state.exit_reason}", red=True)


class _RunHooks:
    """Hooks that need the run's config but are not handed it by pytest."""

    def __init__(self, config: pytest.Config) -> None:
        self.config, self.started = config, time.monotonic()

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        budget = self.config.stash[STATE].settings.profile.time_budget
        if budget and time.monotonic() - self.started > budget:
            pytest.skip(f"the profile's time budget of {budget:g} s is used up")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        state = self.config.stash[STATE]
        payload = getattr(report, "lockstep", None)
        if payload and not hasattr(self.config, "workerinput"):
            state.session.merge(payload)
        totals = state.totals
        if report.when == "call":
            totals["xfailed" if hasattr(report, "wasxfail") else report.outcome] += 1
        elif report.failed:
            totals["errors"] += 1
        elif report.skipped and report.when == "setup":
            totals["skipped"] += 1

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        state = self.config.stash[STATE]
        if hasattr(self.config, "workerinput"):
            self.config.workeroutput["lockstep"] = state.session.drain()
            return
        if not getattr(self.config.option, "collectonly", False):  # collecting is not a run: no summary
            outputs.finish(self.config, state, exitstatus)
        if state.exit_reason:
            # pytest would print its `! _pytest.outcomes.Exit: ... !` banner above the stats line; the reason
            # is printed once, plainly, as the run's last line instead (pytest_unconfigure)
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None and hasattr(reporter, "_keyboardinterrupt_memo"):
                reporter._keyboardinterrupt_memo = None
