"""Reading a HAR file and stripping its secrets before anything is sent or written."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from ..errors import ContractError
from ..report.redact import register_secret

__all__ = ["FLOW", "HarError", "REDACTED", "SECRET_FIELDS", "SECRET_HEADERS", "SECRET_QUERY", "TRANSPORT_HEADERS", "read_har", "strip_body", "strip_headers", "strip_query"]

FLOW = "har"  # the marker and the figures' key; findings belong to the parity flow (its comparison)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token",
                            "x-csrf-token", "x-xsrf-token", "x-amz-security-token", "x-goog-api-key"})
_SECRET_HEADER_NAME = re.compile(r"(?i)token|secret|passw|api-?key|session|credential")
TRANSPORT_HEADERS = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te",
                               "trailer", "upgrade", "proxy-connection", "accept-encoding"})
SECRET_QUERY = frozenset({"access_token", "id_token", "refresh_token", "token", "auth", "authorization",
                          "api_key", "apikey", "api-key", "client_secret", "secret", "password", "passwd",
                          "session", "sessionid", "session_id", "jwt", "x-amz-signature",
                          "x-amz-credential", "x-amz-security-token"})
SECRET_FIELDS = frozenset({"password", "passwd", "pwd", "secret", "client_secret", "token", "access_token",
                           "refresh_token", "id_token", "api_key", "apikey"})
_JWT = re.compile(r"^(?:Bearer\s+)?eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$")
REDACTED = "[REDACTED]"


class HarError(ContractError):
    """The HAR file cannot be used (missing, not JSON, not a HAR, nothing of the API in it)."""


# ---------------------------------------------------------------- reading and stripping

def read_har(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a HAR file, each with at least `request.method` and `request.url`."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarError("HAR file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HarError(f"cannot read the HAR file: {exc.__class__.__name__}: {exc}", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise HarError(f"not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}", file=str(path)) from None
    entries = data.get("log", {}).get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise HarError("not a HAR file: no log.entries list", file=str(path))
    for i, entry in enumerate(entries):
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(request.get("method"), str) \
                or not isinstance(request.get("url"), str):
            raise HarError("an entry without request.method and request.url", file=str(path),
                           where=f"log.entries[{i}]")
    return entries


def strip_headers(headers: list[tuple[str, str]], own: set[str] = frozenset()) -> tuple[list[tuple[str, str]], list[str]]:
    """(kept, stripped names): credentials and transport headers out; `own` (the targets' own headers,
    lower case) out too, so each target's value replaces the recorded one."""
    kept, stripped = [], []
    for name, value in headers:
        low = name.lower()
        if low.startswith(":") or low in TRANSPORT_HEADERS:
            continue
        if low in SECRET_HEADERS or _SECRET_HEADER_NAME.search(low) or _JWT.match(value.strip()):
            register_secret(value.split(" ", 1)[-1] if low in ("authorization", "proxy-authorization") else value)
            _register_cookie_values(low, value)
            stripped.append(f"header {name}")
            continue
        if low in own:
            stripped.append(f"header {name} (the target's own)")
            continue
        kept.append((name, value))
    return kept, stripped


def _register_cookie_values(name: str, value: str) -> None:
    if name == "cookie":
        for part in value.split(";"):
            register_secret(part.partition("=")[2].strip())


def strip_query(query: str) -> tuple[str, list[str]]:
    """The raw query string minus token-like parameters; the parameters kept stay byte for byte."""
    if not query:
        return "", []
    kept, stripped = [], []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        plain_name, plain_value = unquote(name.replace("+", " ")), unquote(value.replace("+", " "))
        if plain_name.lower() in SECRET_QUERY or _JWT.match(plain_value):
            register_secret(plain_value)
            stripped.append(f"query {plain_name}")
            continue
        kept.append(part)
    return "&".join(kept), stripped


def strip_body(body: bytes, content_type: str) -> tuple[bytes, list[str]]:
    """JSON and form bodies with secret-named fields replaced by [REDACTED]; other bodies as they are."""
    stripped: list[str] = []
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return body, stripped
    if kind == "application/json" or kind.endswith("+json"):
        try:
            data = json.loads(body)
        except ValueError:
            return body, stripped
        cleaned = _strip_json(data, stripped, "")
        return (json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False).encode() if stripped else body), stripped
    if kind == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        out = []
        for name, value in pairs:
            if name.lower() in SECRET_FIELDS:
                register_secret(value)
                stripped.append(f"body {name}")
                value = REDACTED
            out.append((name, value))
        return (urlencode(out).encode() if stripped else body), stripped
    return body, stripped


def _strip_json(value: Any, stripped: list[str], where: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if str(key).lower() in SECRET_FIELDS and item not in (None, ""):
                register_secret(str(item))
                stripped.append(f"body {where}/{key}")
                out[key] = REDACTED
            else:
                out[key] = _strip_json(item, stripped, f"{where}/{key}")
        return out
    if isinstance(value, list):
        return [_strip_json(item, stripped, f"{where}/*") for item in value]
    return value
