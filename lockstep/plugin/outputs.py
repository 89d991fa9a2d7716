"""Where reports go, what a run leaves there, and what it prints last."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from ..report.har_lines import har_lines
from ..report.inventory import inventory_lines
from ..report.latency_chart import latency_lines
from ..report.summary import build_summary, terminal_lines, write_summary
from .state import RunState

__all__ = ["prepare_reports", "finish", "terminal_section", "cancel_on_sigterm"]


def prepare_reports(config: pytest.Config, reports: Path) -> None:
    """Point JUnit and Allure at `reports/`; the controller removes the previous run's outputs first, so a
    run that dies early never leaves a stale green summary behind."""
    if getattr(config.option, "collectonly", False):
        return
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(reports / "junit.xml")
    controller = not hasattr(config, "workerinput")
    if controller:
        for name in ("summary.json", "junit.xml"):
            (reports / name).unlink(missing_ok=True)
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(reports / "allure-results")
        if controller:
            shutil.rmtree(config.option.allure_report_dir, ignore_errors=True)


def cancel_on_sigterm() -> None:
    """CI runners cancel with SIGTERM: make it an interruption like Ctrl-C (summary says `interrupted`)."""
    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("SIGTERM")

    try:
        signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (pytest run inside another program): leave it be
        pass


def finish(config: pytest.Config, state: RunState, exitstatus: int) -> None:
    """Build and write summary.json (the controller, or a run without xdist)."""
    run, totals = state.session, state.totals
    ledger = run.ledger
    summary = build_summary(
        findings=run.book.all(), cases=dict(ledger.cases), operations=sorted(ledger.operations),
        totals={k: totals.get(k, 0) for k in ("passed", "failed", "errors", "skipped", "xfailed")},
        settings=run.settings, interrupted=int(exitstatus) == int(pytest.ExitCode.INTERRUPTED),
        exit_status=int(exitstatus), unused_ignores=run.unused_ignores(), lost=run.lost,
        extra={"figures": ledger.figures})
    state.summary = summary
    write_summary(Path(config.option.lockstep_reports) / "summary.json", summary)


def terminal_section(reporter: Any, state: RunState) -> None:
    summary = state.summary
    if summary is None or not summary["cases"] and not summary["findings"]:
        return
    reporter.section("lockstep")
    figures = summary.get("figures", {})
    for line in terminal_lines(summary) + inventory_lines(figures) + har_lines(figures) + latency_lines(figures):
        reporter.write_line(line)
