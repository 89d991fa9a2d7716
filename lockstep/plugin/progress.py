"""Long operations: a deadline per operation test, and a progress line while one runs long."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from ..findings import Finding
from .state import ITEM_FINDINGS, STATE

__all__ = ["Deadline", "progress_line"]

PROGRESS_EVERY = 10.0  # seconds between two progress lines of one long operation
_DEADLINE = pytest.StashKey["Deadline"]()


@dataclass
class Deadline:
    """The profile's `deadline` for one operation's parity test: cases past it are not sent (a note)."""

    config: pytest.Config
    item: pytest.Item
    operation: str
    seconds: float
    started: float = field(default_factory=time.monotonic)
    cases: int = 0
    slowest: float = 0.0  # the longest case so far: one more that long must still fit
    said_at: float = 0.0
    stopped: bool = False

    @classmethod
    def of(cls, item: pytest.Item, config: pytest.Config, operation: str) -> "Deadline":
        found = item.stash.get(_DEADLINE, None)
        if found is None:
            seconds = config.stash[STATE].settings.profile.deadline
            found = item.stash[_DEADLINE] = cls(config, item, operation, seconds)
            found.said_at = found.started
        return found

    def reached(self) -> bool:
        if self.stopped:
            return True
        elapsed = time.monotonic() - self.started
        if elapsed + self.slowest <= self.seconds:
            return False
        self.stopped = True
        self._note(elapsed)
        return True

    @contextmanager
    def timing(self) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            now = time.monotonic()
            self.cases += 1
            self.slowest = max(self.slowest, now - began)
            if now - self.said_at >= PROGRESS_EVERY:
                self.said_at = now
                progress_line(self.config, f"lockstep: {self.operation}: {self.cases} cases in "
                                           f"{now - self.started:.0f} s (deadline {self.seconds:g} s)")

    def _note(self, elapsed: float) -> None:
        state = self.config.stash[STATE]
        note = Finding("parity", self.operation, "deadline", "deadline", None, None,
                       f"the profile's deadline of {self.seconds:g} s per operation was reached after {self.cases} "
                       f"case(s) in {elapsed:.1f} s (the slowest took {self.slowest:.1f} s); the other generated "
                       "cases were not sent: raise the profile's `deadline`, or leave the operation out "
                       "(`operations: {exclude: [...]}` in the contract)", severity="note")
        if state.session.recorder.record(note):
            self.item.stash.setdefault(ITEM_FINDINGS, []).append(note)
        progress_line(self.config, f"lockstep: {self.operation}: deadline of {self.seconds:g} s reached after "
                                   f"{self.cases} cases; moving on")


def progress_line(config: pytest.Config, text: str) -> None:
    """A line on the terminal while a test runs (outside the captured output); nothing under an xdist worker."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or hasattr(config, "workerinput"):
        return
    if capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(text)
    else:
        reporter.write_line(text)
