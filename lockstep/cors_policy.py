"""The CORS policy of one operation (the contract's `cors:` with its overrides applied) and what the
Fetch standard says a browser sends, never sends, and reads without being granted."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .contract import CorsPolicy
from .operations import Operation

__all__ = ["Policy", "policy_for", "unused_overrides", "browser_can_send", "asked_headers", "readable_unasked",
           "FORBIDDEN_METHODS", "SAFELISTED_METHODS"]

# Fetch: no script can send these, so no preflight ever asks for them and no CORS rule applies to them
FORBIDDEN_METHODS = frozenset({"CONNECT", "TRACE", "TRACK"})
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})  # browsers allow these without an ACAM entry
# request headers a preflight never names: CORS-safelisted (any usual value) or set by the browser alone
_UNASKED_REQUEST = frozenset({
    "accept", "accept-language", "content-language", "accept-charset", "accept-encoding", "connection",
    "content-length", "cookie", "cookie2", "date", "dnt", "expect", "host", "keep-alive", "origin", "referer",
    "set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via"})
# response headers every script may read without Access-Control-Expose-Headers
_SAFELISTED_RESPONSE = frozenset({"cache-control", "content-language", "content-length", "content-type",
                                  "expires", "last-modified", "pragma"})
_KEYS = ("origins", "credentials", "headers", "expose", "max_age", "as_legacy", "enabled", "methods")


def browser_can_send(method: str) -> bool:
    """False for the Fetch standard's forbidden methods (CONNECT, TRACE, TRACK), in any case."""
    return method.upper() not in FORBIDDEN_METHODS


def asked_headers(headers: Iterable[str]) -> list[str]:
    """The headers a browser's preflight names in Access-Control-Request-Headers, of those a script sets."""
    return [h for h in headers if h.lower() not in _UNASKED_REQUEST and not h.lower().startswith(("sec-", "proxy-"))]


def readable_unasked(name: str) -> bool:
    """A CORS-safelisted response header: readable by any script, whatever Expose-Headers says."""
    return name.lower() in _SAFELISTED_RESPONSE


@dataclass(frozen=True)
class Policy:
    origins: tuple[str, ...]
    credentials: bool
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    max_age: int | None
    as_legacy: bool = False
    enabled: bool = True
    methods: tuple[str, ...] | str | None = None  # what ACAM may grant beyond a path's own; "as_document"

    @property
    def wildcard(self) -> bool:
        return "*" in self.origins

    @property
    def allowed(self) -> tuple[str, ...]:
        """The origins a browser may call from (a stand-in for `*`); none if CORS is off here."""
        if not self.enabled:
            return ()
        return tuple(o for o in self.origins if o != "*") or ("https://lockstep-any-origin.example",)

    @property
    def credentials_mode(self) -> str:
        """The `credentials` of the page's fetch() this policy serves."""
        return "include" if self.credentials else "omit"


def _selects(override: Any, op: Operation) -> bool:
    return ((override.path is None or fnmatch.fnmatchcase(op.path, override.path))
            and (override.method is None or override.method == op.method)
            and (override.tag is None or override.tag in op.tags))


def policy_for(cors: CorsPolicy, op: Operation) -> Policy:
    """The policy with every matching override applied in order (later ones win)."""
    values: dict[str, Any] = {k: getattr(cors, k, True) for k in _KEYS}
    values["methods"] = getattr(cors, "methods", None)
    for override in cors.overrides:
        if _selects(override, op):
            values.update({k: getattr(override, k, None) for k in _KEYS if getattr(override, k, None) is not None})
    methods = values["methods"]
    return Policy(tuple(values["origins"]), values["credentials"], tuple(values["headers"]),
                  tuple(values["expose"]), values["max_age"], values["as_legacy"], values["enabled"],
                  tuple(methods) if isinstance(methods, list) else methods)


def unused_overrides(cors: CorsPolicy, operations: Iterable[Operation]) -> list[str]:
    """Overrides that select no operation (a typo in a glob silently changes nothing otherwise)."""
    ops = list(operations)
    return [f"cors.overrides[{i}] ({_selector_text(o)})" for i, o in enumerate(cors.overrides)
            if not any(_selects(o, op) for op in ops)]


def _selector_text(override: Any) -> str:
    return ", ".join(f"{k}: {getattr(override, k)}" for k in ("path", "method", "tag") if getattr(override, k))
