"""WWW-Authenticate parsing and the refusal verdicts: what is wrong with the gateway's answer to one variant,
and the findings a list of such verdicts becomes (one per verdict kind, naming every variant).

Expected answers are RFC 6750's: no credential -> 401 with a `WWW-Authenticate: Bearer` challenge (RFC 9110
15.5.2: every 401 carries a challenge), without an `error` attribute (RFC 6750 3.1 SHOULD NOT); a bad token ->
401 with `error="invalid_token"` (RFC 6750 3: SHOULD, so a challenge without `error` is a note); a malformed
request -> 400 (`invalid_request`, RFC 6750 3.1) or such a 401; never a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ...engine.context import CheckContext
from ...findings import Finding
from ...report.curl import curl_command
from ...targets import Answer
from ...tokens import CHALLENGE, INVALID_TOKEN, LENIENT, OVERSIZE, REFUSED, Variant

__all__ = ["Verdict", "Problem", "bearer_challenge", "challenge_schemes", "refused", "judge", "got", "shape",
           "grouped", "expected_text", "MESSAGES", "REFUSAL_STATUSES"]

REFUSAL_STATUSES = frozenset({400, 401, 403, 407, 413, 431})
ALLOWED = {CHALLENGE: (401,), INVALID_TOKEN: (401,), REFUSED: (400, 401), OVERSIZE: (400, 401, 413, 431)}
EXPECTED_TEXT = {CHALLENGE: '401 with a `WWW-Authenticate: Bearer` challenge',
                 INVALID_TOKEN: '401 with `WWW-Authenticate: Bearer ... error="invalid_token"`',
                 REFUSED: "400, or 401 with a `WWW-Authenticate: Bearer` challenge", OVERSIZE: "400, 401, 413 or 431",
                 LENIENT: "any answer but a 5xx"}
LISTED = 12  # variant names listed in one finding's message
REPRODUCE = "VARIANT_TOKEN"  # the reproducer's shell variable: `python -m lockstep.tokens NAME` prints it


@dataclass(frozen=True)
class Verdict:
    check: str
    expected: str
    got: str
    severity: str = "failure"
    legacy: Answer | None = field(default=None, compare=False)  # the legacy's answer, where it decided


Problem = tuple[Variant, Verdict, Answer]


def bearer_challenge(answer: Answer) -> dict[str, str] | None:
    """The parameters of the Bearer challenge in WWW-Authenticate ({} if bare), None if there is none."""
    for value in answer.headers.get_list("www-authenticate"):
        for scheme, params in _challenges(value):
            if scheme.lower() == "bearer":
                return params
    return None


def challenge_schemes(answer: Answer) -> list[str]:
    return [scheme for value in answer.headers.get_list("www-authenticate") for scheme, _ in _challenges(value)]


def _challenges(value: str) -> list[tuple[str, dict[str, str]]]:
    """`Bearer realm="x", error="y", Basic realm="z"` -> [("Bearer", {...}), ("Basic", {...})]."""
    out: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " ,":
            i += 1
        start = i
        while i < n and value[i] not in " ,=":
            i += 1
        token = value[start:i]
        if not token:
            break
        if i < n and value[i] == "=":  # a parameter of the current challenge
            param, i = _param_value(value, i + 1)
            if out:
                out[-1][1][token.lower()] = param
        else:
            out.append((token, {}))
    return out


def _param_value(value: str, i: int) -> tuple[str, int]:
    """A quoted-string (backslash escapes) or a token starting at `i`, and where parsing goes on."""
    n = len(value)
    if i < n and value[i] == '"':
        i += 1
        chars = []
        while i < n and value[i] != '"':
            if value[i] == "\\" and i + 1 < n:
                i += 1
            chars.append(value[i])
            i += 1
        return "".join(chars), i + 1
    start = i
    while i < n and value[i] != ",":
        i += 1
    return value[start:i].strip(), i


def got(answer: Answer) -> str:
    """The answer in a few words: its status and its challenge (worded so that no redaction pattern matches)."""
    if answer.error:
        return answer.error
    text = str(answer.status)
    challenge = bearer_challenge(answer)
    if challenge is not None:
        text += f' (challenge: Bearer, error="{challenge["error"]}")' if "error" in challenge else " (challenge: Bearer)"
    elif answer.status == 401:
        schemes = challenge_schemes(answer)
        text += f" (challenge: {', '.join(schemes)} only)" if schemes else " (no WWW-Authenticate)"
    return text


def shape(answer: Answer) -> tuple[int | None, bool, str | None]:
    """What a refusal says: its status, whether it carries a Bearer challenge, and the challenge's error."""
    challenge = bearer_challenge(answer)
    return answer.status, challenge is not None, (challenge or {}).get("error")


def refused(answer: Answer) -> bool:
    """An auth refusal: 401/403/407, or a 400 that carries a challenge."""
    status = answer.status or 0
    return status in (401, 403, 407) or (status == 400 and answer.headers.get("www-authenticate") is not None)


def allowed_statuses(variant: Variant) -> tuple[int, ...] | None:
    allowed = ALLOWED.get(variant.expect)
    if allowed is not None and variant.query and 400 not in allowed:
        allowed = (*allowed, 400)  # RFC 6750 3.1: invalid_request (400) covers an unsupported parameter
    return allowed


def expected_text(variant: Variant) -> str:
    text = EXPECTED_TEXT.get(variant.expect, variant.expect)
    if variant.query and variant.expect == CHALLENGE:
        text += ", or 400 (`?access_token=` not supported)"
    return text


def judge(variant: Variant, answer: Answer, baseline: Answer | None = None) -> Verdict | None:
    """What is wrong with the gateway's answer to an invalid variant (None: nothing).

    `baseline`: the gateway's answer to the same request with its valid token. An answer equal to it (and
    not an auth refusal) was let through, whatever its status: a write without a body gets the upstream's
    400 or 404, which is not the gateway saying no."""
    expected = expected_text(variant)
    if answer.error:
        if "LocalProtocolError" in answer.error or "Illegal header" in answer.error:
            return None  # the HTTP client could not send it: nothing reached the gateway
        return Verdict("transport-error", expected, answer.error)
    if answer.rate_limited:
        return Verdict("rate-limited", expected, f"{answer.status} after waiting as told", "note")
    if (answer.status or 0) >= 500:
        return Verdict("server-error", expected, got(answer))
    allowed = allowed_statuses(variant)
    if allowed is None:
        return None  # lenient (or accepted: judged against the canonical request)
    if answer.status not in allowed:
        return _not_allowed(variant, answer, baseline, expected)
    if answer.status == 401:
        return _challenge_verdict(variant, answer, expected)
    return None


def _not_allowed(variant: Variant, answer: Answer, baseline: Answer | None, expected: str) -> Verdict:
    let_through = (baseline is not None and baseline.ok and not refused(baseline)
                   and answer.status == baseline.status and bearer_challenge(answer) is None)
    if answer.status in REFUSAL_STATUSES and not let_through:
        return Verdict("wrong-refusal-status", expected, got(answer))
    if variant.tolerated and variant.presents_token:
        return Verdict("accepted-tolerated", expected, got(answer), "note")
    return Verdict("token-accepted" if variant.presents_token else "not-refused", expected, got(answer))


def _challenge_verdict(variant: Variant, answer: Answer, expected: str) -> Verdict | None:
    challenge = bearer_challenge(answer)
    if challenge is None:
        return Verdict("no-bearer-challenge", expected, got(answer))
    if variant.expect == INVALID_TOKEN and challenge.get("error") != "invalid_token":
        # another error code misleads the client; none at all only misses a SHOULD (RFC 6750 3)
        return Verdict("wrong-error-code", expected, got(answer), "failure" if "error" in challenge else "note")
    return None


MESSAGES = {
    "token-accepted": "the gateway let these invalid credentials through",
    "not-refused": "the gateway let a request without a credential through",
    "accepted-tolerated": "the gateway accepts these tokens; the RFCs allow it, so this is a note",
    "server-error": "the gateway failed (5xx) on these credentials",
    "transport-error": "the gateway dropped the connection or did not answer",
    "wrong-refusal-status": "refused with the wrong status",
    "no-bearer-challenge": ("the 401 carries no `WWW-Authenticate: Bearer` challenge (RFC 9110 15.5.2: a 401 MUST "
                            "carry one; RFC 6750 3: the Bearer one), so a client cannot tell that a bearer token is "
                            "wanted (Envoy jwt_authn's \"Jwt is missing\" is such a 401; so is an upstream's own "
                            "refusal relayed as it is)"),
    "wrong-error-code": ('the challenge does not say error="invalid_token" (RFC 6750 3.1; without any `error` it '
                         "only misses a SHOULD: a note)"),
    "rate-limited": "still rate limited after waiting as told: not judged",
    "scheme-case-refused": "the auth scheme and header name are case-insensitive (RFC 9110 11.1): refused here",
    "scheme-case-differs": "answered otherwise than the same request with `Bearer`",
    "scope-refusal-status": "401 asks `who are you?` of a caller the gateway knows: lacking scope is a 403",
    "scope-not-enforced": "the operation's scopes are not enforced",
    "scope-challenge": ('the 403 does not say error="insufficient_scope" (RFC 6750 3.1; Envoy RBAC and Kong ACL '
                        "omit the challenge too: a note)"),
    "auth-error-without-cors": "a browser on an allowed origin sees a CORS error instead of the gateway's auth error",
    "spec-gap": ("the legacy answers these credentials the same way, so the behaviour is the API's own (its "
                 "upstream decides), not the gateway's: a note, though the RFCs expect otherwise"),
}


def grouped(ctx: CheckContext, problems: list[Problem], extra: str = "") -> Iterator[Finding]:
    """One finding per verdict kind: located at the first variant concerned, naming every variant."""
    by_check: dict[str, list[Problem]] = {}
    for item in problems:
        by_check.setdefault(item[1].check, []).append(item)
    for name, items in by_check.items():
        yield _finding(ctx, name, items, extra)


def _finding(ctx: CheckContext, name: str, items: list[Problem], extra: str) -> Finding:
    first_variant, first_verdict, first_answer = items[0]
    shown = "; ".join(f"{v.name} ({v.description}) -> {verdict.got}" for v, verdict, _ in items[:LISTED])
    if len(items) > LISTED:
        shown += f"; and {len(items) - LISTED} more: {', '.join(v.name for v, _, _ in items[LISTED:])}"
    message = f"{MESSAGES.get(name, name)}: {shown}; expected {first_verdict.expected}{extra}"
    reasons = dict.fromkeys(v.tolerated for v, _, _ in items if v.tolerated and name == "accepted-tolerated")
    if reasons:
        message += " (" + "; ".join(reasons) + ")"
    if first_variant.presents_token:
        message += f" (reproduce: {REPRODUCE}=$(python -m lockstep.tokens {first_variant.name}))"
    found = ctx.finding(name, f"variant {first_variant.name}", message, legacy=first_verdict.expected,
                        gateway=first_verdict.got, severity=first_verdict.severity)
    found.reproducers = {a.target: curl_command(a.method, a.url, a.request_headers, a.request_body, REPRODUCE)
                         for a in (first_answer, first_verdict.legacy) if a is not None}
    return found
