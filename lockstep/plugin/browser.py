"""`--cors-browser`: each CORS finding replayed in headless Chromium, which confirms it or makes it a note."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from ..browser import BrowserCase, BrowserOracle, BrowserUnavailable, UnsupportedCase
from ..checks.cors.confirm import Replay, apply_verdict, replay_of
from ..errors import UnsafeRequestError
from ..findings import Finding
from ..session import LockstepSession
from .progress import progress_line
from .state import STATE

__all__ = ["cors_browser", "BrowserConfirmer", "wanted"]


def wanted(config: pytest.Config) -> bool:
    """Asked for with --cors-browser or the contract's `cors: {browser: true}`."""
    cors = config.stash[STATE].settings.contract.cors
    return bool(config.option.lockstep_cors_browser or (cors is not None and cors.browser))


class BrowserConfirmer:
    """One browser for the run (per xdist worker); its figures go to `figures.cors.browser`."""

    def __init__(self, session: LockstepSession, oracle: BrowserOracle) -> None:
        self.session, self.oracle = session, oracle
        self.figure = {"replayed": 0, "confirmed": 0, "not_confirmed": 0, "not_replayable": 0, "seconds": 0.0}

    @property
    def engine(self) -> str:
        version = getattr(getattr(self.oracle, "_browser", None), "version", "")
        return f"Chromium {version}".strip()

    def confirm(self, findings: list[Finding]) -> None:
        gateway = self.session.gateway
        token = gateway.token if gateway is not None else None
        for finding in findings:
            replay = replay_of(finding, token)
            if replay is None or not self._may_send(replay):
                continue
            self._replay(replay)
        self.session.ledger.flow("cors")["browser"] = {**self.figure, "seconds": round(self.figure["seconds"], 2),
                                                      "engine": self.engine}

    def _may_send(self, replay: Replay) -> bool:
        """The profile's rules hold in the browser too: a fetch the gateway may not receive is not replayed."""
        try:
            self.session.gateway.guard(replay.probe["method"])  # type: ignore[union-attr]
        except UnsafeRequestError:
            self.figure["not_replayable"] += 1
            return False
        return True

    def _replay(self, replay: Replay) -> None:
        probe, started = replay.probe, time.monotonic()
        body = probe.get("body")
        if probe["method"] not in ("GET", "HEAD") and body is None:
            body = "{"  # a write the API rejects (4xx): the CORS answer is the point, never the change
        try:
            verdict = self.oracle.run(BrowserCase(probe["origin"], probe["method"], probe["url"],
                                                  tuple(probe["headers"]), probe.get("credentials", "include"),
                                                  None if probe["method"] in ("GET", "HEAD") else body))
        except UnsupportedCase:
            self.figure["not_replayable"] += 1
            return
        finally:
            self.figure["seconds"] += time.monotonic() - started
        self.figure["replayed"] += 1
        confirmed = apply_verdict(replay, verdict, self.engine)
        self.figure["confirmed" if confirmed else "not_confirmed"] += 1


@pytest.fixture(scope="session")
def cors_browser(lockstep: LockstepSession, request: pytest.FixtureRequest) -> Iterator[BrowserConfirmer | None]:
    """The run's browser confirmer, or None when not asked for or when Chromium is missing (one line says so)."""
    if not wanted(request.config):
        yield None
        return
    oracle = BrowserOracle()
    try:
        oracle.start()
    except BrowserUnavailable as exc:
        progress_line(request.config, f"lockstep: --cors-browser: {exc}; the CORS findings stay unconfirmed")
        lockstep.ledger.flow("cors")["browser"] = {"unavailable": str(exc)}
        yield None
        return
    try:
        yield BrowserConfirmer(lockstep, oracle)
    finally:
        oracle.close()


def confirm_new(request: pytest.FixtureRequest, flow: str, findings: list[Any]) -> None:
    """Called by run_flow: CORS findings new in this test go to the browser, when one is wanted."""
    if flow != "cors" or not findings or not wanted(request.config):
        return
    confirmer = request.getfixturevalue("cors_browser")
    if confirmer is not None:
        confirmer.confirm(findings)
