"""Each CORS finding's probe, as a page would make it, so a real browser can replay it.

`finding.reproducers["browser"]` holds JSON with the fields of lockstep.browser's `BrowserCase`
(`origin`, `method`, `url`, `headers` as [name, value] pairs, `credentials`, `body`) and `judged`: whether
the finding is about the browser's preflight (`preflight`: the browser sends it itself before the fetch)
or about the answer to the request (`answer`). From a page at `origin` (`null`: a sandboxed frame; None:
a request without Origin, which a browser makes only by navigating: not replayable as a fetch),
`fetch(url, {method, headers, credentials, body, mode: "cors"})` makes the browser send what lockstep
sent. Secrets never appear: the gateway's token is the placeholder `$GATEWAY_TOKEN` (legacy:
`$LEGACY_TOKEN`), for the replayer to fill in.
"""

from __future__ import annotations

import json
from typing import Any

from ...findings import Finding
from ...report.redact import SECRET_HEADERS, redact
from ...targets import Answer
from ...cors_policy import asked_headers

__all__ = ["browser_probe", "probe_of", "with_unexposed", "BROWSER"]

BROWSER = "browser"  # the reproducers key
_BROWSER_SET = {"origin", "host", "content-length", "connection", "accept-encoding", "user-agent", "accept"}
_EXAMPLES = {"content-type": "application/json", "if-none-match": '"lockstep"', "if-match": '"lockstep"'}


def browser_probe(answer: Answer, credentials_mode: str) -> dict[str, Any]:
    """The fetch() a page at the answer's Origin makes for the browser to send `answer`'s request."""
    sent = {k.lower(): v for k, v in answer.request_headers.items()}
    asked_method = sent.get("access-control-request-method")
    if answer.method == "OPTIONS" and asked_method:
        names = [n for n in sent.get("access-control-request-headers", "").split(",") if n]
        headers = [[n, _placeholder(n, answer.target)] for n in names]
        method, body, judged = asked_method, None, "preflight"
    else:
        headers = [[k, _shown(k, v, answer.target)] for k, v in sent.items()
                   if k not in _BROWSER_SET and asked_headers([k])]
        body = redact(answer.request_body.decode("utf-8", "replace")) if answer.request_body else None
        method, judged = answer.method, "answer"
    return {"origin": sent.get("origin"), "method": method, "url": redact(answer.url), "headers": headers,
            "credentials": credentials_mode, "body": body, "judged": judged}


def probe_of(finding: Finding) -> dict[str, Any] | None:
    """The browser probe of a CORS finding (None for findings without one, e.g. the burst's note)."""
    text = finding.reproducers.get(BROWSER)
    return json.loads(text) if text else None


def with_unexposed(finding: Finding, names: list[str]) -> None:
    """Name in the finding's probe the headers a script should read and cannot (for the browser's replay)."""
    probe = probe_of(finding)
    if probe is not None:
        finding.reproducers[BROWSER] = json.dumps({**probe, "unexposed": list(names)})


def _placeholder(name: str, target: str) -> str:
    if name == "authorization":
        return f"Bearer ${target.upper()}_TOKEN"
    return _EXAMPLES.get(name, "lockstep")


def _shown(name: str, value: str, target: str) -> str:
    if name == "authorization":
        scheme = value.split(" ", 1)[0] if " " in value else "Bearer"
        return f"{scheme} ${target.upper()}_TOKEN"
    return "$SECRET" if name in SECRET_HEADERS else redact(value)
