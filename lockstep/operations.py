"""The document's operations as plain values: method, path, security, scopes, a concrete example path.

The CORS, auth and route flows need one real URL per operation, not generated cases: the example
path fills each path parameter from the document's own examples (then enum, default, a typed probe).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

__all__ = ["Operation", "operations_of", "select"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str | None
    tags: tuple[str, ...]
    security: tuple[tuple[str, tuple[str, ...]], ...] | None  # None: public; else alternatives (scheme, scopes)
    example_path: str
    has_body: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def protected(self) -> bool:
        return self.security is not None

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(s for _, scopes in (self.security or ()) for s in scopes)

    def __str__(self) -> str:
        return self.label


def operations_of(document: dict[str, Any]) -> list[Operation]:
    found = []
    default_security = document.get("security")
    for path, item in (document.get("paths") or {}).items():
        item = _resolve(document, item)
        shared = item.get("parameters", [])
        for method in _METHODS:
            if method not in item:
                continue
            op = _resolve(document, item[method])
            params = [_resolve(document, p) for p in [*shared, *op.get("parameters", [])]]
            security = op.get("security", default_security)
            found.append(Operation(
                method=method.upper(), path=path, operation_id=op.get("operationId"),
                tags=tuple(op.get("tags", ())), security=_security(security),
                example_path=_example_path(document, path, params), has_body="requestBody" in op))
    return found


def select(operations: list[Operation], *, path: str | None = None, method: str | None = None,
           tag: str | None = None) -> list[Operation]:
    """Operations matching a selector (path glob over the template, method, tag)."""
    return [o for o in operations
            if (path is None or fnmatch.fnmatchcase(o.path, path))
            and (method is None or o.method == method.upper())
            and (tag is None or tag in o.tags)]


def _security(requirements: list[dict[str, list[str]]] | None) -> tuple | None:
    if not requirements or any(not req for req in requirements):
        return None  # absent, `[]`, or an empty alternative `{}`: callable without credentials
    return tuple((scheme, tuple(scopes)) for req in requirements for scheme, scopes in req.items())


def _example_path(document: dict[str, Any], path: str, params: list[dict[str, Any]]) -> str:
    for param in params:
        if param.get("in") == "path":
            path = path.replace("{" + param["name"] + "}", str(_example(document, param)))
    return path


def _example(document: dict[str, Any], param: dict[str, Any]) -> Any:
    if "example" in param:
        return param["example"]
    for example in (param.get("examples") or {}).values():
        example = _resolve(document, example)
        if "value" in example:
            return example["value"]
    schema = _resolve(document, param.get("schema", {}))
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    return 1 if schema.get("type") in ("integer", "number") else "lockstep-probe"


def _resolve(document: dict[str, Any], node: Any, depth: int = 0) -> Any:
    while isinstance(node, dict) and "$ref" in node and depth < 20:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = document
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
        node, depth = target, depth + 1
    return node
