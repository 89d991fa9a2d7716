"""The oracle itself: the Origin the gateway receives is the simulated one, why Local Network Access is
granted, what it refuses to simulate, and the one-line errors when there is no browser to ask."""

from __future__ import annotations

import socket
import sys

import pytest

from lockstep.browser import BrowserCase, BrowserOracle, BrowserUnavailable, UnsupportedCase, find_chromium
from lockstep.browser.model import CHROMIUM_MISSING, PLAYWRIGHT_MISSING

from .conftest import ORIGIN

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("origin", [ORIGIN, "https://app.example.com:8443", "http://localhost:3000", "null",
                                    "http://app.example.com"])
def test_the_gateway_receives_the_simulated_origin_exactly(oracle, cors_server, origin):
    cors_server.answer("OPTIONS", 204, acao=origin, acam="DELETE")
    cors_server.answer("DELETE", 204, acao=origin)
    verdicts = oracle.run_many([BrowserCase(origin, "GET", cors_server.url + "/a", credentials="omit"),
                                BrowserCase(origin, "DELETE", cors_server.url + "/a", credentials="omit")])
    assert [r.headers.get("origin") for r in cors_server.received] == [origin] * 3
    assert cors_server.methods() == ["GET", "OPTIONS", "DELETE"]
    assert verdicts[1].allowed and verdicts[1].status == 204


def test_run_many_answers_in_the_order_of_the_cases_across_origins(oracle, cors_server):
    cors_server.answer("GET", 200, acao=ORIGIN)
    url = cors_server.url + "/b"
    cases = [BrowserCase(o, "GET", url, credentials="omit") for o in (ORIGIN, "https://evil.example", ORIGIN)]
    assert [v.allowed for v in oracle.run_many(cases)] == [True, False, True]


def test_without_the_local_network_permission_chromium_blocks_every_call_to_loopback(chromium, cors_server):
    """Why the oracle grants Local Network Access: without it a public origin cannot reach a loopback
    gateway at all, whatever its CORS headers say."""
    cors_server.answer("GET", 200, acao=ORIGIN)
    with BrowserOracle(chromium, local_network=False) as strict:
        verdict = strict.run(BrowserCase(ORIGIN, "GET", cors_server.url + "/c", credentials="omit"))
    assert (verdict.allowed, verdict.reason, verdict.cors_blocked) == (False, "LocalNetworkAccessPermissionDenied",
                                                                       False)
    assert "has been blocked by CORS policy: Permission was denied for this request to access the `loopback` " \
        "address space" in verdict.error
    assert cors_server.received == []


def test_a_gateway_that_does_not_answer_in_time_is_a_timeout_not_a_cors_block(chromium, cors_server):
    cors_server.answer("GET", 200, delay=3.0, acao=ORIGIN)
    with BrowserOracle(chromium, timeout_s=0.5) as hasty:
        verdict = hasty.run(BrowserCase(ORIGIN, "GET", cors_server.url + "/slow", credentials="omit"))
    assert (verdict.allowed, verdict.reason, verdict.cors_blocked) == (False, "timeout", False)
    assert verdict.error == "no answer within 0.5 s"


def test_a_refused_connection_is_a_network_error_not_a_cors_block(oracle):
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verdict = oracle.run(BrowserCase(ORIGIN, "GET", f"http://127.0.0.1:{port}/", credentials="omit"))
    assert (verdict.allowed, verdict.cors_blocked, verdict.reason) == (False, False, "net::ERR_CONNECTION_REFUSED")
    assert verdict.error == "TypeError: Failed to fetch (net::ERR_CONNECTION_REFUSED)"


@pytest.mark.parametrize("origin, says", [
    ("https://APP.example.com", "Chromium writes it 'https://app.example.com'"),
    ("https://app.example.com:443", "Chromium writes it 'https://app.example.com'"),
    ("https://app.example.com/", "Chromium writes it 'https://app.example.com'"),
    ("https://b\u00fccher.example", "Chromium writes it 'https://xn--bcher-kva.example'"),
])
def test_an_origin_chromium_would_write_otherwise_is_refused_not_approximated(oracle, cors_server, origin, says):
    with pytest.raises(UnsupportedCase, match="no page can have the origin") as raised:
        oracle.run_many([BrowserCase(ORIGIN, "GET", cors_server.url), BrowserCase(origin, "GET", cors_server.url)])
    assert says in str(raised.value)
    assert cors_server.received == []  # refused before any case ran


def test_a_request_chromium_will_not_build_is_refused(oracle, cors_server):
    with pytest.raises(UnsupportedCase, match="Chromium will not build this request: TypeError"):
        oracle.run(BrowserCase(ORIGIN, "GET", cors_server.url, headers=(("bad header", "x"),)))


@pytest.mark.parametrize("kwargs, says", [
    ({"method": "GET", "body": "x"}, "a GET fetch() cannot have a body"),
    ({"method": "TRACE"}, "cannot send TRACE"),
    ({"headers": (("Origin", "https://evil.example"),)}, "cannot set the Origin header"),
    ({"headers": (("Sec-Fetch-Site", "same-origin"),)}, "cannot set the Sec-Fetch-Site header"),
    ({"credentials": "always"}, "credentials must be one of include, omit, same-origin"),
    ({"url": "ftp://127.0.0.1/"}, "must be http(s)://"),
])
def test_a_case_a_page_script_cannot_make_is_refused_when_built(kwargs, says):
    fields = {"origin": ORIGIN, "method": "GET", "url": "http://127.0.0.1:1/", **kwargs}
    with pytest.raises(UnsupportedCase) as raised:
        BrowserCase(**fields)
    assert says in str(raised.value)


# ---------------------------------------------------------------- no browser to ask

def test_no_chromium_is_one_line_saying_what_to_install(monkeypatch):
    monkeypatch.setattr("lockstep.browser.oracle.find_chromium", lambda: None)
    monkeypatch.delenv("LOCKSTEP_CHROMIUM", raising=False)
    with pytest.raises(BrowserUnavailable) as raised:
        BrowserOracle().start()
    assert str(raised.value) == CHROMIUM_MISSING


def test_a_wrong_lockstep_chromium_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("LOCKSTEP_CHROMIUM", str(tmp_path / "chrome"))
    assert find_chromium() is None
    with pytest.raises(BrowserUnavailable, match=r"^LOCKSTEP_CHROMIUM=.*/chrome is not an executable file$"):
        BrowserOracle().start()


def test_lockstep_chromium_comes_first(monkeypatch):
    monkeypatch.setenv("LOCKSTEP_CHROMIUM", sys.executable)
    assert find_chromium() == sys.executable


def test_no_playwright_is_one_line_naming_pip_install_playwright(monkeypatch):
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # what `import` sees when it is missing
    with pytest.raises(BrowserUnavailable) as raised:
        BrowserOracle(executable=sys.executable).start()
    assert str(raised.value) == PLAYWRIGHT_MISSING and "pip install playwright" in PLAYWRIGHT_MISSING


def test_a_chromium_that_does_not_start_is_one_line(chromium, tmp_path):
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrowserUnavailable, match=rf"^Chromium at {fake} did not start: ") as raised:
        BrowserOracle(executable=str(fake), timeout_s=5).start()
    assert "\n" not in str(raised.value)
