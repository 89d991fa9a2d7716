"""The demo's route table, read from the OpenAPI document: the one place legacy and gateway route from.

Both apps match paths and compute `Allow` with the same table, so a 404/405/OPTIONS answer of the
faithful gateway is the legacy's answer by construction.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Lifespan, Receive, Scope, Send

SPEC_PATH = Path(__file__).resolve().parents[2] / "contracts" / "demo-api.yaml"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    scopes: tuple[str, ...] | None  # None: public (`security: []`)

    @property
    def public(self) -> bool:
        return self.scopes is None

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


@dataclass(frozen=True)
class Route:
    template: str
    pattern: re.Pattern[str]
    operations: dict[str, Operation] = field(hash=False)

    def methods(self) -> list[str]:
        """The document's methods for this path, in canonical order (what CORS announces)."""
        return [m for m in HTTP_METHODS if m in self.operations]

    def allow(self) -> str:
        """The `Allow` value: the document's methods, HEAD where GET is served, and OPTIONS."""
        allowed = set(self.operations) | {"OPTIONS"}
        if "GET" in allowed:
            allowed.add("HEAD")
        return ", ".join(m for m in HTTP_METHODS if m in allowed)

    def operation(self, method: str) -> Operation | None:
        return self.operations.get("GET" if method == "HEAD" else method)


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    @classmethod
    def from_spec(cls, spec: dict[str, Any], skip: Collection[tuple[str, str]] = ()) -> RouteTable:
        """Build the table; `skip` drops (METHOD, path) operations (a route the gateway forgot)."""
        by_path: dict[str, dict[str, Operation]] = {}
        for op in iter_operations(spec):
            if op.key not in skip:
                by_path.setdefault(op.path, {})[op.method] = op
        return cls([Route(path, template_regex(path), ops) for path, ops in by_path.items()])

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found:
                return route, found.groupdict()
        return None

    def operations(self) -> Iterator[Operation]:
        for route in self.routes:
            yield from route.operations.values()


class _Endpoint:
    """An ASGI app running a request -> response handler."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)


def catch_all_app(handler: Callable[[Request], Awaitable[Response]], routes: Sequence[BaseRoute] = (),
                  lifespan: Lifespan[Starlette] | None = None) -> Starlette:
    """A Starlette app whose unmatched requests (any path, any method) all go to `handler`.

    The router's default is used instead of a `/{path:path}` route: that regex stops at a newline
    (`%0A` in a path), and Starlette would answer such paths with its own text/plain 404.
    """
    app = Starlette(routes=list(routes), lifespan=lifespan)
    app.router.redirect_slashes = False
    app.router.default = _Endpoint(handler)
    return app


def load_spec(path: Path | None = None) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~5x faster on every stack start
    with open(path or SPEC_PATH, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader either way


def template_regex(template: str) -> re.Pattern[str]:
    parts = _PARAM.split(template)
    # split() alternates literal text and parameter names
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(regex)  # used with fullmatch: `$` would also accept a trailing newline


def iter_operations(spec: dict[str, Any]) -> Iterator[Operation]:
    default_security = spec.get("security", [])
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method.upper() not in HTTP_METHODS:
                continue  # path-level `parameters`, `summary`...
            security = op.get("security", default_security)
            yield Operation(method.upper(), path, op["operationId"], required_scopes(security))


def required_scopes(security: list[dict[str, list[str]]]) -> tuple[str, ...] | None:
    """Scopes of the first requirement (the demo document has one scheme); None when public."""
    if not security:
        return None
    first = security[0]
    return tuple(scope for scopes in first.values() for scope in scopes)
