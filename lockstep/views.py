"""An Answer normalised for comparison: status, the contract's headers, and a parsed body.

Each target's own base URL inside `Location`/`Link` becomes `{base}`, so the same resource compares
equal whichever host named it. Bodies past `max_body_bytes` are kept as size + digest only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from .bodies import BodyDigest, digest_of
from .targets import Answer

__all__ = ["View", "view_of", "BodyDigest", "parse_content_type", "URL_HEADERS"]

URL_HEADERS = ("location", "link", "content-location")
BodyKind = Literal["empty", "json", "invalid-json", "text", "bytes", "digest"]


@dataclass
class View:
    status: int
    headers: dict[str, str]
    kind: BodyKind
    body: Any


def parse_content_type(value: str) -> str:
    """'Application/JSON; Charset=UTF-8' -> 'application/json; charset=utf-8' (params sorted)."""
    parts = [p.strip() for p in value.split(";") if p.strip()]
    if not parts:
        return ""
    params = []
    for p in parts[1:]:
        key, _, val = p.partition("=")
        val = val.strip().strip('"')
        params.append(f"{key.strip().lower()}={val.lower() if key.strip().lower() == 'charset' else val}")
    return "; ".join([parts[0].lower(), *sorted(params)])


def view_of(answer: Answer, base_url: str, header_names: list[str], max_body_bytes: int) -> View:
    headers: dict[str, str] = {}
    for name in header_names:
        values = answer.headers.get_list(name)
        if not values:
            continue
        value = ", ".join(values)
        if name == "content-type":
            value = parse_content_type(value)
        elif name in URL_HEADERS:
            value = value.replace(base_url.rstrip("/"), "{base}")
        headers[name] = value
    kind, body = _body(answer, max_body_bytes)
    return View(answer.status or 0, headers, kind, body)


def _body(answer: Answer, limit: int) -> tuple[BodyKind, Any]:
    if answer.digest is not None:  # streamed past the limit by the target: never held whole
        return "digest", answer.digest
    raw = answer.body
    if not raw:
        return "empty", None
    if len(raw) > limit:
        return "digest", digest_of(raw)
    mime = parse_content_type(answer.headers.get("content-type", "")).split(";")[0]
    if mime == "application/json" or mime.endswith("+json"):
        try:
            return "json", json.loads(raw)
        except ValueError:
            return "invalid-json", raw.decode("utf-8", "replace")
    if mime.startswith("text/") or mime in ("application/xml", "application/x-www-form-urlencoded"):
        try:
            return "text", raw.decode("utf-8")
        except UnicodeDecodeError:
            return "bytes", raw
    return "bytes", raw
