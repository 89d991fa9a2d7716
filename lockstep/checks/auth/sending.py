"""Sending one variant: where an operation's auth requests go, and with which headers (the target's own,
less its credential and any identity header, plus the variant's Authorization and query)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ...engine.context import CheckContext
from ...operations import Operation
from ...targets import SAFE_METHODS, Answer
from ...tokens import Variant
from .skips import auth_slice

__all__ = ["auth_path", "plain_headers", "send_variant", "send_valid", "wire"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PARAM = re.compile(r"\{[^}]+\}")


def auth_path(operation: Operation) -> str:
    """Where the auth checks send an operation's requests. A safe operation: its example path. A write with
    path parameters: the same path naming a resource that does not exist (the auth decision comes first;
    a correct gateway's answer is the upstream's 404, and no seed data is consumed). Writes go without a
    body, so a request let through by mistake fails the upstream's validation instead of writing."""
    if operation.method in SAFE_METHODS or "{" not in operation.path:
        return operation.example_path
    template, example = operation.path.split("/"), operation.example_path.split("/")
    if len(template) != len(example):
        return operation.example_path
    return "/".join(_absent(e) if _PARAM.fullmatch(t) else e for t, e in zip(template, example))


def _absent(value: str) -> str:
    if _UUID.match(value):
        return "00000000-0000-4000-8000-00000000dead"
    return "987654321" if value.isdigit() else "lockstep-absent"


def wire(value: str) -> str | bytes:
    """Odd bytes travel as raw latin-1 bytes (httpx encodes str headers as ASCII)."""
    return value if value.isascii() else value.encode("latin-1")


def plain_headers(ctx: CheckContext, target: str = "gateway") -> list[tuple[str, Any]]:
    """A target's own headers from the contract, less its credential and (for the gateway) any identity header:
    the legacy keeps its identity header, which is how it knew the caller before the cutover."""
    policy = auth_slice(ctx)
    own = policy.gateway_headers if target == "gateway" else policy.legacy_headers
    off = {"authorization"} | ({h.lower() for h in policy.auth.identity_headers} if target == "gateway" else set())
    return [(k, v) for k, v in own.items() if k.lower() not in off]


def send_variant(ctx: CheckContext, variant: Variant, *, extra: Iterable[tuple[str, str]] = (),
                 target: str = "gateway") -> Answer:
    headers = plain_headers(ctx, target) + [(k, wire(v)) for k, v in variant.headers] + list(extra)
    return ctx.send(target, path=auth_path(ctx.operation), headers=headers, query=variant.query or None,
                    credentials=False)


def send_valid(ctx: CheckContext) -> Answer:
    """The canonical request: the gateway target's own token, `Bearer`."""
    return ctx.send("gateway", path=auth_path(ctx.operation))
