"""The Locust side of lockstep's load flow: users, the step shape, per-step results. Runs ONLY in Locust's
own processes (`python -m locust -f this_file`, started by lockstep.load.runner): Locust patches the process
with gevent when imported, so nothing in the pytest process imports this module.

Inputs: the plan (JSON, path in $LOCKSTEP_LOAD_PLAN: URLs, the operations' example requests, the steps) and
the secrets (JSON in $LOCKSTEP_LOAD_SECRETS: each target's headers with its token, the token URL's client
credentials), never the command line. Self-contained on purpose: stdlib, gevent and Locust only.

How a step is offered: one user sends one request pair a second (`constant_throughput(1)`), the same
example request to the gateway and to the legacy, in flight together; a step of N/s runs N users (split
over the workers by Locust's dispatcher). A user also sends `token_ratio` token requests per pair on
average (a random start credit spreads them), at most TOKEN_IN_FLIGHT at a time. New users sleep a random
phase under a second first, so a step's requests arrive spread out, not in a burst.

How a step is measured: the master's shape switches a tag that every process puts in its request names
(`s3 100/s gateway GET /recipes`), by a custom message to the workers. Locust's own stats, aggregated by
the master over the workers, then hold each step's figures under its names, exactly. The first SETTLE_S
seconds of a step (users being added) are tagged `s3 ramp` and not judged. After the last step the users
stop and the workers report once more (DRAIN_S) before the master writes the results and quits.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import ssl
import sys
import time
from pathlib import Path
from typing import Any

import gevent
import locust.runners
from locust import FastHttpUser, LoadTestShape, events, task
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import StatsEntry, StatsError

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOCKSTEP_LOAD_PLAN"]).read_text(encoding="utf-8"))
_SECRETS: dict[str, Any] = json.loads(os.environ.get("LOCKSTEP_LOAD_SECRETS") or "{}")
MESSAGE = "lockstep-tag"
SETTLE_S = float(PLAN.get("settle_s", 1.0))
STOP_TIMEOUT_S = 2.0  # the runner passes --stop-timeout with this value
DRAIN_S = STOP_TIMEOUT_S + 2.0
TOKEN_IN_FLIGHT = 4
STREAMS = ("gateway", "legacy", "token")
locust.runners.WORKER_REPORT_INTERVAL = 0.5  # workers report to the master every 0.5 s (default 3 s)

_TAG = ["warmup"]  # the tag this process puts in request names; set by the master's message
_COUNTS: dict[str, int] = {}  # requests this process sent, by name (checked against the master's sum)
_OPERATIONS: list[dict[str, Any]] = PLAN["operations"]
_TOKEN: dict[str, Any] | None = PLAN.get("token")
_SEQUENCE = itertools.count()
_GOLDEN, _SQRT2 = (5 ** 0.5 - 1) / 2, 2 ** 0.5 - 1


def step_tag(step: dict[str, Any]) -> str:
    return f"s{step['index']} {step['rate']:g}/s"


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")


def _token_request() -> tuple[dict[str, str], bytes]:
    form = "grant_type=client_credentials"
    if _TOKEN and _TOKEN.get("scope"):
        form += "&scope=" + "+".join(str(_TOKEN["scope"]).split())
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": _basic(_SECRETS.get("client_id", ""), _SECRETS.get("client_secret", ""))}
    return headers, form.encode("ascii")


class AuthPathUser(FastHttpUser):
    """One request pair (gateway and legacy) a second, plus its share of token requests."""

    host = PLAN["gateway"]["base_url"]
    network_timeout = float(PLAN["timeouts"]["read"])
    connection_timeout = float(PLAN["timeouts"]["connect"])
    max_redirects = 0
    insecure = any(PLAN[s].get("verify") is False for s in ("gateway", "legacy"))
    if isinstance(PLAN["gateway"].get("verify"), str):  # a CA bundle
        ssl_context_factory = staticmethod(lambda **_: ssl.create_default_context(cafile=PLAN["gateway"]["verify"]))
    concurrency = 2 + TOKEN_IN_FLIGHT

    def on_start(self) -> None:
        k = next(_SEQUENCE)  # low-discrepancy offsets: any N users' phases and token credits spread evenly
        self.turn = k % len(_OPERATIONS)
        self.credit = (k * _GOLDEN + 0.5) % 1.0
        self.tokens: list[gevent.Greenlet] = []
        self.headers = {s: dict(_SECRETS.get(f"{s}_headers") or {}) for s in ("gateway", "legacy")}
        self.token_headers, self.token_body = _token_request()
        gevent.sleep((k * _SQRT2) % 1.0)  # a phase: a step's new users do not all send at once
        self.next_at = time.monotonic()

    def wait_time(self) -> float:
        """One pair a second from the user's phase. (Locust's constant_throughput sends a new user's second
        request at once.) A user more than a period behind starts over from now: no catch-up burst."""
        now = time.monotonic()
        self.next_at = max(self.next_at + 1.0, now - 1.0)
        return max(0.0, self.next_at - now)

    def on_stop(self) -> None:
        gevent.killall(self.tokens, block=False)  # unrecorded, like any request a stopping user drops

    @task
    def pair(self) -> None:
        tag, op = _TAG[0], _OPERATIONS[self.turn % len(_OPERATIONS)]
        self.turn += 1
        jobs = [gevent.spawn(self.call, stream, op, tag) for stream in ("gateway", "legacy")]
        self.maybe_token(tag)
        gevent.joinall(jobs)

    def maybe_token(self, tag: str) -> None:
        if _TOKEN is None:
            return
        self.tokens = [g for g in self.tokens if not g.dead]
        self.credit = min(self.credit + float(PLAN["token_ratio"]), float(TOKEN_IN_FLIGHT))
        while self.credit >= 1 and len(self.tokens) < TOKEN_IN_FLIGHT:
            self.credit -= 1
            self.tokens.append(gevent.spawn(self.token, tag))

    def call(self, stream: str, op: dict[str, Any], tag: str) -> None:
        url = PLAN[stream]["base_url"] + op["path"]
        with self.client.request(op["method"], url, headers=self.headers[stream], name=f"{tag} {stream} {op['label']}",
                                 catch_response=True) as response:
            _judge(response)

    def token(self, tag: str) -> None:
        assert _TOKEN is not None
        with self.client.request("POST", _TOKEN["url"], headers=self.token_headers, data=self.token_body,
                                 name=f"{tag} token {_TOKEN['label']}", catch_response=True) as response:
            if _judge(response) and b"access_token" not in (response.content or b""):
                response.failure("HTTP 200 without access_token")


def _judge(response: Any) -> bool:
    """2xx/3xx is a success; anything else a failure named by its status (or transport error)."""
    error = getattr(response, "error", None)
    status = response.status_code or 0
    if error is not None and not status:
        response.failure(f"transport {type(error).__name__}")
        return False
    if 200 <= status < 400:
        response.success()
        return True
    response.failure(f"HTTP {status}")
    return False


# ---------------------------------------------------------------- the steps (master or single process)

class AuthPathShape(LoadTestShape):
    """The plan's steps, each `seconds` long: users = the step's rate; stops at the first error breach."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[dict[str, Any]] = PLAN["steps"]
        self.phase: tuple[int, str] | None = None
        self.marks: list[dict[str, Any]] = []  # each tag as broadcast: when, and for how long
        self.stopped_early: str | None = None
        self.drain_from: float | None = None
        self.workers = 0  # the most workers seen (they are gone by the time results are written)

    def tick(self) -> tuple[int, float] | None:
        now = self.get_run_time()
        if isinstance(self.runner, MasterRunner):
            self.workers = max(self.workers, self.runner.worker_count)
        if self.drain_from is not None:
            return None if now - self.drain_from >= DRAIN_S else (0, 1000)
        index, phase = self._where(now)
        if (index, phase) != self.phase:
            self._switch(index, phase, now)
            if self.drain_from is not None:
                return (0, 1000)
        step = self.steps[index]
        return int(step["rate"]), max(1.0, float(step["rate"]))

    def _where(self, now: float) -> tuple[int, str]:
        start = 0.0
        for i, step in enumerate(self.steps):
            end = start + float(step["seconds"])
            if now < end:
                return i, ("ramp" if now < start + SETTLE_S else "measure")
            start = end
        return len(self.steps), "done"

    def _switch(self, index: int, phase: str, now: float) -> None:
        previous, self.phase = self.phase, (index, phase)
        if previous is not None and previous[1] == "measure":
            finished = self.steps[previous[0]]
            figures = step_figures(self.runner, finished, now - self.marks[-1]["at"])
            print(progress_line(finished, len(self.steps), figures), flush=True)
            breach = _breach(figures)
            if breach:
                self.stopped_early = f"step {finished['index']} ({finished['rate']:g}/s): {breach}"
                print(f"load: stopping early: {self.stopped_early}", flush=True)
                index = len(self.steps)
        if index >= len(self.steps):
            self._broadcast("drain", now)
            self.drain_from = now
            return
        step = self.steps[index]
        self._broadcast(f"s{step['index']} ramp" if phase == "ramp" else step_tag(step), now)

    def _broadcast(self, tag: str, now: float) -> None:
        if self.marks:
            self.marks[-1]["seconds"] = now - self.marks[-1]["at"]
        self.marks.append({"tag": tag, "at": now})
        self.runner.send_message(MESSAGE, {"tag": tag})


def _breach(figures: dict[str, Any]) -> str | None:
    limit = float(PLAN["error_rate"])
    for stream in STREAMS:
        fig = figures.get(stream)
        if fig and fig["requests"] and fig["error_rate"] > limit:
            return f"{stream} error rate {fig['error_rate']:.1%} > {limit:.1%} ({_statuses(fig['errors'])})"
    return None


def _statuses(errors: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "-"


def progress_line(step: dict[str, Any], total: int, figures: dict[str, Any]) -> str:
    """`load: step 3/5 100/s gateway p95 41 ms errors 0.0% token p95 12 ms errors 0.0%`"""
    parts = [f"load: step {step['index']}/{total} {step['rate']:g}/s"]
    for stream in ("gateway", "token"):
        fig = figures.get(stream)
        if fig and fig["requests"]:
            parts.append(f"{stream} {fig['achieved_rps']:.0f}/s p95 {fig['p95_ms']:.0f} ms "
                         f"errors {fig['error_rate']:.1%}")
    return " ".join(parts)


# ---------------------------------------------------------------- figures from Locust's stats

_ERROR = re.compile(r"(HTTP \d{3}|transport \w+)")


def step_figures(runner: Any, step: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Per stream: requests, achieved rate, p50/p95/p99, errors by status, from the entries of the step's tag."""
    tag, stats = step_tag(step), runner.stats
    out: dict[str, Any] = {}
    for stream in STREAMS:
        prefix = f"{tag} {stream} "
        entries = {name[len(prefix):]: e for (name, _), e in stats.entries.items() if name.startswith(prefix)}
        if not entries:
            continue
        total = StatsEntry(stats, f"{tag} {stream}", "")
        for entry in entries.values():
            total.extend(entry)
        fig = _entry_figures(total, seconds)
        fig["errors"] = _errors_by_status(stats, prefix)
        fig["operations"] = {label: _entry_figures(e, seconds) for label, e in sorted(entries.items())}
        out[stream] = fig
    return out


def _entry_figures(entry: StatsEntry, seconds: float) -> dict[str, Any]:
    n = entry.num_requests
    pct = (lambda q: float(entry.get_response_time_percentile(q))) if n else (lambda q: 0.0)
    return {"requests": n, "failures": entry.num_failures, "achieved_rps": round(n / seconds, 2) if seconds else 0.0,
            "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "error_rate": round(entry.num_failures / n, 4) if n else 0.0}


def _errors_by_status(stats: Any, prefix: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for error in stats.errors.values():
        if error.name.startswith(prefix):
            text = StatsError.parse_error(error.error)
            match = _ERROR.search(text)
            key = match.group(1).removeprefix("HTTP ") if match else text[:60]
            found[key] = found.get(key, 0) + error.occurrences
    return found


def _results(environment: Any) -> dict[str, Any]:
    shape: AuthPathShape = environment.shape_class
    windows = {m["tag"]: m.get("seconds", 0.0) for m in shape.marks}
    steps = []
    for step in PLAN["steps"]:
        tag = step_tag(step)
        if tag not in windows:
            continue
        steps.append({"index": step["index"], "rate": step["rate"], "token_rate": step.get("token_rate"),
                      "window_s": round(windows[tag], 3), **step_figures(environment.runner, step, windows[tag])})
    runner = environment.runner
    return {"steps": steps, "stopped_early": shape.stopped_early, "total_requests": runner.stats.total.num_requests,
            "workers": shape.workers,
            "cpu_warning": bool(getattr(runner, "cpu_warning_emitted", False)
                                or getattr(runner, "worker_cpu_warning_emitted", False))}


# ---------------------------------------------------------------- events

def _on_tag(environment: Any, msg: Any, **_: Any) -> None:
    _TAG[0] = str(msg.data["tag"])


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    if not isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(MESSAGE, _on_tag)
    gevent.spawn(_watch_parent, environment, os.getppid())


@events.request.add_listener
def _count(name: str, **_: Any) -> None:
    _COUNTS[name] = _COUNTS.get(name, 0) + 1


@events.quitting.add_listener
def _write(environment: Any, **_: Any) -> None:
    folder = Path(PLAN["results_dir"])
    if isinstance(environment.runner, WorkerRunner):
        if folder.is_dir():  # a worker on another host has no such folder: its counts stay in its log
            (folder / f"worker-{os.getpid()}.json").write_text(json.dumps({"pid": os.getpid(), "counts": _COUNTS}))
        return
    data = _results(environment)
    data["local_counts"] = _COUNTS
    (folder / "results.tmp").write_text(json.dumps(data, indent=1))
    (folder / "results.tmp").replace(folder / "results.json")


def _watch_parent(environment: Any, parent: int) -> None:
    """Stop when lockstep (the parent) is gone: no load left running on its own."""
    while os.getppid() == parent:
        gevent.sleep(0.5)
    print("load: lockstep went away; stopping", file=sys.stderr, flush=True)
    os._exit(3)
