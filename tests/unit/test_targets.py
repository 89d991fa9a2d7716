import httpx
import pytest

from lockstep.contract import TargetSpec
from lockstep.errors import TargetUnreachable, UnsafeRequestError
from lockstep.targets import Target


def target(handler, **spec) -> Target:
    return Target("gateway", TargetSpec(url="http://127.0.0.1:9", **spec), token="tok-123456",
                  transport=httpx.MockTransport(handler))


def test_waits_as_told_on_429_then_resends():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(429, headers={"retry-after": "0"}) if len(calls) == 1 else httpx.Response(200)

    answer = target(handler).send(httpx.Request("GET", "http://127.0.0.1:9/x"))
    assert answer.status == 200 and answer.attempts == 2 and not answer.rate_limited


def test_persistent_429_is_rate_limited_not_endless():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(429, headers={"retry-after": "0"})

    answer = target(handler).send(httpx.Request("GET", "http://127.0.0.1:9/x"))
    assert answer.rate_limited and len(calls) == 3


def test_retry_after_longer_than_max_wait_gives_up_at_once():
    answer = target(lambda r: httpx.Response(429, headers={"retry-after": "120"}), max_wait=1).send(
        httpx.Request("GET", "http://127.0.0.1:9/x"))
    assert answer.rate_limited and answer.attempts == 1


def test_transport_failure_is_an_answer_with_error_not_an_exception():
    def handler(request):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    answer = target(handler).send(httpx.Request("GET", "http://127.0.0.1:9/x"))
    assert answer.error == "connection refused" and answer.status is None


def test_timeout_is_reported_as_such():
    def handler(request):
        raise httpx.ReadTimeout("timed out")

    assert target(handler).send(httpx.Request("GET", "http://127.0.0.1:9/x")).error == "read timeout"


def test_read_only_target_refuses_writes_before_sending():
    sent = []
    t = target(lambda r: sent.append(r) or httpx.Response(200), writable=False)
    with pytest.raises(UnsafeRequestError, match="writable: false"):
        t.send(httpx.Request("DELETE", "http://127.0.0.1:9/x"))
    assert sent == []
    assert t.send(httpx.Request("GET", "http://127.0.0.1:9/x")).status == 200


def test_profile_method_allowlist_is_enforced_in_the_client():
    t = Target("legacy", TargetSpec(url="http://127.0.0.1:9"), allowed_methods=["GET", "HEAD"],
               transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(UnsafeRequestError, match="profile"):
        t.send(httpx.Request("POST", "http://127.0.0.1:9/x"))


def test_probe_of_closed_port_is_one_clear_error():
    t = Target("gateway", TargetSpec(url="http://127.0.0.1:9", timeout={"connect": 1, "read": 1}))
    with pytest.raises(TargetUnreachable, match="gateway at http://127.0.0.1:9 is unreachable: connection refused"):
        t.probe()


def test_token_travels_only_in_the_authorization_header():
    seen = {}

    def handler(request):
        seen.update(request.headers)
        return httpx.Response(200)

    t = target(handler)
    req = httpx.Request("GET", "http://127.0.0.1:9/x", headers=t.headers)
    t.send(req)
    assert seen["authorization"] == "Bearer tok-123456"
