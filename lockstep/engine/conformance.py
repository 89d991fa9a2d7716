"""Schemathesis's own response checks, run on an Answer without resending anything."""

from __future__ import annotations

from typing import Any

import requests
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.transport import Response

from ..targets import Answer

__all__ = ["conformance_failures", "CONFORMANCE_CHECKS"]

CONFORMANCE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                      response_headers_conformance, response_schema_conformance]


def _as_response(answer: Answer) -> Response:
    request = requests.PreparedRequest()  # the bytes already sent: no re-encoding (prepare() costs ~0.3 ms)
    request.method, request.url, request.body = answer.method, answer.url, answer.request_body or None
    request.headers = requests.structures.CaseInsensitiveDict(answer.request_headers)
    headers: dict[str, list[str]] = {}
    for key, value in answer.headers.multi_items():
        headers.setdefault(key, []).append(value)
    return Response(status_code=answer.status or 0, headers=headers, content=answer.body, request=request,
                    elapsed=answer.elapsed, verify=True)


def conformance_failures(case: Any, answer: Answer) -> dict[str, str]:
    """{failure title: message} for every built-in check the answer fails (empty when it conforms)."""
    try:
        case.validate_response(_as_response(answer), checks=CONFORMANCE_CHECKS)
    except (Exception, BaseExceptionGroup) as exc:  # a single Failure, or a FailureGroup (a BaseExceptionGroup)
        failures = getattr(exc, "exceptions", None) or [exc]
        return {str(getattr(f, "title", type(f).__name__)): _first_line(str(getattr(f, "message", f)))
                for f in failures}
    return {}


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:200]
