"""Ctrl-C and crashed workers: the summary keeps what ran, the demo processes are gone."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .runner import ROOT, run_suites

pytestmark = pytest.mark.e2e


def processes_with(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_ctrl_c_leaves_an_interrupted_summary_and_no_demo_process(tmp_path):
    marker = f"LOCKSTEP_TEST_MARK={uuid.uuid4()}"
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
    reports = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "suites/test_parity.py", "-v", "-p", "no:cacheprovider",
                             "--reports", str(reports), "--max-examples=30"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    for line in proc.stdout:  # bounded by the deadline and by the run's own end
        if "PASSED" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out[-2000:]
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["cases"] > 0
    time.sleep(1.0)
    assert processes_with(marker) == []


CRASH_PLUGIN = '''
import os
def pytest_runtest_call(item):
    if hasattr(item.config, "workerinput") and "GET /health" in item.nodeid:
        os._exit(13)
'''


def test_a_crashed_worker_names_the_lost_operation_and_keeps_the_rest(tmp_path):
    (tmp_path / "crash_on_health.py").write_text(CRASH_PLUGIN)
    run = run_suites(tmp_path, "suites/test_parity.py", "-n", "2", "-p", "crash_on_health", "--max-examples=3",
                     env={"PYTHONPATH": str(tmp_path)})
    assert run.rc == 1, run.out[-2000:]
    summary = run.summary
    assert any("GET /health" in lost for lost in summary["lost"]), summary["lost"]
    assert summary["operations"] >= 14 and summary["cases"] > 30
