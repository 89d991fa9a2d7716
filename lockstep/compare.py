"""Legacy view vs gateway view -> the differences that are not noise.

Categories: status, route-missing, header, host-leak, body-type, body-value, missing-key, extra-key.
Both views are already normalised (each target's base URL is `{base}`, lockstep/views.py); `host_leaks`
looks at the gateway's raw answer for the legacy's host, in URL headers and in the body.
A location is a string a user can read and a contract rule can match with a glob:
`status`, `header:cache-control`, `body:/items/*/rating`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .noise import NoiseMask, Path, generalise, json_diff, pointer
from .targets import Answer
from .bodies import BodyDigest
from .views import JSON_LINES, URL_HEADERS, View, json_lines, parse_content_type, unprefixed

__all__ = ["Difference", "compare", "host_leaks", "ROUTE_MISSING_STATUSES"]

ROUTE_MISSING_STATUSES = (404, 405)
_SHOWN = 160


@dataclass(frozen=True)
class Difference:
    category: str
    location: str  # generalised: what dedupes and what rules match
    exact: str  # this case's own location
    legacy: Any
    gateway: Any


def compare(legacy: View, gateway: View, mask: NoiseMask) -> list[Difference]:
    if legacy.status != gateway.status:
        missing = gateway.status in ROUTE_MISSING_STATUSES and legacy.status not in ROUTE_MISSING_STATUSES
        category = "route-missing" if missing else "status"
        return [Difference(category, "status", "status", legacy.status, gateway.status)]
    return _headers(legacy, gateway, mask) + _body(legacy, gateway, mask)


def _headers(legacy: View, gateway: View, mask: NoiseMask) -> list[Difference]:
    out = []
    for name in sorted(set(legacy.headers) | set(gateway.headers)):
        lv, gv = legacy.headers.get(name), gateway.headers.get(name)
        if lv == gv or (name in mask.headers and lv is not None and gv is not None):
            continue
        out.append(Difference("header", f"header:{name}", f"header:{name}", lv, gv))
    return out


def _body(legacy: View, gateway: View, mask: NoiseMask) -> list[Difference]:
    if mask.ignores(()):
        return []
    if {legacy.kind, gateway.kind} == {"text", "bytes"}:  # one side is not valid UTF-8: compare bytes
        a, b = (_as_bytes(v.body) for v in (legacy, gateway))
        return [] if a == b else [Difference("body-value", "body:", f"body:@{_first_offset(a, b)}", _short(a), _short(b))]
    if legacy.kind != gateway.kind:
        return [Difference("body-type", "body:", "body:", _kind(legacy), _kind(gateway))]
    if legacy.kind == "json":
        return _json(legacy, gateway, mask)
    if legacy.body == gateway.body or mask.masks_value(()) or _same_place(legacy.body, gateway.body, legacy, gateway):
        return []
    return [Difference("body-value", "body:", f"body:@{_first_offset(legacy.body, gateway.body)}",
                       _short(legacy.body), _short(gateway.body))]


def _json(legacy: View, gateway: View, mask: NoiseMask) -> list[Difference]:
    if mask.equal_under(legacy.body, gateway.body):  # the common case: DeepDiff only to describe a difference
        return []
    out = []
    for report, levels in json_diff(legacy.body, gateway.body, mask.unordered).items():
        for level in levels:
            raw = level.path(output_format="list")
            category, path = _category(report, generalise(raw))
            if mask.ignores(path) or (category == "body-value" and mask.masks_value(path)):
                continue
            if category == "body-value" and _same_place(level.t1, level.t2, legacy, gateway):
                continue
            out.append(Difference(category, "body:" + pointer(path), "body:" + pointer(raw),
                                  _value(level.t1), _value(level.t2)))
    return out


def _category(report: str, path: Path) -> tuple[str, Path]:
    if report == "dictionary_item_removed":
        return "missing-key", path
    if report == "dictionary_item_added":
        return "extra-key", path
    if report == "type_changes":
        return "body-type", path
    return "body-value", path


def _same_place(a: Any, b: Any, legacy: View, gateway: View) -> bool:
    """Two strings that differ only in each target's prefix before a path (`/items/2`, `/api/x/items/2`)."""
    if not (isinstance(a, str) and isinstance(b, str)) or legacy.base.relative is gateway.base.relative is None:
        return False
    return unprefixed(a, legacy.base) == unprefixed(b, gateway.base)


def host_leaks(gateway: Answer, legacy_base: str) -> list[Difference]:
    """The gateway must never hand out the legacy host: clients would bypass it. In a URL header, or in
    the body: each JSON string (NDJSON lines included) that names it is a leak of its own, at its
    location (`body:/_links/self/href`); a text body's first mention is located by offset."""
    netloc = urlsplit(legacy_base).netloc
    if not netloc:
        return []
    out = []
    for name in URL_HEADERS:
        value = gateway.headers.get(name)
        if value and netloc in value:
            out.append(Difference("host-leak", f"header:{name}", f"header:{name}", legacy_base, value))
    if netloc.encode() in gateway.body:  # the cheap test first: a faithful body never names the host
        out += _body_leaks(gateway, netloc, legacy_base)
    return out


def _body_leaks(gateway: Answer, netloc: str, legacy_base: str) -> list[Difference]:
    mime = parse_content_type(gateway.headers.get("content-type", "")).split(";")[0]
    document: Any = None
    if mime == "application/json" or mime.endswith("+json"):
        try:
            document = json.loads(gateway.body)
        except ValueError:
            document = None
    elif mime in JSON_LINES:
        document = json_lines(gateway.body)
    if document is not None:
        found = [Difference("host-leak", "body:" + pointer(generalise(path)), "body:" + pointer(path), legacy_base,
                            _value(text)) for path, text in _strings(document, []) if netloc in text]
        if found:
            return found
    text = gateway.body.decode("utf-8", "replace")
    at = text.find(netloc)
    where = f"body:@{at}" if at >= 0 else "body:"
    return [Difference("host-leak", "body:", where, legacy_base, _short(text[max(0, at - 40):at + 80]))]


def _strings(value: Any, path: list[Any]) -> Iterator[tuple[list[Any], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, [*path, i])
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, [*path, key])


def _as_bytes(body: Any) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _kind(view: View) -> str:
    ctype = view.headers.get("content-type", "no content-type")
    return f"{view.kind} ({ctype})"


def _value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else repr(value)
    if type(value).__name__ == "NotPresent":
        return "(absent)"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _short(body: Any) -> str:
    if isinstance(body, BodyDigest):
        return f"{body.size} bytes, sha256 {body.sha256[:16]}…"
    text = body if isinstance(body, str) else repr(body)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _first_offset(a: Any, b: Any) -> int:
    if isinstance(a, BodyDigest) and isinstance(b, BodyDigest):
        return a.first_difference(b)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))
