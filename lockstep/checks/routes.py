"""Route inventory: every operation is routed by the gateway, private paths are not, old paths still are.

Checks, by group (one suite line each):

    inventory  routed    the operation's example request through the gateway is not the gateway's own 404/405
    private    private   a path of the contract's `routes.private` answers 403/404 through the gateway (also
                         its trailing-slash, double-slash, percent-encoded and letter-case variants, and at the
                         gateway host's root), never what the legacy serves there
    aliases    alias     an old path of `routes.aliases` answers like the legacy, as parity judges the new path

Telling the gateway's own 404 from an upstream 404: the same request goes to the legacy. The legacy answers
otherwise and the gateway 404/405: the route is missing. Both answer 404/405 (the example names a resource
that does not exist): the parity comparison decides — the same answer is the upstream's, relayed
(routed); a different one cannot be told apart (a note: give the path parameter an `example` that exists).

Nothing here changes state. A safe operation is probed with its example request and the target's own
credentials. An unsafe one is probed without credentials when it is protected (a routed operation answers
401, an unrouted one 404, and nothing is written), or, when it is public and takes a body, with a body that
is not JSON (a 4xx on both sides). A public unsafe operation without a body is not probed (a note).
The profile's rules apply as everywhere: a method it forbids is not sent (the line is skipped, saying why).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from ..contract import RouteAlias
from ..engine.context import CheckContext
from ..engine.judge import NoDocument
from ..engine.registry import check, flow_policy
from ..exchange import Exchange
from ..findings import Finding
from ..operations import Operation
from ..report.inventory import HIDDEN, MISSING
from ..report.redact import redact
from ..targets import SAFE_METHODS, Answer

__all__ = ["FLOW", "route_verdict", "private_operation", "aliases_for", "alias_url", "private_variants",
           "MISSING", "HIDDEN"]

FLOW = "routes"
flow_policy(FLOW, lambda contract: contract.routes)
NOT_JSON = b"{"


def route_verdict(legacy: int | None, gateway: int | None) -> str:
    """routed | missing | ambiguous (both 404/405: the answers themselves must tell)."""
    if gateway not in MISSING:
        return "routed"
    return "ambiguous" if legacy in MISSING else "missing"


def private_operation(entry: str) -> Operation:
    """`GET /internal/stats` (a contract entry, normalised) as an operation the flow can run on."""
    method, _, path = entry.partition(" ")
    return Operation(method=method, path=path, operation_id=None, tags=("private",), security=None,
                     example_path=path, has_body=False)


def aliases_for(operation: Operation, aliases: Iterable[RouteAlias]) -> list[RouteAlias]:
    """The aliases whose `same_as` prefix holds the operation's path (whole segments)."""
    return [a for a in aliases if _under(operation.path, a.same_as)]


def alias_url(alias: RouteAlias, operation: Operation, gateway_base: str) -> str:
    """The old URL of the operation's example request: the alias's prefix, then the rest of the path."""
    rest = operation.example_path[len(alias.same_as.rstrip("/")):]
    if alias.path.startswith("/"):
        parts = urlsplit(gateway_base)
        return f"{parts.scheme}://{parts.netloc}{alias.path.rstrip('/')}{rest}"
    return alias.path.rstrip("/") + rest


def private_variants(gateway_base: str, path: str) -> list[tuple[str, str]]:
    """(what it probes, URL): the path through the gateway, and the ways a path match is bypassed."""
    first = path.lstrip("/")
    found = [("the path", gateway_base + path), ("trailing slash", gateway_base + path.rstrip("/") + "/"),
             ("double slash", gateway_base + "/" + path), ("letter case", gateway_base + "/" + first[:1].upper() + first[1:])]
    if first[:1].isalnum():
        found.append(("percent-encoded", gateway_base + "/" + "%{:02X}".format(ord(first[0])) + first[1:]))
    parts = urlsplit(gateway_base)
    if parts.path.strip("/"):
        found.append(("the gateway host's root", f"{parts.scheme}://{parts.netloc}{path}"))
    seen: set[str] = set()
    return [(what, url) for what, url in found if not (url in seen or seen.add(url))]


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


# ---------------------------------------------------------------- sending

def _send(ctx: CheckContext, target: str, method: str, url: str, *, credentials: bool = True,
          body: bytes = b"", content_type: str | None = None) -> Answer:
    headers = {"Content-Type": content_type} if content_type else {}
    return ctx.send(target, method, url=url, headers=headers, body=body, credentials=credentials)


def _probe_kind(op: Operation) -> str | None:
    """How to ask whether the operation is routed without changing anything; None: it cannot be."""
    if op.method in SAFE_METHODS:
        return "the example request"
    if op.protected:
        return "without credentials"
    if op.has_body:
        return "a body that is not JSON"
    return None


def _probe(ctx: CheckContext, target: str, url: str, kind: str) -> Answer:
    op = ctx.operation
    if kind == "without credentials":
        return _send(ctx, target, op.method, url, credentials=False)
    if kind == "a body that is not JSON":
        return _send(ctx, target, op.method, url, body=NOT_JSON, content_type="application/json")
    return _send(ctx, target, op.method, url)


def _same_answer(ctx: CheckContext, first: Answer, again: Answer, gateway: Answer) -> bool:
    """The parity comparison, learned noise included: does the gateway's answer equal the legacy's?"""
    verdict = ctx.judge.judge(NoDocument(), Exchange(ctx.operation.label, first, again, gateway), None)
    return verdict.note is None and not verdict.differences


def _trouble(ctx: CheckContext, answers: Iterable[Answer]) -> Finding | None:
    for answer in answers:
        if answer.error:
            return ctx.finding("transport", answer.target, f"{answer.target} did not answer: {answer.error}",
                               answer=answer)
        if answer.rate_limited:
            return ctx.finding("rate-limited", answer.target, f"{answer.target} kept answering {answer.status}; "
                               "not judged", gateway=answer.status, answer=answer, severity="note")
    return None


def _row(ctx: CheckContext, key: str, **values: Any) -> None:
    ctx.figures[key] = values


# ---------------------------------------------------------------- inventory

@check(FLOW, "routed", group="inventory")
def routed(ctx: CheckContext) -> Iterator[Finding]:
    op = ctx.operation
    kind = _probe_kind(op)
    if kind is None:
        _row(ctx, op.label, kind="operation", verdict="not probed")
        yield ctx.finding("not-probed", "route", "a public unsafe operation without a body: asking whether it is "
                          "routed could change state; the parity flow's cases show it", severity="note")
        return
    legacy = _probe(ctx, "legacy", ctx.base_url("legacy") + op.example_path, kind)
    gateway = _probe(ctx, "gateway", ctx.base_url("gateway") + op.example_path, kind)
    trouble = _trouble(ctx, (legacy, gateway))
    verdict = "not judged" if trouble else route_verdict(legacy.status, gateway.status)
    if verdict == "ambiguous":
        again = _probe(ctx, "legacy", ctx.base_url("legacy") + op.example_path, kind)
        verdict = "routed" if _same_answer(ctx, legacy, again, gateway) else "undetermined"
    _row(ctx, op.label, kind="operation", verdict=verdict, probe=kind, legacy=legacy.status, gateway=gateway.status)
    if trouble:
        yield trouble
    elif verdict == "missing":
        yield ctx.finding("route-missing", "status", f"the gateway does not route this operation: its own "
                          f"{gateway.status} where the legacy answers {legacy.status} ({op.method} "
                          f"{op.example_path}, {kind})", legacy=legacy.status, gateway=gateway.status, answer=gateway)
    elif verdict == "undetermined":
        yield ctx.finding("route-undetermined", "status", f"both answer {gateway.status} to {op.method} "
                          f"{op.example_path}, differently: the gateway's own {gateway.status} cannot be told from "
                          "the legacy's; give the path parameters an `example` that exists", legacy=legacy.status,
                          gateway=gateway.status, answer=gateway, severity="note")


# ---------------------------------------------------------------- private paths

@check(FLOW, "private", group="private")
def private(ctx: CheckContext) -> Iterator[Finding]:
    op = ctx.operation
    legacy = _send(ctx, "legacy", op.method, ctx.base_url("legacy") + op.path)
    exposed, statuses = [], {}
    for what, url in private_variants(ctx.base_url("gateway"), op.path):
        answer = _send(ctx, "gateway", op.method, url)
        statuses[what] = answer.status if answer.error is None else answer.error
        if answer.error is None and answer.status not in HIDDEN:
            exposed.append((what, answer))
    serves = legacy.error is None and legacy.status is not None and legacy.status not in HIDDEN + (405, 410)
    _row(ctx, f"{op.label} (private)", kind="private", verdict="exposed" if exposed else "not reachable",
         legacy=legacy.status, gateway=statuses)
    for what, answer in exposed:
        yield ctx.finding("exposed", f"path:{what}", f"the public gateway serves a private path ({what}: "
                          f"{redact(answer.url)} answers {answer.status}); it must answer 403 or 404",
                          legacy=legacy.status, gateway=answer.status, answer=answer)
    if not serves:
        yield ctx.finding("legacy-does-not-serve", "path", f"the legacy answers {legacy.status or legacy.error} "
                          f"to {op.label} itself: check the path in routes.private (nothing to hide?)",
                          legacy=legacy.status or legacy.error, answer=legacy, severity="note")


# ---------------------------------------------------------------- aliases

@check(FLOW, "alias", group="aliases")
def alias(ctx: CheckContext) -> Iterator[Finding]:
    op = ctx.operation
    for entry in aliases_for(op, ctx.policy.aliases if ctx.policy else []):
        yield from _alias(ctx, op, entry)


def _alias(ctx: CheckContext, op: Operation, entry: RouteAlias) -> Iterator[Finding]:
    old = alias_url(entry, op, ctx.base_url("gateway"))
    where = f"alias {entry.path}: "
    key = f"{op.label} via {entry.path}"
    kind = _probe_kind(op)
    if kind is None:
        _row(ctx, key, kind="alias", verdict="not probed")
        return
    if kind != "the example request":  # a write: only whether the old path is routed, with the safe probe
        legacy = _probe(ctx, "legacy", ctx.base_url("legacy") + op.example_path, kind)
        via_old = _probe(ctx, "gateway", old, kind)
        missing = route_verdict(legacy.status, via_old.status) == "missing"
        _row(ctx, key, kind="alias", verdict="missing" if missing else "routed", probe=kind,
             legacy=legacy.status, gateway=via_old.status)
        if missing:
            yield ctx.finding("route-missing", where + "status", f"the old path {redact(old)} is not routed: "
                              f"{via_old.status} where the legacy answers {legacy.status} ({kind})",
                              legacy=legacy.status, gateway=via_old.status, answer=via_old)
        return
    parity = ctx.judge
    here = ctx.base_url("legacy") + op.example_path
    first = _send(ctx, "legacy", op.method, here)
    again = _send(ctx, "legacy", op.method, here)
    via_old = _send(ctx, "gateway", op.method, old)
    ex = Exchange(op.label, first, again, via_old)
    resend = lambda: _send(ctx, "legacy", op.method, here)  # noqa: E731
    verdict = parity.judge(NoDocument(), ex, resend)
    found = parity.findings_of(ex, verdict, flow=FLOW, step=where)
    failing = [f for f in found if f.severity == "failure"]
    _row(ctx, key, kind="alias", verdict="differs" if failing else "like its new path" if not found else
         "not judged", legacy=first.status, gateway=via_old.status)
    for finding in found:
        finding.message = f"{finding.message} — through the old path {redact(old)}"
        finding.reproducers = parity.reproducers(ex)
        yield finding
