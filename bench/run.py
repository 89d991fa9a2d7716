"""`make bench`: lockstep's speed and memory figures, measured side by side in one run.

Prints one `name=value` line per figure on stdout (progress goes to stderr) and writes every figure,
its goal and the raw measurements to reports/bench.json. Only 127.0.0.1 is contacted: the benchmark
starts its own demo stacks (lockstep.demo.DemoStack) and points every run at them. Every child process
has a timeout and every loop a bound; the default run takes about 5 minutes on 2 cores.

    .venv/bin/python bench/run.py                  # all figures
    .venv/bin/python bench/run.py --only vs,latency --reps 5
    .venv/bin/python bench/run.py --quick          # a smoke run (small N, one repetition)
    .venv/bin/python bench/run.py --profile        # also: pyinstrument on one parity run -> where time goes

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lockstep.contract import DEFAULT_PROFILES  # noqa: E402
from lockstep.demo import DemoStack  # noqa: E402

PY = sys.executable
CONTRACT = ROOT / "contracts" / "migration.yaml"
SPEC = ROOT / "contracts" / "demo-api.yaml"
PROFILE = "staging"
SEED = 7
# Test ids are "test_...[GET /path]": "[GET" selects by method. (A bare "GET" would select everything:
# -k also matches keywords such as Hypothesis's "__wrapped_target".)
SELECT_MIX = "[GET or ([POST and subscriptions])"  # every GET operation and one create
SELECT_SAFE = "[GET"  # safe methods only: PUT/PATCH/DELETE are sent one after another by design
DEMO_RATE = "100000/s"  # the demo gateway's per-route limit, far above what a benchmark sends
CHILD_TIMEOUT = 240.0

GOALS = {
    "vs_schemathesis_ratio": "<= 1.25",
    "latency_hiding_ratio": "<= 1.2",
    "collect_1000_ops_s": "< 10",
    "rss_growth_10k_cases_mb": "< 50",
    "xdist_speedup": "> 1",
}


WARNINGS: list[str] = []
STARTED = time.perf_counter()
BUDGET_S = [540.0]  # --budget-s: later repetitions are skipped (with a warning) once it is spent


def budget_left() -> float:
    return BUDGET_S[0] - (time.perf_counter() - STARTED)


def over_budget(what: str, done: int) -> bool:
    """True (and a warning) when the time budget is spent and at least one repetition of `what` ran."""
    if done >= 1 and budget_left() < 0:
        warn(f"time budget spent: {what} stopped after {done} repetition(s)")
        return True
    return False


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    WARNINGS.append(message)
    log(f"WARNING: {message}")


# ---------------------------------------------------------------------------------------- children

@dataclass
class Run:
    rc: int
    wall: float
    cpu: float  # user + sys of the child (and its own children that it waited for)
    max_rss_mb: float
    stdout: str
    stderr: str
    server_cpu: float = 0.0  # CPU the demo stack spent during the run
    tests_s: float | None = None  # sum of junit testcase times: the test phase, start-up excluded
    cases: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def last_line(self) -> str:
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        return lines[-1].strip("= ") if lines else ""


def proc_cpu_s(pid: int | None) -> float:
    """utime + stime of a running process, from /proc (0 if unknown)."""
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def run_child(cmd: list[str], env: dict[str, str], *, stack: DemoStack | None = None,
              timeout: float = CHILD_TIMEOUT) -> Run:
    """Run a child to completion; wall time, its own rusage (os.wait4: this child only) and output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        server_before = proc_cpu_s(stack.pid if stack else None)
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                status = -1
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status) if status != -1 else -9
        server_cpu = proc_cpu_s(stack.pid if stack else None) - server_before
        out.seek(0), err.seek(0)
        return Run(proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                   out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), server_cpu)


def junit_tests_s(path: Path) -> float | None:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    return sum(float(tc.get("time") or 0) for tc in root.iter("testcase"))


def must(run: Run, what: str, ok: tuple[int, ...] = (0, 1)) -> Run:
    if run.rc not in ok:
        tail = (run.stdout[-2000:] + "\n" + run.stderr[-2000:]).strip()
        raise RuntimeError(f"{what} exited with {run.rc}:\n{tail}")
    return run


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ------------------------------------------------------------------------------- the two sides

def stack_env(stack: DemoStack, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "PYTEST_"))}
    env.update(GATEWAY_TOKEN=token, LEGACY_URL=stack.legacy_url, GATEWAY_URL=stack.gateway_url,
               PYTHONDONTWRITEBYTECODE="1")
    return env


def lockstep_parity(stack: DemoStack, env: dict[str, str], work: Path, *, max_examples: int, select: str,
                    xdist: int | str = 0, label: str = "lockstep") -> Run:
    """lockstep's parity flow as a user runs it: pytest, both targets, noise calls, comparison, reports."""
    reports = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=work))
    cmd = [PY, "-m", "pytest", "suites/test_parity.py", "-q", "-p", "no:cacheprovider",
           "--contract", str(CONTRACT), "--legacy-url", stack.legacy_url, "--gateway-url", stack.gateway_url,
           "--profile", PROFILE, "--lockstep-seed", str(SEED), "--max-examples", str(max_examples),
           "-k", select, "--reports", str(reports), "-n", str(xdist)]
    run = must(run_child(cmd, env, stack=stack), f"lockstep parity run ({label})")
    summary = json.loads((reports / "summary.json").read_text())
    run.cases = int(summary["cases"])
    run.tests_s = junit_tests_s(reports / "junit.xml")
    run.extra = {"findings": len(summary.get("findings", [])), "notes": len(summary.get("notes", [])),
                 "operations": summary.get("operations")}
    shutil.rmtree(reports, ignore_errors=True)
    return run


def schemathesis_alone(stack: DemoStack, env: dict[str, str], work: Path, *, max_examples: int,
                       select: str) -> Run:
    """The anchor: Schemathesis's own pytest integration on the gateway only, same cases, its checks."""
    profile = DEFAULT_PROFILES[PROFILE]
    count, junit = work / "schemathesis-count.txt", work / "schemathesis-junit.xml"
    count.unlink(missing_ok=True)
    child_env = dict(env, BENCH_SPEC=str(SPEC), BENCH_GATEWAY_URL=stack.gateway_url, BENCH_SEED=str(SEED),
                     BENCH_MAX_EXAMPLES=str(max_examples), BENCH_PHASES=",".join(profile.phases),
                     BENCH_NEGATIVE="1" if profile.negative else "0", BENCH_COUNT_FILE=str(count))
    cmd = [PY, "-m", "pytest", "bench/schemathesis_alone.py", "--noconftest", "-q", "-p", "no:cacheprovider",
           "-k", select, "--junitxml", str(junit)]
    run = must(run_child(cmd, child_env, stack=stack), "Schemathesis-alone run")
    run.cases = int(count.read_text()) if count.exists() else None
    run.tests_s = junit_tests_s(junit)
    return run


# ------------------------------------------------------------------------------------- figures

def bench_vs_and_xdist(stack: DemoStack, env: dict[str, str], work: Path, args: argparse.Namespace,
                       figures: dict, details: dict, do_xdist: bool) -> None:
    n = args.max_examples
    lock, anchor, dist = [], [], []
    for rep in range(args.reps):
        if over_budget("vs/xdist", rep):
            break
        order = ["lockstep", "schemathesis"] if rep % 2 == 0 else ["schemathesis", "lockstep"]
        if do_xdist:
            order.append("xdist")
        for side in order:
            if side == "lockstep":
                r = lockstep_parity(stack, env, work, max_examples=n, select=SELECT_MIX)
                lock.append(r)
            elif side == "schemathesis":
                r = schemathesis_alone(stack, env, work, max_examples=n, select=SELECT_MIX)
                anchor.append(r)
            else:
                r = lockstep_parity(stack, env, work, max_examples=n, select=SELECT_MIX, xdist=2, label="xdist")
                dist.append(r)
            log(f"rep {rep + 1}/{args.reps} {side:12s} wall {r.wall:6.2f} s  tests {r.tests_s or 0:6.2f} s  "
                f"cases {r.cases}  cpu {r.cpu:5.2f} s  server cpu {r.server_cpu:5.2f} s  ({r.last_line()})")
    cases = lock[0].cases or 0
    same = {r.cases for r in lock + anchor + dist}
    if len(same) != 1:
        warn(f"the runs did not send the same number of cases: {sorted(same)}")

    def per_case_ms(runs: list[Run], attr: str) -> float:
        return round(1000 * median([getattr(r, attr) / (r.cases or 1) for r in runs]), 2)

    wall_l, wall_s = median([r.wall for r in lock]), median([r.wall for r in anchor])
    tests_l, tests_s = median([r.tests_s or 0 for r in lock]), median([r.tests_s or 0 for r in anchor])
    if lock and anchor:
        figures["vs_schemathesis_ratio"] = round(wall_l / wall_s, 3)
        figures["vs_schemathesis_ratio_per_case"] = round(tests_l / tests_s, 3) if tests_s else None
        figures["vs_schemathesis_cases"] = cases
        details["vs_schemathesis"] = {
            "select": SELECT_MIX, "max_examples": n, "seed": SEED, "profile": PROFILE, "reps": args.reps,
            "cases_each_run": sorted(same),
            "lockstep_wall_s": [round(r.wall, 2) for r in lock],
            "schemathesis_wall_s": [round(r.wall, 2) for r in anchor],
            "lockstep_tests_s": [round(r.tests_s or 0, 2) for r in lock],
            "schemathesis_tests_s": [round(r.tests_s or 0, 2) for r in anchor],
            "startup_s": {"lockstep": round(wall_l - tests_l, 2), "schemathesis": round(wall_s - tests_s, 2)},
            "per_case_ms": {"lockstep_tests": per_case_ms(lock, "tests_s"),
                            "schemathesis_tests": per_case_ms(anchor, "tests_s")},
            "client_cpu_ms_per_case_incl_startup": {"lockstep": per_case_ms(lock, "cpu"),
                                       "schemathesis": per_case_ms(anchor, "cpu")},
            "demo_stack_cpu_ms_per_case": {"lockstep": per_case_ms(lock, "server_cpu"),
                                           "schemathesis": per_case_ms(anchor, "server_cpu")},
            "client_cpu_ratio": round(median([r.cpu for r in lock]) / median([r.cpu for r in anchor]), 3),
            "lockstep_findings": [r.extra.get("findings") for r in lock],
            "note": "wall = whole pytest subprocess (start-up included); per_case = sum of junit testcase "
                    "times (the test phase). The demo stack shares the 2 cores: lockstep makes it answer "
                    "3 requests a case (legacy twice, the gateway once, which calls the legacy), "
                    "Schemathesis 1 (the gateway, which calls the legacy).",
        }
    if dist and lock:
        wall_d = median([r.wall for r in dist])
        figures["xdist_speedup"] = round(wall_l / wall_d, 3)
        details["xdist"] = {"n0_wall_s": [round(r.wall, 2) for r in lock],
                            "n2_wall_s": [round(r.wall, 2) for r in dist],
                            "cases_each_run": sorted({r.cases for r in dist}),
                            "note": "both against one shared demo stack (--legacy-url/--gateway-url), "
                                    "which itself needs CPU on the same 2 cores"}


def bench_latency(fast: DemoStack, fast_env: dict[str, str], work: Path, args: argparse.Namespace,
                  figures: dict, details: dict, do_xdist: bool) -> None:
    delay_ms = 20
    with DemoStack((), upstream_delay_ms=delay_ms, rate_limit=DEMO_RATE) as slow:
        slow_env = stack_env(slow, slow.token())
        runs: dict[str, list[Run]] = {"fast": [], "slow": [], "slow-n2": []}
        for rep in range(args.latency_reps):
            if over_budget("latency", rep):
                break
            order = ["fast", "slow"] if rep % 2 == 0 else ["slow", "fast"]
            for name in order + (["slow-n2"] if do_xdist else []):
                stack, env = (fast, fast_env) if name == "fast" else (slow, slow_env)
                r = lockstep_parity(stack, env, work, max_examples=args.latency_examples, select=SELECT_SAFE,
                                    label=f"latency-{name}", xdist=2 if name == "slow-n2" else 0)
                runs[name].append(r)
                log(f"latency rep {rep + 1}/{args.latency_reps} {name:7s} (+{0 if name == 'fast' else delay_ms} ms "
                    f"upstream) wall {r.wall:6.2f} s  tests {r.tests_s or 0:6.2f} s  cases {r.cases}")
    if runs["slow-n2"]:
        figures["xdist_speedup_io_bound"] = round(median([r.wall for r in runs["slow"]])
                                                  / median([r.wall for r in runs["slow-n2"]]), 3)
        details["xdist_io_bound"] = {
            "n0_wall_s": [round(r.wall, 2) for r in runs["slow"]],
            "n2_wall_s": [round(r.wall, 2) for r in runs["slow-n2"]],
            "cases_each_run": sorted({r.cases for r in runs["slow"] + runs["slow-n2"]}),
            "note": f"-n 2 vs -n 0 against the demo stack with +{delay_ms} ms upstream (GET operations): "
                    "the targets' latency, not this machine's CPU, bounds each worker, as against a remote "
                    "staging environment"}
    cases = runs["fast"][0].cases or 0
    if {r.cases for r in runs["fast"] + runs["slow"]} != {cases}:
        warn("fast and slow runs did not send the same number of cases")
    d = delay_ms / 1000
    t_fast, t_slow = median([r.tests_s or 0 for r in runs["fast"]]), median([r.tests_s or 0 for r in runs["slow"]])
    w_fast, w_slow = median([r.wall for r in runs["fast"]]), median([r.wall for r in runs["slow"]])
    figures["latency_hiding_ratio"] = round((t_slow - t_fast) / (cases * d), 3)
    figures["latency_hiding_ratio_wall"] = round((w_slow - w_fast) / (cases * d), 3)
    figures["latency_cases"] = cases
    details["latency_hiding"] = {
        "select": SELECT_SAFE, "max_examples": args.latency_examples, "delay_ms": delay_ms, "cases": cases,
        "fast_tests_s": [round(r.tests_s or 0, 2) for r in runs["fast"]],
        "slow_tests_s": [round(r.tests_s or 0, 2) for r in runs["slow"]],
        "fast_wall_s": [round(r.wall, 2) for r in runs["fast"]],
        "slow_wall_s": [round(r.wall, 2) for r in runs["slow"]],
        "note": "GET operations only: safe methods (GET, HEAD, OPTIONS) go out together; POST, PUT, PATCH "
                "and DELETE are sent one after another by design (lockstep/exchange.py: a request that "
                "consumes state must not race its copies), so they cost about 3 d a case. Sequential "
                "sending scores ~3, all three calls in flight together ~1.",
    }


def bench_collect(work: Path, args: argparse.Namespace, figures: dict, details: dict) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from gen_spec import write_large_spec  # bench/gen_spec.py

    target = work / "large"
    spec, contract, info = write_large_spec(target, operations=args.collect_ops)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "PYTEST_"))}
    env["GATEWAY_TOKEN"] = "bench-not-sent"
    cmd = [PY, "-m", "pytest", "suites/test_parity.py", "--collect-only", "-q", "-p", "no:cacheprovider",
           "--contract", str(contract), "--lockstep-seed", str(SEED)]
    runs = []
    for _ in range(args.collect_reps):
        r = must(run_child(cmd, env), "collect-only run", ok=(0,))
        runs.append(r)
        log(f"collect {info['operations']} operations: wall {r.wall:.2f} s, max RSS {r.max_rss_mb:.0f} MB "
            f"({r.last_line()})")
    collected = runs[0].last_line().split(" ")[0]
    ops = info["operations"]
    figures[f"collect_{ops}_ops_s"] = round(median([r.wall for r in runs]), 2)
    figures[f"collect_{ops}_ops_rss_mb"] = round(median([r.max_rss_mb for r in runs]), 1)
    figures[f"collect_{ops}_ops_cpu_s"] = round(median([r.cpu for r in runs]), 2)
    details["collect"] = {**info, "collected": collected, "wall_s": [round(r.wall, 2) for r in runs],
                          "max_rss_mb": [round(r.max_rss_mb, 1) for r in runs],
                          "cpu_s": [round(r.cpu, 2) for r in runs]}
    if collected != str(info["operations"]):
        warn(f"collected {collected} tests, expected {info['operations']}")


def bench_memory(stack: DemoStack, env: dict[str, str], args: argparse.Namespace, figures: dict,
                 details: dict) -> None:
    deadline = max(30.0, min(args.memory_deadline, budget_left() - 45))
    if deadline < args.memory_deadline:
        warn(f"time budget: the memory run gets {deadline:.0f} s instead of {args.memory_deadline:.0f} s")
    cmd = [PY, "bench/memory.py", "--cases", str(args.memory_cases), "--warmup", str(args.memory_warmup),
           "--deadline-s", f"{deadline:.0f}"]
    r = must(run_child(cmd, env, stack=stack, timeout=deadline + 120), "memory run", ok=(0,))
    result = json.loads(r.stdout.strip().splitlines()[-1])
    log(f"memory: {result['cases_done']} cases in {result['seconds']} s ({result['cases_per_s']}/s), RSS "
        f"{result['rss_after_warmup_mb']} -> {result['rss_end_mb']} MB, stopped by {result['stopped_by']}")
    if result["cases_done"] >= args.memory_cases:
        figures["rss_growth_10k_cases_mb"] = result["growth_mb"]
    else:  # scaled: honest about it in the name of the measurement and in the details
        figures["rss_growth_10k_cases_mb"] = result["growth_per_10k_mb"]
    figures["rss_cases_measured"] = result["cases_done"]
    details["memory"] = {**result, "note": "VmRSS of a process driving lockstep.engine.judge.Judge "
                                           "directly; growth = end minus after the warm-up"
                                           + ("" if result["cases_done"] >= args.memory_cases else
                                              "; fewer cases than asked in the time allowed: growth scaled "
                                              "linearly to 10,000")}


def bench_profile(stack: DemoStack, env: dict[str, str], work: Path, args: argparse.Namespace,
                  details: dict) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from profile_parity import breakdown  # bench/profile_parity.py

    session = work / "parity.pyisession"
    reports = work / "profile-reports"
    cmd = [PY, "-m", "pyinstrument", "-r", "session", "-o", str(session), "-i", "0.001", "-m", "pytest",
           "suites/test_parity.py", "-q", "-p", "no:cacheprovider", "--contract", str(CONTRACT),
           "--legacy-url", stack.legacy_url, "--gateway-url", stack.gateway_url, "--profile", PROFILE,
           "--lockstep-seed", str(SEED), "--max-examples", str(args.max_examples), "-k", SELECT_MIX,
           "--reports", str(reports)]
    r = must(run_child(cmd, env, stack=stack), "profiled parity run")
    cases = json.loads((reports / "summary.json").read_text())["cases"]
    table, text = breakdown(session, cases)
    details["profile"] = {"cases": cases, "wall_s": round(r.wall, 2), "breakdown": table,
                          "report": text.splitlines()}
    if args.profile_out:
        Path(args.profile_out).write_text(text)
    log(f"profile: {cases} cases; where the time goes (also in bench.json details.profile"
        f"{', and ' + args.profile_out if args.profile_out else ''}):")
    for line in text.splitlines()[:45]:
        print("  " + line, file=sys.stderr)


# ---------------------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="vs,xdist,latency,collect,memory,load",
                   help="comma list of: vs, xdist, latency, collect, memory, load (default: all)")
    p.add_argument("--reps", type=int, default=3, help="repetitions of the vs/xdist runs (median)")
    p.add_argument("--max-examples", type=int, default=40, help="per operation, vs/xdist/profile runs")
    p.add_argument("--latency-examples", type=int, default=30)
    p.add_argument("--latency-reps", type=int, default=3)
    p.add_argument("--collect-ops", type=int, default=1000)
    p.add_argument("--collect-reps", type=int, default=1)
    p.add_argument("--memory-cases", type=int, default=10_000)
    p.add_argument("--memory-warmup", type=int, default=1_000)
    p.add_argument("--memory-deadline", type=float, default=110.0, help="seconds (bounded; scaled if short)")
    p.add_argument("--profile", action="store_true", help="also profile one parity run (pyinstrument)")
    p.add_argument("--profile-out", metavar="PATH", help="with --profile: also write the profile report there")
    p.add_argument("--quick", action="store_true", help="a smoke run: small N, one repetition")
    p.add_argument("--budget-s", type=float, default=540.0,
                   help="time budget: once spent, further repetitions are skipped with a warning (default 540)")
    p.add_argument("--json", default=str(ROOT / "reports" / "bench.json"))
    args = p.parse_args(argv)
    if args.quick:
        args.reps, args.max_examples, args.latency_examples, args.latency_reps = 1, 5, 5, 1
        args.memory_cases, args.memory_warmup, args.memory_deadline, args.collect_ops = 600, 200, 30.0, 200
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = args.only - {"vs", "xdist", "latency", "collect", "memory", "load"}
    if unknown:
        p.error(f"--only: unknown {sorted(unknown)}")
    for name in ("reps", "max_examples", "latency_examples", "latency_reps", "collect_ops", "collect_reps",
                 "memory_cases", "memory_warmup"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    BUDGET_S[0] = args.budget_s
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    details: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="lockstep-bench-"))
    load_at_start = round(os.getloadavg()[0], 2)
    log(f"{os.cpu_count()} CPUs, load average {load_at_start}; work dir {work}")
    try:
        if args.only & {"collect"}:
            bench_collect(work, args, figures, details)
        if "load" in args.only:  # bench/load_ceiling.py: one Locust process, then a master and 2 workers
            from load_ceiling import bench_load

            bench_load(figures, details, workers=(0,) if args.quick else (0, 2), log=log)
        if args.only & {"vs", "xdist", "latency", "memory"} or args.profile:
            with DemoStack((), rate_limit=DEMO_RATE) as stack:
                env = stack_env(stack, stack.token())
                if args.only & {"vs", "xdist"}:
                    if "vs" not in args.only:  # xdist alone still needs its -n 0 baseline
                        log("xdist without vs: the -n 0 runs are the baseline; Schemathesis runs skipped")
                    bench_vs_and_xdist(stack, env, work, args, figures, details, "xdist" in args.only)
                    if "vs" not in args.only:
                        for key in ("vs_schemathesis_ratio", "vs_schemathesis_ratio_per_case", "vs_schemathesis_cases"):
                            figures.pop(key, None)
                if "latency" in args.only:
                    bench_latency(stack, env, work, args, figures, details, "xdist" in args.only)
                if "memory" in args.only:
                    bench_memory(stack, env, args, figures, details)
                if args.profile and not over_budget("profile", 1):
                    bench_profile(stack, env, work, args, details)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = round(time.perf_counter() - started, 1)
    figures["bench_total_s"] = total
    for name, value in figures.items():
        print(f"{name}={value}", flush=True)
    verdicts = {name: {"goal": goal, "value": figures.get(name), "met": _met(figures.get(name), goal)}
                for name, goal in GOALS.items() if name in figures}
    for name, v in verdicts.items():
        log(f"{name}={v['value']} goal {v['goal']}: {'met' if v['met'] else 'NOT met'}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "figures": figures, "goals": verdicts, "details": details, "warnings": WARNINGS,
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": load_at_start,
                    "load_average_at_end": round(os.getloadavg()[0], 2),
                    "python": platform.python_version(), "platform": platform.platform()},
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }, indent=2) + "\n")
    log(f"wrote {out} in {total} s")
    return 0


def _met(value: Any, goal: str) -> bool | None:
    if not isinstance(value, (int, float)):
        return None
    op, limit = goal.split()
    return {"<=": value <= float(limit), "<": value < float(limit), ">": value > float(limit)}[op]


if __name__ == "__main__":
    sys.exit(main())
