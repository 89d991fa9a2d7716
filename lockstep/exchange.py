"""One case -> legacy twice and the gateway once -> an Exchange.

Safe methods go out together, so a slow upstream costs one delay per case, not three. Every other
method goes out one after another: legacy, legacy again, gateway. Three creates are fine (ids become
learned noise), but a POST action, PUT, PATCH or DELETE may consume state; sent together, the gateway's
copy could consume it first while both legacy copies agree, which would look like a difference. In
order, consumption shows: the two legacy answers differ in status, the case is `order_dependent`, and
it is left to the stateful flow instead of being judged here.

Credentials are a property of the target, never of the generated case: Schemathesis fills the
operation's security parameters (`Authorization`, an API key in a header, query or cookie) with random
values, even `Bearer ` with nothing after it, which no HTTP client may send. `build_request` drops them
for both targets before the target's own headers (its token, its identity header) apply.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import requests

from .targets import SAFE_METHODS, Answer, Target

__all__ = ["Exchange", "Exchanger", "build_request", "readdress", "credentials_of", "Credentials"]

CONCURRENT_METHODS = SAFE_METHODS


@dataclass
class Exchange:
    operation: str
    legacy: Answer
    legacy_again: Answer
    gateway: Answer
    order_dependent: bool = False


def build_request(case: Any, target: Target) -> httpx.Request:
    """The bytes Schemathesis would send, addressed to `target`, without the generated credentials and
    with the target's own headers.

    `requests` prepares the request because its encoding is what Schemathesis's own runner sends;
    handing the same kwargs to httpx would encode bodies and queries differently.
    """
    kwargs = case.as_transport_kwargs(base_url=target.base_url)
    _drop_credentials(kwargs, credentials_of(case.operation))
    headers = kwargs.get("headers") or {}
    own = target.headers
    if own:
        lowered = {name.lower() for name in own}
        headers = {k: v for k, v in headers.items() if k.lower() not in lowered} | own
    kwargs["headers"] = headers
    prepared = requests.Request(**{k: v for k, v in kwargs.items() if k in _REQUEST_KEYS}).prepare()
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return httpx.Request(prepared.method, prepared.url, headers=dict(prepared.headers), content=body)


def readdress(request: httpx.Request, source: Target, target: Target) -> httpx.Request | None:
    """The same request, built for `source`, addressed to `target` with its own headers instead of
    `source`'s (preparing it again costs about a millisecond a case); None if the URL is not under
    `source`'s base as prepared (then build it again)."""
    url, base = str(request.url), source.base_url
    if not url.startswith(base) or url[len(base):][:1] not in ("/", "?", ""):
        return None
    theirs = {name.lower() for name in source.headers}
    mine = target.headers
    lowered = {name.lower() for name in mine}
    headers = [(k, v) for k, v in request.headers.multi_items()
               if k.lower() not in theirs and k.lower() not in lowered and k.lower() != "host"]
    return httpx.Request(request.method, target.base_url + url[len(base):], headers=headers + list(mine.items()),
                         content=request.content)


_REQUEST_KEYS = {"method", "url", "headers", "files", "data", "params", "auth", "cookies", "hooks", "json"}
_AUTHORIZATION_TYPES = ("http", "basic", "oauth2", "openidconnect")  # `basic`: Swagger 2.0's own type


@dataclass(frozen=True)
class Credentials:
    """Where an operation's security schemes put credentials: header names (lower case), query and
    cookie names."""

    headers: frozenset[str] = frozenset()
    query: frozenset[str] = frozenset()
    cookies: frozenset[str] = frozenset()


_NONE = Credentials()
_cache: dict[int, tuple[Any, Credentials]] = {}  # id(operation definition) -> (that definition, names)


def credentials_of(operation: Any) -> Credentials:
    """The credential slots the operation's effective `security` names (resolved security schemes)."""
    raw = operation.definition.raw
    hit = _cache.get(id(raw))
    if hit is not None and hit[0] is raw:  # the definition is kept alive, so its id is not reused
        return hit[1]
    if len(_cache) > 4096:
        _cache.clear()
    document = operation.schema.raw_schema
    requirements = raw.get("security", document.get("security")) or []
    names = {name for requirement in requirements if isinstance(requirement, dict) for name in requirement}
    found = _NONE
    if names:
        schemes = operation.schema.security.security_definitions
        found = _slots([schemes[n] for n in sorted(names) if isinstance(schemes.get(n), dict)])
    _cache[id(raw)] = (raw, found)
    return found


def _slots(schemes: list[dict[str, Any]]) -> Credentials:
    slots: dict[str, set[str]] = {"header": set(), "query": set(), "cookie": set()}
    for scheme in schemes:
        kind = str(scheme.get("type", "")).lower()
        if kind in _AUTHORIZATION_TYPES:
            slots["header"].add("authorization")
        elif kind == "apikey" and scheme.get("in") in slots and scheme.get("name"):
            name = str(scheme["name"])
            slots[scheme["in"]].add(name.lower() if scheme["in"] == "header" else name)
    return Credentials(frozenset(slots["header"]), frozenset(slots["query"]), frozenset(slots["cookie"]))


def _drop_credentials(kwargs: dict[str, Any], slots: Credentials) -> None:
    if slots is _NONE:
        return
    if slots.headers and kwargs.get("headers"):
        kwargs["headers"] = {k: v for k, v in kwargs["headers"].items() if k.lower() not in slots.headers}
    if slots.query and isinstance(kwargs.get("params"), dict):
        kwargs["params"] = {k: v for k, v in kwargs["params"].items() if k not in slots.query}
    if slots.cookies and isinstance(kwargs.get("cookies"), dict):
        kwargs["cookies"] = {k: v for k, v in kwargs["cookies"].items() if k not in slots.cookies}


class Exchanger:
    """Sends cases to both targets; owns the small thread pool that keeps three calls in flight."""

    def __init__(self, legacy: Target, gateway: Target) -> None:
        self.legacy, self.gateway = legacy, gateway
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="lockstep-send")

    def run(self, case: Any) -> Exchange:
        method = case.method.upper()
        for target in (self.legacy, self.gateway):
            target.guard(method)
        first = build_request(case, self.legacy)
        via_gateway = readdress(first, self.legacy, self.gateway) or build_request(case, self.gateway)
        again = httpx.Request(first.method, first.url, headers=first.headers, content=first.content)
        return self.send(case.operation.label, first, again, via_gateway)

    def send(self, operation: str, first: httpx.Request, again: httpx.Request, via_gateway: httpx.Request) -> Exchange:
        """The legacy twice and the gateway once: together for safe methods, one after another otherwise."""
        method = first.method.upper()
        if method in CONCURRENT_METHODS:
            futures = [self._pool.submit(self.legacy.send, r) for r in (first, again)]
            gw = self.gateway.send(via_gateway)  # the third call from this thread: no hand-off
            l1, l2 = (f.result() for f in futures)
        else:
            l1, l2, gw = self.legacy.send(first), self.legacy.send(again), self.gateway.send(via_gateway)
        order_dependent = method not in CONCURRENT_METHODS and l1.status != l2.status
        return Exchange(operation, l1, l2, gw, order_dependent)

    def submit(self, fn: Callable[..., Answer], *args: Any) -> Future[Answer]:
        """Run one send on the exchanger's senders (for flows that order their own requests)."""
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
