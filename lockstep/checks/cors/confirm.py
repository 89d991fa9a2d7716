"""What a real browser must see for a CORS finding to stand, and what it means when it does not.

A finding says either "a browser at A cannot ..." (the browser must be blocked: `blocked`) or "the gateway
grants what it should not" (a browser at that origin gets through: `allowed`), or "the script cannot read
header H" (`exposed`). Findings about caching and about the legacy's likeness (max age, Vary, plain OPTIONS,
the 429 burst) are not something one fetch shows: they are not replayed. A finding the browser does not
confirm becomes a note that says so; the browser's own error text travels with the finding either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...findings import Finding
from .replay import probe_of

__all__ = ["EXPECTED", "REASONS", "replay_of", "apply_verdict", "Replay"]

EXPECTED: dict[str, str] = {
    **dict.fromkeys(("preflight-status", "preflight-allow-origin", "preflight-allow-credentials",
                     "preflight-allowed-methods", "preflight-allowed-headers", "preflight-no-redirect",
                     "actual-allow-origin", "error-401", "error-404", "error-405", "single-allow-origin",
                     "no-wildcard-with-credentials"), "blocked"),
    **dict.fromkeys(("disallowed-origins", "ungranted-method", "ungranted-header"), "allowed"),
    "exposed-headers": "exposed",
}
# Chromium's DevTools CorsError names that say the same thing as the check (the "same reason")
REASONS: dict[str, frozenset[str]] = {
    "preflight-status": frozenset({"PreflightInvalidStatus", "PreflightDisallowedRedirect"}),
    "preflight-no-redirect": frozenset({"PreflightDisallowedRedirect", "PreflightInvalidStatus"}),
    "preflight-allow-origin": frozenset({"PreflightMissingAllowOriginHeader", "PreflightAllowOriginMismatch",
                                         "PreflightMultipleAllowOriginValues", "PreflightInvalidAllowOriginValue",
                                         "PreflightWildcardOriginNotAllowed"}),
    "preflight-allow-credentials": frozenset({"PreflightInvalidAllowCredentials",
                                              "PreflightWildcardOriginNotAllowed"}),
    "preflight-allowed-methods": frozenset({"MethodDisallowedByPreflightResponse",
                                            "InvalidAllowMethodsPreflightResponse"}),
    "preflight-allowed-headers": frozenset({"HeaderDisallowedByPreflightResponse",
                                            "InvalidAllowHeadersPreflightResponse"}),
    "no-wildcard-with-credentials": frozenset({"WildcardOriginNotAllowed", "PreflightWildcardOriginNotAllowed"}),
    "single-allow-origin": frozenset({"MultipleAllowOriginValues", "PreflightMultipleAllowOriginValues"}),
    "actual-allow-origin": frozenset({"MissingAllowOriginHeader", "AllowOriginMismatch", "InvalidAllowOriginValue",
                                      "WildcardOriginNotAllowed", "InvalidAllowCredentials"}),
}
_ERRORS_REASONS = frozenset({"MissingAllowOriginHeader", "AllowOriginMismatch", "InvalidAllowCredentials",
                             "WildcardOriginNotAllowed", "PreflightInvalidStatus",
                             "PreflightMissingAllowOriginHeader"})
for _name in ("error-401", "error-404", "error-405"):
    REASONS[_name] = _ERRORS_REASONS


@dataclass(frozen=True)
class Replay:
    """One finding's fetch, ready for the browser: the probe with the target's token filled in."""

    finding: Finding
    probe: dict[str, Any]
    expected: str  # blocked | allowed | exposed


def replay_of(finding: Finding, token: str | None) -> Replay | None:
    """The fetch to replay for a CORS finding, or None when one fetch cannot show what it says."""
    expected = EXPECTED.get(finding.check)
    probe = probe_of(finding)
    if expected is None or probe is None or probe.get("origin") is None or finding.flow != "cors":
        return None
    headers = [(k, v.replace("$GATEWAY_TOKEN", token or "")) for k, v in probe.get("headers", [])
               if token or "$GATEWAY_TOKEN" not in v]
    return Replay(finding, {**probe, "headers": tuple(headers)}, expected)


def apply_verdict(replay: Replay, verdict: Any, engine: str) -> bool:
    """Record the browser's verdict on the finding; a verdict that does not confirm it makes it a note.
    True when the browser confirms the finding (for the reason the check gives, where one is known)."""
    finding, blocked = replay.finding, bool(verdict.cors_blocked)
    seen = "blocked" if blocked else "allowed"
    confirmed = _confirms(replay, verdict, blocked)
    finding.browser = {"verdict": seen, "confirmed": confirmed, "engine": engine, "error": verdict.error,
                       "reason": verdict.reason}
    if not confirmed and finding.severity == "failure":
        finding.severity = "note"
        finding.message += (f"; not confirmed by a real browser ({engine}: {seen}"
                            + (f", {verdict.reason}" if verdict.reason else "") + "): reported as a note")
    elif verdict.error:
        finding.message += f"; {engine} says: {verdict.error}"
    return confirmed


def _confirms(replay: Replay, verdict: Any, blocked: bool) -> bool:
    if replay.expected == "allowed":
        return not blocked and verdict.error is None
    if replay.expected == "exposed":
        readable = {h.lower() for h in verdict.exposed}
        return not blocked and any(h.lower() not in readable for h in replay.probe.get("unexposed", ()))
    reasons = REASONS.get(replay.finding.check)
    return blocked and (reasons is None or verdict.reason in reasons)
