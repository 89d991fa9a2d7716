"""Locust as child processes: one (`python -m locust`, headless), or a master and N local workers.

Locust patches its process with gevent, so it never runs in lockstep's. The plan file and the results
live in a private temporary folder; the secrets go through the environment. Every run is bounded: a
deadline (the steps' seconds plus START_S and END_S) after which every child is killed, and every child
is killed on every way out of `run_locust` (a finished run, an error, Ctrl-C). Each child leads its own
process group, so what it starts goes with it. The master prints one `load: ...` line per step (the
progress, handed to `progress` as it comes); everything else it says goes to a log kept for errors.

Results are exact: the master's Locust stats, aggregated over the workers, per step (see locustfile.py),
plus each worker's own request count, so the figures can be checked to add up.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .plan import LoadPlan

__all__ = ["run_locust", "LoadRun", "LoadRunError", "Remote", "LOCUSTFILE", "START_S", "END_S"]

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
START_S = 45.0  # interpreters, gevent and Locust starting, workers joining the master
END_S = 20.0  # draining, the final reports and the HTML report
STOP_TIMEOUT_S = 2  # as locustfile.STOP_TIMEOUT_S
MAX_WORKERS = 32


class LoadRunError(Exception):
    """Locust did not produce results (one line, with the end of its log)."""


@dataclass
class LoadRun:
    results: dict[str, Any]  # the master's per-step figures (locustfile._results)
    worker_counts: list[int] = field(default_factory=list)  # requests each worker process sent
    progress: list[str] = field(default_factory=list)
    seconds: float = 0.0
    html: Path | None = None


@dataclass(frozen=True)
class Remote:
    """Workers on other hosts joining the master: it binds `host:port` and waits for `workers` of them."""

    host: str
    port: int
    workers: int


def run_locust(plan: LoadPlan, *, workers: int = 0, html: Path | None = None,
               progress: Callable[[str], None] = lambda line: None, deadline_s: float | None = None,
               remote: Remote | None = None) -> LoadRun:
    """Run the plan's steps; `workers` 0: one Locust process, N: a master and N local workers (plus the
    `remote` ones, which must join within START_S)."""
    if not 0 <= workers <= MAX_WORKERS:
        raise LoadRunError(f"--load-workers must be between 0 and {MAX_WORKERS}, got {workers}")
    deadline = deadline_s if deadline_s is not None else plan.seconds + START_S + END_S
    with tempfile.TemporaryDirectory(prefix="lockstep-load-") as folder:
        work = Path(folder)
        plan_file = plan.write(work)
        started = time.monotonic()
        run = _Children(work, _child_env(plan_file, plan.secrets))
        try:
            lines = run.start(workers, html, remote)
            seen = _follow(lines, run, started, deadline, progress)
            run.wait_workers(limit=started + deadline)
        finally:
            run.kill_all()
        return _collect(work, seen, time.monotonic() - started, html)


def _child_env(plan_file: Path, secrets: dict[str, Any]) -> dict[str, str]:
    # LOCUST_* variables would configure Locust behind the plan's back (hosts, users, run time)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    root = str(Path(__file__).resolve().parents[2])
    env.update(LOCKSTEP_LOAD_PLAN=str(plan_file), LOCKSTEP_LOAD_SECRETS=json.dumps(secrets),
               PYTHONUNBUFFERED="1", PYTHONPATH=os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p))
    return env


class _Children:
    """The Locust processes of one run, each in its own process group."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work, self.env = work, env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[IO[bytes]] = []

    def _spawn(self, args: list[str], name: str, *, pipe: bool = False) -> subprocess.Popen[bytes]:
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 (closed in kill_all)
        self.logs.append(log)
        cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
               "--loglevel", "WARNING", "--stop-timeout", str(STOP_TIMEOUT_S), "--exit-code-on-error", "0", *args]
        proc = subprocess.Popen(cmd, cwd=self.work, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE if pipe else log, stderr=log, start_new_session=True)
        self.procs.append(proc)
        return proc

    def start(self, workers: int, html: Path | None, remote: Remote | None = None) -> IO[bytes]:
        report = ["--html", str(html)] if html else []
        if html:
            html.parent.mkdir(parents=True, exist_ok=True)
        if workers == 0 and remote is None:
            master = self._spawn(report, "master", pipe=True)
        else:
            host, port = (remote.host, remote.port) if remote else ("127.0.0.1", _free_port())
            expect = workers + (remote.workers if remote else 0)
            master = self._spawn(["--master", "--master-bind-host", host, "--master-bind-port", str(port),
                                  "--expect-workers", str(expect), "--expect-workers-max-wait", str(int(START_S)),
                                  *report], "master", pipe=True)
            for i in range(workers):
                self._spawn(["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)], f"worker-{i}")
        assert master.stdout is not None
        return master.stdout

    def master_done(self) -> bool:
        return self.procs[0].poll() is not None

    def wait_workers(self, limit: float) -> None:
        """The master has quit and told the workers to: let them write their counts and go (bounded)."""
        for proc in self.procs[1:]:
            try:
                proc.wait(timeout=max(0.1, min(10.0, limit - time.monotonic())))
            except subprocess.TimeoutExpired:
                return

    def kill_all(self) -> None:
        """Ask each process group to stop, then kill what is left (only the groups this run started)."""
        for proc in self.procs:
            _signal_group(proc, signal.SIGTERM)
        limit = time.monotonic() + 5
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, limit - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=5)
        for proc in self.procs:
            if proc.stdout is not None:
                proc.stdout.close()
        for log in self.logs:
            log.close()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)  # the group this child leads (start_new_session)
        except ProcessLookupError:
            pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _follow(stream: IO[bytes], run: _Children, started: float, seconds: float,
            progress: Callable[[str], None]) -> list[str]:
    """The master's `load:` lines, handed on as they come, until it exits or the deadline passes."""
    seen: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    buffer = b""
    while True:
        left = started + seconds - time.monotonic()
        if left <= 0:
            raise LoadRunError(f"Locust did not finish within its {seconds:.0f} s deadline: stopped it "
                               f"({_last_log_line(run.work)})")
        if selector.select(timeout=min(left, 0.5)):
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                break
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for raw in complete:
                line = raw.decode("utf-8", "replace").rstrip()
                if line.startswith("load: "):
                    seen.append(line)
                    progress(line)
        elif run.master_done():
            break
    selector.close()
    return seen


def _collect(work: Path, seen: list[str], seconds: float, html: Path | None) -> LoadRun:
    results_file = work / "results.json"
    if not results_file.is_file():
        raise LoadRunError(f"Locust ended without results ({_last_log_line(work)})")
    results = json.loads(results_file.read_text(encoding="utf-8"))
    counts = [sum(json.loads(p.read_text())["counts"].values()) for p in sorted(work.glob("worker-*.json"))]
    return LoadRun(results, counts, seen, round(seconds, 1), html)


def _last_log_line(work: Path) -> str:
    log = work / "master.log"
    lines = log.read_text(errors="replace").strip().splitlines() if log.is_file() else []
    return f"its log ends: {lines[-1][:300]}" if lines else "it logged nothing"
