"""What every handler of the demo legacy uses: its errors, state, JSON answers, caching and validation.

Split from legacy.py (which re-exports the names other code imports); the handlers are in legacy_handlers.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from lockstep.demo import seed

TAGS = ("vegetarian", "vegan", "quick", "family", "spicy", "low-carb", "fish", "meat")
PLANS = ("classic", "veggie", "family", "fit")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STATUSES = ("scheduled", "delivered", "skipped")
LOCALES = ("en-GB", "en-US", "de-DE", "nl-NL", "fr-FR")
LOG_LIMIT = 5000  # keeps memory flat over long runs
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


@dataclass
class LegacyState:
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=seed.subscriptions)
    deliveries: dict[str, dict[str, Any]] = field(default_factory=seed.deliveries)
    users: dict[str, dict[str, Any]] = field(default_factory=seed.users)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))

    def reset(self) -> None:
        self.subscriptions = seed.subscriptions()
        self.deliveries = seed.deliveries()
        self.users = seed.users()


@dataclass
class Ctx:
    request: Request
    params: dict[str, str]
    state: LegacyState
    user: str | None


Handler = Callable[[Ctx], Awaitable[Response]]


# ---------------------------------------------------------------- helpers

def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json_bytes(obj), status_code=status, headers=headers, media_type="application/json")


def error_body(code: str, message: str, request_id: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "request_id": request_id}}


def request_id_of(request: Request) -> str:
    """Echo a sane incoming X-Request-Id (a gateway's), else make one."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else str(uuid.uuid4())


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:24] + '"'


def not_modified(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return False
    tags = [t.strip().removeprefix("W/") for t in wanted.split(",")]
    return "*" in tags or etag in tags


def cached_json(ctx: Ctx, obj: Any, max_age: int, headers: dict[str, str] | None = None) -> Response:
    body = json_bytes(obj)
    etag = etag_of(body)
    common = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if not_modified(ctx.request, etag):
        return Response(status_code=304, headers=common)
    return Response(body, headers={**common, **(headers or {})}, media_type="application/json")


def base_url(request: Request) -> str:
    """The base URL the client used (Host header), so links name the host that was called."""
    return str(request.base_url).rstrip("/")



def private_json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_response(obj, status, {"Cache-Control": "no-store", **(headers or {})})



# ---------------------------------------------------------------- validation

def int_param(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[+-]?\d{1,9}", raw.strip()) or not low <= int(raw) <= high:
        raise ApiError(400, "bad_request", f"query parameter '{name}' must be an integer in {low}..{high}")
    return int(raw)


def enum_param(params: QueryParams, name: str, allowed: tuple[str, ...]) -> str | None:
    raw = params.get(name)
    if raw is not None and raw not in allowed:
        raise ApiError(400, "bad_request", f"query parameter '{name}' must be one of: {', '.join(allowed)}")
    return raw


def date_param(params: QueryParams, name: str) -> date | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"query parameter '{name}' must be a date (YYYY-MM-DD)") from None


def _check_int(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"must be an integer in {low}..{high}"
    return check


def _check_enum(allowed: tuple[str, ...]) -> Callable[[Any], str | None]:
    message = f"must be one of: {', '.join(allowed)}"
    return lambda value: None if isinstance(value, str) and value in allowed else message


def _check_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be a boolean"


def _check_note(value: Any) -> str | None:
    ok = value is None or (isinstance(value, str) and len(value) <= 200)
    return None if ok else "must be null or a string of at most 200 characters"


SUBSCRIPTION_FIELDS: dict[str, Callable[[Any], str | None]] = {
    "plan": _check_enum(PLANS),
    "servings": _check_int(2, 6),
    "meals_per_week": _check_int(2, 5),
    "delivery_day": _check_enum(DAYS),
    "paused": _check_bool,
    "note": _check_note,
}
REQUIRED_FIELDS = ("plan", "servings", "meals_per_week", "delivery_day")


def _check_phone(value: Any) -> str | None:
    ok = value is None or (isinstance(value, str) and re.fullmatch(r"\+?[0-9 ]{6,20}", value) is not None)
    return None if ok else "must be null or a phone number"


USER_FIELDS: dict[str, Callable[[Any], str | None]] = {"phone": _check_phone, "locale": _check_enum(LOCALES)}


def validate_body(body: Any, fields: dict[str, Callable[[Any], str | None]],
                  required: tuple[str, ...] = (), partial: bool = False) -> dict[str, Any]:
    """The body as the schema allows it, or a 422 naming the first problem (deterministic order)."""
    if not isinstance(body, dict):
        raise ApiError(422, "validation_failed", "request body must be a JSON object")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise ApiError(422, "validation_failed", f"unknown field '{unknown[0]}'")
    if partial and not body:
        raise ApiError(422, "validation_failed", "at least one field is required")
    for name in () if partial else required:
        if name not in body:
            raise ApiError(422, "validation_failed", f"missing required field '{name}'")
    for name, check in fields.items():
        problem = check(body[name]) if name in body else None
        if problem:
            raise ApiError(422, "validation_failed", f"field '{name}' {problem}")
    return body


def validate_subscription(body: Any, partial: bool) -> dict[str, Any]:
    return validate_body(body, SUBSCRIPTION_FIELDS, REQUIRED_FIELDS, partial)


async def read_json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_request", "request body is not valid JSON") from None
