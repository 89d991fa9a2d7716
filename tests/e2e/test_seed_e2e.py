"""One seed for the whole run: under xdist the controller draws it, prints it and hands it to every worker,
so the printed seed reproduces the run without xdist."""

from __future__ import annotations

import re
from pathlib import Path

from .runner import run_suites


def test_a_distributed_run_without_a_seed_is_reproduced_by_the_seed_it_printed(tmp_path: Path) -> None:
    first = run_suites(tmp_path / "a", "suites", "-m", "parity", "-n", "2")
    assert first.rc == 0, first.out[-3000:]
    printed = re.search(r"seed (\d+) \(random\)", first.out)
    assert printed, first.out[:2000]
    assert first.summary["seed"] == int(printed.group(1))
    again = run_suites(tmp_path / "b", "suites", "-m", "parity", "-n", "0", f"--lockstep-seed={printed.group(1)}")
    assert again.rc == 0, again.out[-3000:]
    assert again.summary["cases_by_operation"] == first.summary["cases_by_operation"]
    assert sum(first.summary["cases_by_operation"].values()) > 50
