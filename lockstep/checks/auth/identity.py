"""Identity headers (catalog B24): a client-sent `X-User-Id` (and friends, in other letter cases, with
underscores, twice, beside the caller's own) never reaches the upstream as the caller's identity.

The legacy trusted its identity header everywhere (authentication moved to the gateway), so a gateway that
strips client-sent identity headers only where it sets them from the token lets anyone act as anyone on
public operations. The check therefore runs on every safe operation, public and protected: the legacy is
asked for two identities (the token's and `auth.other_identity`), and what tells their answers apart (noise
left out) shows whose identity reached the upstream through the gateway. The operations of
`auth.identity_probe` (whose answers echo the caller) get every header variant, with and without a token;
any other operation whose own answer tells the identities apart gets the plain header.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ...engine.context import CheckContext
from ...engine.registry import check
from ...findings import Finding
from ...targets import SAFE_METHODS, Answer
from .material import material
from .sending import plain_headers
from .skips import auth_slice, require

__all__ = ["identity_headers", "features", "resembles_other", "spoofs"]

FLOW = "auth"
_GONE = KeyError  # a JSON pointer the answer does not have: it matches nobody
Spoof = tuple[str, list[tuple[str, str]], bool]  # (name, headers, with the gateway token)


def _pointers(body: bytes) -> dict[str, Any] | None:
    """JSON pointer -> leaf value; lists in a canonical order (an answer "in no particular order" is not an
    identity's mark)."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    flat: dict[str, Any] = {}

    def walk(node: Any, at: str) -> None:
        if isinstance(node, dict) and node:
            for k, v in node.items():
                walk(v, f"{at}/{str(k).replace('~', '~0').replace('/', '~1')}")
        elif isinstance(node, list) and node:
            for i, v in enumerate(sorted(node, key=lambda item: json.dumps(item, sort_keys=True))):
                walk(v, f"{at}/{i}")
        else:
            flat[at] = node
    walk(data, "")
    return flat


def features(mine: Answer, again: Answer, theirs: Answer, theirs_again: Answer) -> list[tuple[str, Any, Any]]:
    """What tells the two identities' answers apart: stable for each identity (noise left out), different
    between them."""
    found: list[tuple[str, Any, Any]] = []
    if mine.status == again.status and theirs.status == theirs_again.status and mine.status != theirs.status:
        found.append(("status", mine.status, theirs.status))
    a, b = _pointers(mine.body), _pointers(again.body)
    o, o2 = _pointers(theirs.body), _pointers(theirs_again.body)
    if a is None or b is None or o is None or o2 is None:
        return found
    for key in sorted(set(a) | set(o)):
        value, other = a.get(key, _GONE), o.get(key, _GONE)
        if value != other and b.get(key, _GONE) == value and o2.get(key, _GONE) == other:
            found.append((key, value, other))
    return found


def resembles_other(answer: Answer, other: Answer, telling: list[tuple[str, Any, Any]]) -> bool:
    """The answer is the other identity's: its status, and more of the telling values are theirs than ours
    (only values both identities have count: a missing key matches nobody)."""
    if answer.status != other.status:
        return False
    body = _pointers(answer.body) or {}
    mine = theirs = 0
    for key, a, o in telling:
        value = answer.status if key == "status" else body.get(key, _GONE)
        if key == "status" or (a is not _GONE and o is not _GONE and value is not _GONE):
            mine += value == a
            theirs += value == o
    return theirs > mine


def spoofs(trusted: str, me: str, other: str, names: list[str], *, full: bool, token: bool,
           public: bool) -> list[Spoof]:
    """The header variants to send: all of them on a probe, the plain header elsewhere; with the token when
    there is one, without one on public operations (and once on protected ones: it must be refused)."""
    shapes = [(trusted, [(trusted, other)])]
    if full:
        shapes += [(f"{trusted.lower()} (lower case)", [(trusted.lower(), other)]),
                   (f"{trusted.upper()} (upper case)", [(trusted.upper(), other)]),
                   (f"{trusted.replace('-', '_')} (underscores)", [(trusted.replace("-", "_"), other)]),
                   (f"{trusted} twice", [(trusted, other), (trusted, other)]),
                   (f"{trusted} after the caller's own", [(trusted, me), (trusted, other)]),
                   (f"{trusted} before the caller's own", [(trusted, other), (trusted, me)])]
        shapes += [(h, [(h, other)]) for h in names if h.lower() != trusted.lower()]
    out: list[Spoof] = [(name, headers, True) for name, headers in shapes] if token else []
    if public:
        out += [(f"{name} without a token", headers, False) for name, headers in shapes]
    elif full:
        out.append((f"{trusted} without a token", [(trusted, other)], False))
    return out


def _identities(ctx: CheckContext) -> tuple[str, str | None, str]:
    """(the header the legacy trusts, the token's identity (or the legacy's own), another identity)."""
    policy = auth_slice(ctx)
    names = {h.lower() for h in policy.auth.identity_headers}
    trusted = next((k for k in policy.legacy_headers if k.lower() in names), policy.auth.identity_headers[0])
    me = material(ctx).subject or policy.legacy_headers.get(trusted)
    return trusted, me, policy.auth.other_identity


@check(FLOW, "identity-headers", group="identity")
def identity_headers(ctx: CheckContext) -> Iterator[Finding]:
    """Client-sent identity headers never reach the upstream as the caller's identity."""
    op = ctx.operation
    if op.method not in SAFE_METHODS:
        return
    if op.protected:
        require(ctx, "token")
    policy = material(ctx).policy
    probe = op.label in policy.identity_probe
    _coverage(ctx)
    trusted, me, other = _identities(ctx)
    if not me or me == other:
        if probe or op.protected:
            yield ctx.finding("identity-probe-inconclusive", "identity", "the gateway token names no subject other "
                              f"than auth.other_identity ({other!r}): identity headers not judged", severity="note")
        return
    mine, again = (ctx.send("legacy", headers={trusted: me}) for _ in range(2))
    theirs, theirs_again = (ctx.send("legacy", headers={trusted: other}) for _ in range(2))
    telling = features(mine, again, theirs, theirs_again)
    if not telling:
        if probe:
            yield ctx.finding("identity-probe-inconclusive", "identity", f"the legacy answers {op.label} alike for "
                              f"{me!r} and {other!r}: this operation cannot show whose identity reached it",
                              severity="note")
        return  # this operation's answer does not tell the identities apart (a probe's does)
    variants = spoofs(trusted, me, other, policy.identity_headers, full=probe,
                      token=material(ctx).token is not None, public=not op.protected)
    trusted_by = [(name, with_token, answer) for name, with_token, answer in _sent(ctx, variants)
                  if answer.ok and (answer.status or 0) < 500 and resembles_other(answer, theirs, telling)]
    if trusted_by:
        yield _trusted(ctx, trusted_by, telling, me, other)


def _sent(ctx: CheckContext, variants: list[Spoof]) -> Iterator[tuple[str, bool, Answer]]:
    for name, headers, with_token in variants:
        if with_token:
            yield name, True, ctx.send("gateway", headers=headers)
        else:
            yield name, False, ctx.send("gateway", headers=plain_headers(ctx) + headers, credentials=False)


def _trusted(ctx: CheckContext, trusted_by: list[tuple[str, bool, Answer]], telling: list[tuple[str, Any, Any]],
             me: str, other: str) -> Finding:
    first, with_token, answer = trusted_by[0]
    names = ", ".join(name for name, _, _ in trusted_by)
    shown = ", ".join(f"{k} {'status' if k == 'status' else ''}".strip() for k, _, _ in telling[:5])
    caller = f"with the token of {me!r}" if with_token else "without a token"
    return ctx.finding("identity-header-trusted", f"variant {first}",
                       f"{caller} plus a client-sent identity header naming {other!r}, the gateway answers what "
                       f"the legacy answers {other!r} (compared on {shown}): the header reached the upstream as "
                       f"trusted. Variants: {names}", legacy=f"answer for {me!r}", gateway=f"answer for {other!r}",
                       answer=answer)


def _coverage(ctx: CheckContext) -> None:
    """Which operation classes the identity probes cover (figures, once per run): a class without a probe is
    judged only where an operation's own answer depends on the caller."""
    if "identity coverage" in ctx.cache:
        return
    probes = material(ctx).policy.identity_probe
    by_label = {o.label: o for o in ctx.operations}
    classes = {("protected" if o.protected else "public") for o in ctx.operations if o.method in SAFE_METHODS}
    covered = {("protected" if by_label[p].protected else "public") for p in probes if p in by_label}
    ctx.cache["identity coverage"] = True
    ctx.figures["identity probes"] = {p: ("protected" if by_label[p].protected else "public") if p in by_label
                                      else "not in the document" for p in probes}
    if classes - covered:
        ctx.figures["identity classes without a probe"] = sorted(classes - covered)
