"""Allure labels and attachments: feature = flow, story = operation; everything redacted first."""

from __future__ import annotations

import json

import allure

from ..findings import Finding
from ..targets import Answer
from .redact import redact, redact_headers

__all__ = ["label", "attach_findings", "attach_answers"]

_BODY_SHOWN = 20_000


def label(flow: str, operation: str) -> None:
    allure.dynamic.feature(flow)
    allure.dynamic.story(operation)
    allure.dynamic.title(f"{flow}: {operation}")
    # without it every operation of one parametrized test shares Allure's history id
    allure.dynamic.parameter("operation", operation)


def attach_findings(findings: list[Finding]) -> None:
    rows = ["| check | location | legacy | gateway | message |", "|---|---|---|---|---|"]
    rows += [f"| {f.check} | {f.location} | {f.legacy!r} | {f.gateway!r} | {f.message} |" for f in findings]
    allure.attach(redact("\n".join(rows)), name="differences", attachment_type=allure.attachment_type.TEXT)
    for f in findings:
        for target, command in f.reproducers.items():
            allure.attach(redact(command), name=f"reproduce on {target}: {f.check} {f.location}",
                          attachment_type=allure.attachment_type.TEXT)


def attach_answers(answers: list[Answer]) -> None:
    for a in answers:
        record = {
            "request": {"method": a.method, "url": redact(a.url), "headers": redact_headers(a.request_headers),
                        "body": _text(a.request_body)},
            "response": {"status": a.status, "error": a.error, "elapsed_ms": round(a.elapsed * 1000, 1),
                         "headers": redact_headers(dict(a.headers)), "body": _text(a.body)},
        }
        allure.attach(redact(json.dumps(record, indent=2)), name=f"{a.target}: {a.method} {a.status or a.error}",
                      attachment_type=allure.attachment_type.JSON)


def _text(body: bytes) -> str:
    text = body[:_BODY_SHOWN].decode("utf-8", "replace")
    return text + (f"… ({len(body)} bytes)" if len(body) > _BODY_SHOWN else "")
