"""An Answer normalised for comparison: status, the contract's headers, and a parsed body.

The same resource must compare equal whichever target named it, so each target's own base URL
becomes `{base}`:
- in `Location`/`Content-Location`/`Link`, absolute references under the base URL and absolute-path
  references under the target's prefix (the path part of its base URL: a legacy `/cookies` and the
  gateway's `/api/x/cookies` both become `{base}/cookies`); a reference outside the prefix stays as it is,
  so a gateway that forgot to rewrite one still differs;
- inside text bodies and JSON string values (NDJSON lines included), absolute URLs under the base URL.
  Strings are walked only when the body's bytes name the base's host at all, which a faithful answer
  rarely does.
A path under the prefix inside a body (`/api/x/items/2`) is not rewritten here: the same string may be
an echo of what the client sent, identical on both sides. `compare` treats two differing strings as
the same place when each, without its own target's prefix, is the same (`View.base`, `unprefixed`).
Bodies past `max_body_bytes` are kept as size + digest only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

from .bodies import BodyDigest, digest_of
from .targets import Answer

__all__ = ["View", "view_of", "BodyDigest", "parse_content_type", "URL_HEADERS", "Base", "base_of",
           "map_reference", "map_text", "unprefixed", "json_lines", "JSON_LINES"]

URL_HEADERS = ("location", "link", "content-location")
JSON_LINES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
              "application/json-seq")
BodyKind = Literal["empty", "json", "invalid-json", "text", "bytes", "digest"]
_TEXT = ("application/xml", "application/x-www-form-urlencoded", "application/javascript", "application/xhtml+xml")
_LINK_TARGET = re.compile(r"<([^>]*)>")
_URL_GOES_ON = r"(?![\w\-~%:@]|\.\w)"  # what may not follow a base URL inside a longer one (`:80` -> `:8080`)


@dataclass(frozen=True)
class Base:
    """A target's base URL, split once: what `{base}` stands for."""

    url: str  # "http://gw:8080/api/x" (no trailing slash); "" maps nothing
    prefix: str  # "/api/x", or "" at the root
    markers: tuple[bytes, ...]  # a body naming none of these (its host) needs no walk
    absolute: re.Pattern[str] | None
    relative: re.Pattern[str] | None


@lru_cache(maxsize=64)
def base_of(base_url: str) -> Base:
    url = base_url.rstrip("/")
    parts = urlsplit(url)
    if not parts.netloc:
        return NO_BASE
    prefix = parts.path.rstrip("/")
    absolute = re.compile(re.escape(url) + _URL_GOES_ON)
    # a path under the prefix, where a path can start (not inside a host, a longer path or `{base}`)
    relative = re.compile(r"(?<![\w\-.~%:@/}])" + re.escape(prefix) + r"(?:/|(?=[?#\"'\s<>]|$))") if prefix else None
    return Base(url, prefix, (parts.netloc.encode(),), absolute, relative)


NO_BASE = Base("", "", (), None, None)


@dataclass
class View:
    status: int
    headers: dict[str, str]
    kind: BodyKind
    body: Any
    base: Base = NO_BASE  # the target's base, for `compare` to recognise a path under its prefix


def map_reference(ref: str, base: Base) -> str:
    """One URI reference (a `Location`, a `Link` target) through the target's base URL and prefix."""
    if not base.url:
        return ref
    if ref.startswith(base.url):
        rest: str | None = ref[len(base.url):]
    elif ref.startswith("/") and not ref.startswith("//") and ref.startswith(base.prefix):
        rest = ref[len(base.prefix):]
    else:
        rest = None
    if rest is None or rest[:1] not in ("", "/", "?", "#"):
        return ref  # not under the base (`/api/xy` is not under `/api/x`)
    return "{base}" + (rest if rest.startswith("/") else "/" + rest)  # the base itself is its root, `/`


def map_text(text: str, base: Base) -> str:
    """A body's text (or one JSON string) with the base URL as `{base}`."""
    return base.absolute.sub("{base}", text) if base.absolute is not None else text


def unprefixed(text: str, base: Base) -> str:
    """`text` with each path under the target's prefix written without it (`/api/x/items` -> `/items`)."""
    return base.relative.sub("/", text) if base.relative is not None else text


def _map_json(value: Any, base: Base) -> Any:
    if isinstance(value, str):
        return map_text(value, base)
    if isinstance(value, list):
        return [_map_json(v, base) for v in value]
    if isinstance(value, dict):
        return {k: _map_json(v, base) for k, v in value.items()}
    return value


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
    base = base_of(base_url)
    headers: dict[str, str] = {}
    for name in header_names:
        values = answer.headers.get_list(name)
        if not values:
            continue
        value = ", ".join(values)
        if name == "content-type":
            value = parse_content_type(value)
        elif name == "link":
            value = _LINK_TARGET.sub(lambda m: f"<{map_reference(m.group(1), base)}>", value)
        elif name in URL_HEADERS:
            value = ", ".join(map_reference(v.strip(), base) for v in values)
        headers[name] = value
    kind, body = _body(answer, max_body_bytes)
    if kind in ("json", "text", "invalid-json") and any(m in answer.body for m in base.markers):
        body = _map_json(body, base)
    return View(answer.status or 0, headers, kind, body, base)


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
    if mime in JSON_LINES:
        lines = json_lines(raw)
        if lines is not None:
            return "json", lines
    if mime.startswith("text/") or mime in _TEXT or mime.endswith("+xml") or mime in JSON_LINES:
        try:
            return "text", raw.decode("utf-8")
        except UnicodeDecodeError:
            return "bytes", raw
    return "bytes", raw


def json_lines(raw: bytes) -> list[Any] | None:
    """An NDJSON / JSON Lines / JSON text sequence body as a list of values, or None if a line is not JSON."""
    try:
        return [json.loads(line) for line in raw.replace(b"\x1e", b"\n").splitlines() if line.strip()]
    except ValueError:
        return None
