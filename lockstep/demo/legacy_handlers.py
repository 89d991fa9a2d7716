"""The demo legacy's operations, one handler per operationId of contracts/demo-api.yaml (HANDLERS).

Each handler gets the request's Ctx: the path parameters, the legacy's state and the caller, the user
the `X-User-Id` header names (the legacy trusts it: its old session layer set it).
"""

from __future__ import annotations

import math
import random
import uuid
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from lockstep.demo import seed
from lockstep.demo.legacy_common import (STATUSES, TAGS, USER_FIELDS, ApiError, Ctx, Handler, base_url, cached_json,
                                         date_param, enum_param, int_param, json_response, now_iso, private_json,
                                         read_json, validate_body, validate_subscription)

_shuffler = random.Random()  # unseeded on purpose: the menu order is noise


# ---------------------------------------------------------------- public operations

async def get_health(ctx: Ctx) -> Response:
    return json_response({"status": "ok", "time": now_iso()})


async def get_greeting(ctx: Ctx) -> Response:
    """The site header's greeting: public, and personal when the session names a known user (an unknown
    id is greeted as a guest, as the old session layer did with a stale cookie)."""
    user = ctx.state.users.get(ctx.user or "")
    if user is None:
        return private_json({"greeting": "Hello, guest", "user": None})
    return private_json({"greeting": f"Hello, {user['name'].split()[0]}", "user": user["id"]})


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
    "getHealth": get_health, "getGreeting": get_greeting, "listRecipes": list_recipes, "getRecipe": get_recipe,
    "listMenus": list_menus, "getMenu": get_menu,
    "listSubscriptions": list_subscriptions, "createSubscription": create_subscription,
    "getSubscription": get_subscription, "replaceSubscription": replace_subscription,
    "updateSubscription": update_subscription, "deleteSubscription": delete_subscription,
    "listDeliveries": list_deliveries, "getDelivery": get_delivery, "skipDelivery": skip_delivery,
    "getMe": get_me, "updateMe": update_me,
}
