"""The demo legacy API: a meal-kit company's monolith, exactly as contracts/demo-api.yaml documents it.

It has no auth of its own: it trusts the `X-User-Id` header its old session layer used to set. Noise is
realistic and confined: request ids, timestamps (`time`, `last_seen`, `created_at`/`updated_at` of
writes), generated subscription ids and the order of a week's menu. Everything else is seed data.
Demo-only control endpoints live under `/__demo__/` and are not in the document (the gateway never
routes them). So does `GET /internal/stats`, the monolith's internal admin API: the old DNS exposed it only
inside, and the public gateway must not serve it (the contract's `routes.private`).

This module is the app (routing, the trusted caller, the request log, the control endpoints); the
operations are in legacy_handlers.py, what they share in legacy_common.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lockstep.demo.legacy_common import (DAYS, LOCALES, PLANS, STATUSES, TAGS, ApiError, Ctx, LegacyState,
                                         error_body, json_response, now_iso, request_id_of)
from lockstep.demo.legacy_handlers import HANDLERS
from lockstep.demo.routes import RouteTable, catch_all_app, load_spec

__all__ = ["create_legacy_app", "LegacyApi", "LegacyState", "HANDLERS", "INTERNAL_STATS", "TAGS", "PLANS", "DAYS",
           "STATUSES", "LOCALES"]

INTERNAL_STATS = "/internal/stats"  # the internal admin API: not in the document, never public


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
