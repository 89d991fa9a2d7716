"""A real browser's verdict on a CORS finding: confirmed (for the check's own reason) or a note saying not."""

from __future__ import annotations

import json
from dataclasses import dataclass

from lockstep.checks.cors.confirm import apply_verdict, replay_of
from lockstep.findings import Finding


@dataclass
class Verdict:
    cors_blocked: bool
    error: str | None = None
    reason: str | None = None
    exposed: tuple[str, ...] = ()


def cors_finding(check: str, origin: str | None = "https://app.example.com", **extra: object) -> Finding:
    probe = {"origin": origin, "method": "PATCH", "url": "http://127.0.0.1:1/api/users/me",
             "headers": [["authorization", "Bearer $GATEWAY_TOKEN"], ["content-type", "application/json"]],
             "credentials": "include", "body": None, "judged": "preflight", **extra}
    return Finding("cors", "PATCH /users/me", check, "header:access-control-allow-headers", None, None,
                   "a browser at https://app.example.com cannot PATCH /api/users/me",
                   reproducers={"gateway": "curl ...", "browser": json.dumps(probe)})


def test_the_token_is_filled_in_only_at_replay_time_and_a_request_without_origin_is_not_replayed() -> None:
    replay = replay_of(cors_finding("preflight-allowed-headers"), "tok-123")
    assert replay is not None and ("authorization", "Bearer tok-123") in replay.probe["headers"]
    assert "tok-123" not in json.dumps(cors_finding("preflight-allowed-headers").reproducers)
    assert replay_of(cors_finding("preflight-allowed-headers", origin=None), "t") is None
    assert replay_of(cors_finding("vary-origin"), "t") is None  # one fetch cannot show a caching problem


def test_a_block_for_the_checks_own_reason_confirms_and_carries_the_browsers_text() -> None:
    finding = cors_finding("preflight-allowed-headers")
    text = "Request header field authorization is not allowed by Access-Control-Allow-Headers"
    assert apply_verdict(replay_of(finding, "t"), Verdict(True, text, "HeaderDisallowedByPreflightResponse"), "Chromium")
    assert finding.severity == "failure" and finding.browser["verdict"] == "blocked"
    assert "Chromium says: Request header field authorization" in finding.message


def test_a_browser_that_gets_through_makes_the_finding_a_note_that_says_so() -> None:
    finding = cors_finding("preflight-allowed-headers")
    assert not apply_verdict(replay_of(finding, "t"), Verdict(False), "Chromium")
    assert finding.severity == "note" and "not confirmed by a real browser (Chromium: allowed)" in finding.message


def test_a_block_for_another_reason_is_not_the_same_finding() -> None:
    finding = cors_finding("preflight-allowed-headers")
    assert not apply_verdict(replay_of(finding, "t"), Verdict(True, "x", "PreflightInvalidStatus"), "Chromium")
    assert finding.severity == "note"


def test_a_grant_that_should_not_be_is_confirmed_when_the_browser_gets_through() -> None:
    finding = cors_finding("disallowed-origins", origin="https://evil.example")
    assert apply_verdict(replay_of(finding, "t"), Verdict(False), "Chromium")
    assert finding.severity == "failure"
    blocked = cors_finding("disallowed-origins", origin="https://evil.example")
    assert not apply_verdict(replay_of(blocked, "t"), Verdict(True, "blocked", "AllowOriginMismatch"), "Chromium")


def test_an_unexposed_header_is_confirmed_by_what_the_script_can_read() -> None:
    finding = cors_finding("exposed-headers", unexposed=["ETag"])
    assert apply_verdict(replay_of(finding, "t"), Verdict(False, exposed=("content-type",)), "Chromium")
    readable = cors_finding("exposed-headers", unexposed=["ETag"])
    assert not apply_verdict(replay_of(readable, "t"), Verdict(False, exposed=("etag",)), "Chromium")
