"""Run the suites as a user would: a subprocess from the project root, reports in a temp dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    rc: int
    out: str
    reports: Path

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads((self.reports / "summary.json").read_text())

    def findings(self, flow: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.summary["findings"] if not f["known"] and (flow is None or f["flow"] == flow)]

    def all_text(self) -> str:
        parts = [self.out]
        for path in self.reports.rglob("*"):
            if path.is_file():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)


def run_suites(tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> Run:
    reports = tmp_path / "reports"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "PYTEST_"))}
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "--reports", str(reports)]
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout + proc.stderr, reports)


def demo_contract(folder: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of the demo contract in `folder`, its relative paths made absolute, with text replaced."""
    text = (ROOT / "contracts" / "migration.yaml").read_text()
    text = text.replace("spec: demo-api.yaml", f"spec: {ROOT / 'contracts' / 'demo-api.yaml'}")
    text = text.replace("../fixtures/demo-session.har", str(ROOT / "fixtures" / "demo-session.har"))
    for old, new in replacements:
        assert old in text, f"the demo contract no longer has {old!r}"
        text = text.replace(old, new)
    path = folder / "migration.yaml"
    path.write_text(text)
    return path
