"""What a browser sends: its preflight (no credentials) and the actual request a page's script makes.

Several checks of one checklist line ask the same preflight: an identical safe request for the same
operation is sent once. The answers live in the flow's per-run cache (`ctx.cache`), and only the
current operation's are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ...engine.context import CheckContext
from ...errors import UnsafeRequestError
from ...targets import SAFE_METHODS, Answer
from ...cors_policy import asked_headers, browser_can_send

__all__ = ["preflight", "actual", "actual_request", "safe", "where", "shown", "cannot", "path_methods",
           "unknown_path"]

_MEMO = "cors.probes"  # the key of the memo in ctx.cache


def preflight(ctx: CheckContext, origin: str, *, method: str | None = None, headers: Iterable[str] = (),
              path: str | None = None, target: str = "gateway") -> Answer:
    """A browser's preflight: no credentials, the request headers it names lower-cased, sorted, comma-joined
    (CORS-safelisted and browser-set ones are never named)."""
    asked = [("Origin", origin), ("Access-Control-Request-Method", method or ctx.operation.method)]
    names = sorted({h.lower() for h in asked_headers(headers)})
    if names:
        asked.append(("Access-Control-Request-Headers", ",".join(names)))
    return _send(ctx, target, "OPTIONS", path, asked, b"", False)


def actual(ctx: CheckContext, origin: str | None, *, method: str | None = None, path: str | None = None,
           credentials: bool = True, target: str = "gateway", headers: dict[str, str] | None = None,
           body: bytes = b"") -> Answer:
    """The request a page's script makes (with the user's credentials unless told otherwise)."""
    sent = dict(headers or {})
    if origin is not None:
        sent["Origin"] = origin
    return _send(ctx, target, method or ctx.operation.method, path, list(sent.items()), body, credentials)


def actual_request(ctx: CheckContext, origin: str | None) -> Answer:
    """Safe methods as they are; a POST with a body as a simple (not preflighted) text/plain request,
    which a JSON API refuses without effect. Anything else changes state: not sent."""
    if safe(ctx):
        return actual(ctx, origin)
    if ctx.operation.method == "POST" and ctx.operation.has_body:
        return actual(ctx, origin, headers={"Content-Type": "text/plain"}, body=b"lockstep CORS probe")
    raise UnsafeRequestError(f"no actual {ctx.operation.method} is sent: it would change state (its 401 and "
                             f"405 are judged with the errors)")


def _send(ctx: CheckContext, target: str, method: str, path: str | None, headers: list[tuple[str, str]],
          body: bytes, credentials: bool) -> Answer:
    """ctx.send, except that an identical safe request for the same operation is sent once."""
    if method not in SAFE_METHODS:
        return ctx.send(target, method, path=path, headers=headers, body=body, credentials=credentials)
    memo: dict[str, Any] = ctx.cache.setdefault(_MEMO, {"operation": None, "answers": {}})
    if memo["operation"] != ctx.operation.label:
        memo["operation"], memo["answers"] = ctx.operation.label, {}
    key = (target, method, path, tuple(headers), body, credentials)
    answer = memo["answers"].get(key)
    if answer is None:
        answer = memo["answers"][key] = ctx.send(target, method, path=path, headers=headers, body=body,
                                                 credentials=credentials)
    else:
        ctx.answers.append(answer)
    return answer


def safe(ctx: CheckContext) -> bool:
    return ctx.operation.method in SAFE_METHODS


def where(ctx: CheckContext, path: str | None = None) -> str:
    """The path as the browser's page calls it: the gateway's prefix + the template (or `path`)."""
    return urlsplit(ctx.base_url("gateway")).path.rstrip("/") + (path or ctx.operation.path)


def shown(ctx: CheckContext, method: str | None = None, path: str | None = None) -> str:
    return f"{method or ctx.operation.method} {where(ctx, path)}"


def cannot(ctx: CheckContext, origin: str, method: str | None = None) -> str:
    return f"a browser at {origin} cannot {shown(ctx, method)}"


def path_methods(ctx: CheckContext) -> set[str]:
    """The methods a browser can send that the document offers on this operation's path (plus HEAD with
    GET, and OPTIONS)."""
    methods = {o.method for o in ctx.operations if o.path == ctx.operation.path} | {ctx.operation.method, "OPTIONS"}
    methods |= {"HEAD"} if "GET" in methods else set()
    return {m for m in methods if browser_can_send(m)}


def unknown_path(ctx: CheckContext) -> str:
    return ctx.operation.example_path.rstrip("/") + "/lockstep-no-such-route"
