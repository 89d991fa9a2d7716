"""The demo legacy API: a meal-kit company's monolith, exactly as contracts/demo-api.yaml documents it.

It has no auth of its own: it trusts the `X-User-Id` header its old session layer used to set. Noise is
realistic and confined: request ids, timestamps (`time`, `last_seen`, `created_at`/`updated_at` of
writes), generated subscription ids and the order of a week's menu. Everything else is seed data.
Demo-only control endpoints live under `/__demo__/` and are not in the document (the gateway never
routes them). So does `GET /internal/stats`, the monolith's internal admin API: the old DNS exposed it only
inside, and the public gateway must not serve it (the contract's `routes.private`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import re
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lockstep.demo import seed
from lockstep.demo.routes import RouteTable, catch_all_app, load_spec

TAGS = ("vegetarian", "vegan", "quick", "family", "spicy", "low-carb", "fish", "meat")
PLANS = ("classic", "veggie", "family", "fit")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STATUSES = ("scheduled", "delivered", "skipped")
LOCALES = ("en-GB", "en-US", "de-DE", "nl-NL", "fr-FR")
LOG_LIMIT = 5000  # keeps memory flat over long runs
INTERNAL_STATS = "/internal/stats"  # the internal admin API: not in the document, never public
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_shuffler = random.Random()  # unseeded on purpose: the menu order is noise


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


# ---------------------------------------------------------------- public operations

async def get_health(ctx: Ctx) -> Response:
    return json_response({"status": "ok", "time": now_iso()})


def recipe_query(params: QueryParams) -> dict[str, Any]:
    tags = params.getlist("tag")
    if any(t not in TAGS for t in tags) or len(tags) > 4:
        raise ApiError(400, "bad_request", f"query parameter 'tag' takes up to 4 of: {', '.join(TAGS)}")
    q = params.get("q")
    if q is not None and not 1 <= len(q) <= 100:
        raise ApiError(400, "bad_request", "query parameter 'q' must have 1..100 characters")
    page = int_param(params, "page", 1, 1, 1000)
    return {"q": q, "tag": tags, "page": page, "per_page": int_param(params, "per_page", 10, 1, 50)}


def recipe_matches(recipe: dict[str, Any], query: dict[str, Any]) -> bool:
    if not set(query["tag"]) <= set(recipe["tags"]):
        return False
    return query["q"] is None or query["q"].lower() in recipe["title"].lower()


def pagination_links(request: Request, query: dict[str, Any], total: int) -> str:
    pages = max(1, math.ceil(total / query["per_page"]))
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "per_page")]

    def link(page: int, rel: str) -> str:
        qs = urlencode(kept + [("page", page), ("per_page", query["per_page"])], quote_via=quote, safe="")
        return f'<{base_url(request)}/recipes?{qs}>; rel="{rel}"'

    rels = [link(1, "first")]
    if query["page"] > 1:
        rels.append(link(min(query["page"] - 1, pages), "prev"))
    if query["page"] < pages:
        rels.append(link(query["page"] + 1, "next"))
    return ", ".join(rels + [link(pages, "last")])


async def list_recipes(ctx: Ctx) -> Response:
    query = recipe_query(ctx.request.query_params)
    found = [r for r in seed.RECIPES.values() if recipe_matches(r, query)]
    start = (query["page"] - 1) * query["per_page"]
    body = {"items": found[start:start + query["per_page"]], "total": len(found), "query": query}
    link = pagination_links(ctx.request, query, len(found))
    return cached_json(ctx, body, max_age=60, headers={"Link": link})


async def get_recipe(ctx: Ctx) -> Response:
    recipe_id = ctx.params["recipe_id"]
    recipe = seed.RECIPES.get(recipe_id)
    if recipe is None:
        raise ApiError(404, "not_found", f"recipe {recipe_id} not found")
    return cached_json(ctx, recipe, max_age=60)


async def list_menus(ctx: Ctx) -> Response:
    items = [{"week": week, "starts_on": menu["starts_on"], "recipe_count": len(menu["recipe_ids"])}
             for week, menu in seed.MENUS.items()]
    return json_response({"items": items}, headers={"Cache-Control": "public, max-age=300"})


async def get_menu(ctx: Ctx) -> Response:
    week = ctx.params["week"]
    menu = seed.MENUS.get(week)
    if menu is None:
        raise ApiError(404, "not_found", f"no menu for week {week}")
    recipes = [seed.RECIPES[rid] for rid in menu["recipe_ids"]]
    _shuffler.shuffle(recipes)
    body = {"week": week, "starts_on": menu["starts_on"], "recipes": recipes}
    return json_response(body, headers={"Cache-Control": "public, max-age=300"})


# ---------------------------------------------------------------- subscriptions

def public_view(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "owner"}


def owned(ctx: Ctx, table: dict[str, dict[str, Any]], key: str, noun: str) -> dict[str, Any]:
    """The caller's record; another user's id is a 404 like an unknown one (no existence leak)."""
    record_id = ctx.params[key]
    record = table.get(record_id)
    if record is None or record["owner"] != ctx.user:
        raise ApiError(404, "not_found", f"{noun} {record_id} not found")
    return record


def private_json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_response(obj, status, {"Cache-Control": "no-store", **(headers or {})})


async def list_subscriptions(ctx: Ctx) -> Response:
    mine = [public_view(s) for s in ctx.state.subscriptions.values() if s["owner"] == ctx.user]
    mine.sort(key=lambda s: (s["created_at"], s["id"]))
    return private_json({"items": mine, "total": len(mine)})


async def create_subscription(ctx: Ctx) -> Response:
    body = validate_subscription(await read_json(ctx.request), partial=False)
    now = now_iso()
    record = {"id": str(uuid.uuid4()), "owner": ctx.user, **subscription_fields(body),
              "created_at": now, "updated_at": now}
    ctx.state.subscriptions[record["id"]] = record
    location = f"{base_url(ctx.request)}/subscriptions/{record['id']}"
    return json_response(public_view(record), 201, {"Location": location})


def subscription_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A full representation's fields, optional ones defaulted (POST and PUT)."""
    return {"plan": body["plan"], "servings": body["servings"], "meals_per_week": body["meals_per_week"],
            "delivery_day": body["delivery_day"], "paused": body.get("paused", False),
            "note": body.get("note")}


async def get_subscription(ctx: Ctx) -> Response:
    return private_json(public_view(owned(ctx, ctx.state.subscriptions, "subscription_id", "subscription")))


async def replace_subscription(ctx: Ctx) -> Response:
    record = owned(ctx, ctx.state.subscriptions, "subscription_id", "subscription")
    body = validate_subscription(await read_json(ctx.request), partial=False)
    record.update(subscription_fields(body), updated_at=now_iso())
    return json_response(public_view(record))


async def update_subscription(ctx: Ctx) -> Response:
    record = owned(ctx, ctx.state.subscriptions, "subscription_id", "subscription")
    body = validate_subscription(await read_json(ctx.request), partial=True)
    record.update(body, updated_at=now_iso())
    return json_response(public_view(record))


async def delete_subscription(ctx: Ctx) -> Response:
    record = owned(ctx, ctx.state.subscriptions, "subscription_id", "subscription")
    del ctx.state.subscriptions[record["id"]]
    return Response(status_code=204)


# ---------------------------------------------------------------- deliveries and profile

async def list_deliveries(ctx: Ctx) -> Response:
    params = ctx.request.query_params
    status = enum_param(params, "status", STATUSES)
    first, last = date_param(params, "from"), date_param(params, "to")
    mine = [d for d in ctx.state.deliveries.values() if d["owner"] == ctx.user
            and (status is None or d["status"] == status)
            and (first is None or date.fromisoformat(d["date"]) >= first)
            and (last is None or date.fromisoformat(d["date"]) <= last)]
    mine.sort(key=lambda d: (d["date"], d["id"]))
    return private_json({"items": [public_view(d) for d in mine], "total": len(mine)})


async def get_delivery(ctx: Ctx) -> Response:
    return private_json(public_view(owned(ctx, ctx.state.deliveries, "delivery_id", "delivery")))


async def skip_delivery(ctx: Ctx) -> Response:
    delivery = owned(ctx, ctx.state.deliveries, "delivery_id", "delivery")
    if delivery["status"] != "scheduled":
        raise ApiError(409, "conflict", f"delivery {delivery['id']} is {delivery['status']}, not scheduled")
    delivery["status"] = "skipped"
    return json_response(public_view(delivery))


def current_user(ctx: Ctx) -> dict[str, Any]:
    user = ctx.state.users.get(ctx.user or "")
    if user is None:
        raise ApiError(404, "not_found", f"user {ctx.user} not found")
    return user


async def get_me(ctx: Ctx) -> Response:
    return private_json({**current_user(ctx), "last_seen": now_iso()})


async def update_me(ctx: Ctx) -> Response:
    user = current_user(ctx)
    user.update(validate_body(await read_json(ctx.request), USER_FIELDS, partial=True))
    return json_response({**user, "last_seen": now_iso()})


HANDLERS: dict[str, Handler] = {
    "getHealth": get_health, "listRecipes": list_recipes, "getRecipe": get_recipe,
    "listMenus": list_menus, "getMenu": get_menu,
    "listSubscriptions": list_subscriptions, "createSubscription": create_subscription,
    "getSubscription": get_subscription, "replaceSubscription": replace_subscription,
    "updateSubscription": update_subscription, "deleteSubscription": delete_subscription,
    "listDeliveries": list_deliveries, "getDelivery": get_delivery, "skipDelivery": skip_delivery,
    "getMe": get_me, "updateMe": update_me,
}


# ---------------------------------------------------------------- the app

class LegacyApi:
    def __init__(self, table: RouteTable, upstream_delay_ms: int = 0) -> None:
        missing = sorted(op.operation_id for op in table.operations() if op.operation_id not in HANDLERS)
        if missing:
            raise ValueError(f"the document has operations the legacy does not implement: {missing}")
        self.table, self.delay = table, upstream_delay_ms / 1000
        self.state = LegacyState()

    async def dispatch(self, request: Request) -> Response:
        request_id = request_id_of(request)
        await self.record(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        try:
            response = await self.route(request)
        except ApiError as err:
            response = json_response(error_body(err.code, err.message, request_id), err.status, err.headers)
        response.headers["X-Request-Id"] = request_id
        return response

    async def route(self, request: Request) -> Response:
        path, method = request.url.path, request.method
        matched = self.table.match(path)
        if matched is None:
            raise ApiError(404, "not_found", f"no route for {path}")
        route, params = matched
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": route.allow()})
        op = route.operation(method)
        if op is None:
            raise ApiError(405, "method_not_allowed", f"{method} is not allowed on {route.template}",
                           {"Allow": route.allow()})
        user = request.headers.get("x-user-id") or None
        if not op.public and user is None:
            raise ApiError(401, "unauthorized", "authentication required")
        return await HANDLERS[op.operation_id](Ctx(request, params, self.state, user))

    async def record(self, request: Request) -> None:
        headers: dict[str, str] = {}
        for name, value in request.headers.raw:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        body = (await request.body())[:2000].decode("utf-8", "replace")
        self.state.log.append({"method": request.method, "path": request.url.path,
                               "query": request.url.query, "headers": headers, "body": body,
                               "timestamp": now_iso()})

    # -------------------------------------------------------- demo-only control endpoints

    async def reset(self, request: Request) -> Response:
        self.state.reset()
        return json_response({"status": "reset"})

    async def get_log(self, request: Request) -> Response:
        return json_response(list(self.state.log))

    async def clear_log(self, request: Request) -> Response:
        self.state.log.clear()
        return Response(status_code=204)

    async def internal_stats(self, request: Request) -> Response:
        """The internal admin API: figures an operator reads, reachable only from inside."""
        return json_response({"subscriptions": len(self.state.subscriptions),
                              "deliveries": len(self.state.deliveries), "users": len(self.state.users),
                              "requests_logged": len(self.state.log), "time": now_iso()},
                             headers={"Cache-Control": "no-store", "X-Request-Id": request_id_of(request)})

    async def get_state(self, request: Request) -> Response:
        subs = Counter(s["owner"] for s in self.state.subscriptions.values())
        skipped = Counter(d["owner"] for d in self.state.deliveries.values() if d["status"] == "skipped")
        return json_response({"subscriptions": dict(sorted(subs.items())),
                              "skipped_deliveries": dict(sorted(skipped.items())),
                              "log_size": len(self.state.log)})


def create_legacy_app(spec: dict[str, Any] | None = None, *, upstream_delay_ms: int = 0) -> Starlette:
    api = LegacyApi(RouteTable.from_spec(spec or load_spec()), upstream_delay_ms)
    control = [
        Route("/__demo__/reset", api.reset, methods=["POST"]),
        Route("/__demo__/log", api.get_log, methods=["GET"]),
        Route("/__demo__/log", api.clear_log, methods=["DELETE"]),
        Route("/__demo__/state", api.get_state, methods=["GET"]),
        Route(INTERNAL_STATS, api.internal_stats, methods=["GET"]),
    ]
    app = catch_all_app(api.dispatch, control)
    app.state.api = api
    return app
