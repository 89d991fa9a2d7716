"""The smoke profile is safe on live by construction: the servers' own logs prove it."""

import pytest

from lockstep.demo import DemoStack

from .runner import demo_contract, run_suites

pytestmark = pytest.mark.e2e
SAFE = {"GET", "HEAD", "OPTIONS"}


def max_per_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_smoke_run_sends_only_safe_methods_under_the_rate_ceiling(tmp_path):
    with DemoStack() as stack:
        stack.clear_upstream_log()
        run = run_suites(tmp_path, "suites", "--profile", "smoke", "--legacy-url", stack.legacy_url,
                         "--gateway-url", stack.gateway_url, "--lockstep-seed=2",
                         env={"GATEWAY_TOKEN": stack.token()})
        gateway_log, upstream_log = stack.gateway_log(), stack.upstream_log()
    assert run.rc == 0, run.out[-3000:]
    assert "profile smoke" in run.out and "safe methods only: yes" in run.out
    assert "skips" in run.out and "POST /subscriptions" in run.out  # says what it leaves out
    assert gateway_log and upstream_log
    assert {e["method"] for e in gateway_log} <= SAFE
    assert {e["method"] for e in upstream_log} <= SAFE
    direct = [e for e in upstream_log if "via" not in e["headers"]]
    assert max_per_second([e["time"] for e in gateway_log]) <= 11  # ceiling 10/s, one request of slack
    assert len(direct) > 0
    summary = run.summary
    assert summary["profile"] == "smoke" and summary["safe_methods_only"] is True


def test_read_only_target_refuses_writes_before_sending(tmp_path):
    contract = demo_contract(tmp_path, ('url: "${GATEWAY_URL:-demo}"', 'url: "${GATEWAY_URL:-demo}"\n    writable: false'))
    run = run_suites(tmp_path, "suites/test_parity.py", "--contract", str(contract), "-k", "POST and subscriptions and not skip",
                     "--max-examples=2")
    assert run.rc == 0, run.out[-3000:]
    assert "1 skipped" in run.out and "writable: false" in run.out
