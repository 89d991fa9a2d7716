"""Under pytest-xdist: the controller hands its seed to every worker; workers hand their findings back,
and the controller alone writes summary.json."""

from __future__ import annotations

from typing import Any

import pytest

from .state import STATE

__all__ = ["XdistHooks"]


class XdistHooks:
    """Registered only when xdist is active (its hooks do not exist otherwise)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        settings = self.config.stash[STATE].settings
        node.workerinput["lockstep_seed"] = settings.seed  # chosen once, here: printed and reproducible
        node.workerinput["lockstep_seed_source"] = settings.sources.get("seed", "controller")

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        run = self.config.stash[STATE].session
        payload = getattr(node, "workeroutput", {}).get("lockstep")
        if payload:
            run.merge(payload)
        if error:
            run.lost.append(f"worker {node.gateway.id} went down: {str(error).splitlines()[0][:200]}")

    def pytest_handlecrashitem(self, crashitem: str, report: Any, sched: Any) -> None:
        self.config.stash[STATE].session.lost.append(f"{crashitem} (its worker crashed while running it)")
