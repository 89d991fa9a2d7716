"""Locust as child processes against a tiny loopback server: one process, and a master with two local
workers whose request counts must add up to the master's figures. Bounded: a deadline kills them all."""

import json
import subprocess
import sys

import psutil
import pytest

from lockstep.contract import LoadSpec
from lockstep.load.model import steps_of, token_ratio
from lockstep.load.plan import LoadPlan
from lockstep.load.runner import LoadRunError, run_locust

from .tiny_server import TinyServer

SECRET = "s3cret-load-token-0123456789"


def plan_for(server: TinyServer, ramp: list[int], rate: str, seconds: float = 3, **more) -> LoadPlan:
    spec = LoadSpec(rate=rate, duration=seconds, ramp=ramp, step_duration=seconds, operations=["GET /a", "GET /b/1"],
                    token_rate=more.get("token_rate", "10/s"))
    steps = steps_of(spec)
    data = {"gateway": {"base_url": server.url + "/gw", "verify": True},
            "legacy": {"base_url": server.url + "/legacy", "verify": True},
            "token": {"url": server.url + "/oauth/token", "scope": None, "label": "POST /oauth/token"},
            "operations": [{"label": "GET /a", "method": "GET", "path": "/a"},
                           {"label": "GET /b/{id}", "method": "GET", "path": "/b/1"}],
            "steps": [s.to_dict() for s in steps], "token_ratio": token_ratio(spec), "settle_s": 1.0,
            "timeouts": {"connect": 5, "read": 5}, "error_rate": 0.01}
    secrets = {"gateway_headers": {"Authorization": f"Bearer {SECRET}"}, "legacy_headers": {"X-User-Id": "u1"},
               "client_id": "c1", "client_secret": SECRET}
    return LoadPlan(spec, steps, data, secrets)


def locust_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "locust" in " ".join(p.cmdline())]


def check_steps_were_offered(results: dict, plan: LoadPlan) -> None:
    assert [s["index"] for s in results["steps"]] == [s.index for s in plan.steps]
    for step in results["steps"]:
        expected = step["rate"] * step["window_s"]
        gateway, legacy, token = step["gateway"], step["legacy"], step["token"]
        assert gateway["requests"] == legacy["requests"]  # pairs: the same request to both, together
        assert abs(gateway["requests"] - expected) <= 0.1 * expected + 2, step
        assert abs(token["requests"] - step["token_rate"] * step["window_s"]) <= 0.25 * expected + 2, step
        assert gateway["error_rate"] == legacy["error_rate"] == token["error_rate"] == 0.0
        assert sum(op["requests"] for op in gateway["operations"].values()) == gateway["requests"]


def test_one_process_offers_each_step_and_never_shows_a_secret(tmp_path):
    seen_commands: list[str] = []

    def progress(line: str) -> None:
        seen_commands.extend(" ".join(p.cmdline()) for p in locust_children())

    with TinyServer() as server:
        plan = plan_for(server, [10], "20/s")
        run = run_locust(plan, workers=0, html=tmp_path / "load" / "locust.html", progress=progress)
    check_steps_were_offered(run.results, plan)
    assert run.worker_counts == [] and run.results["workers"] == 0
    assert [line.split(" gateway")[0] for line in run.progress] == ["load: step 1/2 10/s", "load: step 2/2 20/s"]
    assert seen_commands and not any(SECRET in c for c in seen_commands)  # never on a command line
    assert server.headers and all(h.get("Authorization", f"Bearer {SECRET}").endswith(SECRET) or
                                  h.get("Authorization", "").startswith("Basic ") for h in server.headers)
    assert server.counts["/gw/a"] + server.counts["/gw/b/1"] >= sum(s["gateway"]["requests"] for s in run.results["steps"])
    report = (tmp_path / "load" / "locust.html").read_text()
    assert "s1 10/s gateway GET /a" in report and SECRET not in report


def test_a_master_and_two_workers_add_up(tmp_path):
    with TinyServer() as server:
        plan = plan_for(server, [20], "40/s")
        run = run_locust(plan, workers=2)
    check_steps_were_offered(run.results, plan)
    assert run.results["workers"] == 2 and len(run.worker_counts) == 2 and min(run.worker_counts) > 0
    assert run.results["total_requests"] == sum(run.worker_counts)  # the master's figures are the workers' sum
    assert run.results["local_counts"] == {}  # the master itself sent nothing
    assert locust_children() == []


def test_the_plan_file_holds_no_secret(tmp_path):
    with TinyServer() as server:
        plan = plan_for(server, [10], "20/s")
    text = plan.write(tmp_path).read_text()
    assert SECRET not in text and json.loads(text)["results_dir"] == str(tmp_path)


def test_a_run_past_its_deadline_is_stopped_and_leaves_no_process(tmp_path):
    with TinyServer() as server:
        plan = plan_for(server, [5], "10/s", seconds=60)
        with pytest.raises(LoadRunError) as err:
            run_locust(plan, workers=1, deadline_s=6)
    assert "deadline" in str(err.value) and "\n" not in str(err.value)
    assert locust_children() == []


def test_workers_out_of_bounds_are_refused_before_anything_starts():
    with pytest.raises(LoadRunError, match="between 0 and 32"):
        run_locust(plan_for(TinyServer(), [5], "10/s"), workers=-1)


def test_a_worker_started_by_hand_joins_the_master_as_the_readme_says(tmp_path):
    """The remote form: a Locust worker started with the plan (no secret in it) and the secrets in its
    environment joins lockstep's master, which waits for it (LOCKSTEP_LOAD_MASTER_BIND / _REMOTE_WORKERS)."""
    from lockstep.load.flow import remote_workers
    from lockstep.load.runner import LOCUSTFILE, _child_env, _free_port

    with TinyServer() as server:
        plan = plan_for(server, [10], "20/s")
        port = _free_port()
        remote = remote_workers({"LOCKSTEP_LOAD_MASTER_BIND": f"127.0.0.1:{port}", "LOCKSTEP_LOAD_REMOTE_WORKERS": "1"})
        env = _child_env(plan.write(tmp_path), plan.secrets)
        cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker", "--master-host", "127.0.0.1",
               "--master-port", str(port)]
        worker = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            run = run_locust(plan, workers=0, remote=remote)
            assert worker.wait(timeout=30) == 0  # the master told it to quit
        finally:
            worker.kill()
            worker.wait()
    check_steps_were_offered(run.results, plan)
    assert run.results["workers"] == 1 and run.results["local_counts"] == {}
    assert json.loads(next(tmp_path.glob("worker-*.json")).read_text())["counts"]  # it wrote where its plan said


def test_remote_workers_need_both_settings():
    from lockstep.load.flow import remote_workers

    assert remote_workers({}) is None
    with pytest.raises(LoadRunError, match="LOCKSTEP_LOAD_REMOTE_WORKERS=N"):
        remote_workers({"LOCKSTEP_LOAD_MASTER_BIND": "0.0.0.0:5557"})
