"""CORS: per operation, a browser on an allowed origin can call it, and no other origin can.

The declared policy (the contract's `cors:`, resolved per operation by `policy_for`) is the truth, not
the legacy: a legacy that reflects any origin would make a wide-open gateway look "like legacy". The
legacy is asked only where the catalog says "like legacy" (plain OPTIONS, Vary tokens) or where the
policy says `as_legacy` (then the grants, never the origins, come from its answers).

Preflights carry no credentials (a browser's do not); actual requests carry the target's own. Every
request goes to the gateway through `ctx.send`, so the profile's safety guard applies: a check that would
send a non-safe method in a read-only profile is skipped. Checks, by group (one suite line each), with
the catalog case (../shared/reference/cors-auth-catalog.md):

    preflight      preflight-status (C01, C15), preflight-allow-origin (C01), preflight-allow-credentials
                   (C01, C06), preflight-allowed-methods (C01, C14), preflight-allowed-headers (C01),
                   preflight-max-age (C11), as-legacy-baseline
    redirect       preflight-no-redirect (C15)
    origins        disallowed-origins (C02, C05)
    grants         ungranted-method, ungranted-header (C03)
    safety         no-wildcard-with-credentials (C06), single-allow-origin (C07)
    vary           vary-origin, vary-keeps-legacy (C08)
    actual         actual-allow-origin (C13, C09), exposed-headers (C10)
    errors         error-401, error-404, error-405 (C12)
    rate-limit     error-429 (C12; one cheap safe operation, never in the smoke profile)
    plain-options  plain-options (C04)

Each check yields at most one finding per location; the problem another check owns (a wildcard with
credentials, several Access-Control-Allow-Origin values, a failed preflight) is left to that check.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from ..contract import CorsPolicy
from ..errors import UnsafeRequestError
from ..findings import Finding
from ..operations import Operation, operations_of
from ..targets import SAFE_METHODS, Answer
from .registry import FlowContext, check

__all__ = ["Policy", "policy_for", "unused_overrides", "rate_limit_operation", "fuzz_origins", "FLOW"]

FLOW = "cors"
ACAO, ACAC = "header:access-control-allow-origin", "header:access-control-allow-credentials"
ACAM, ACAH = "header:access-control-allow-methods", "header:access-control-allow-headers"
ACEH, ACMA = "header:access-control-expose-headers", "header:access-control-max-age"
VARY, ALLOW, STATUS = "header:vary", "header:allow", "status"
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})  # browsers allow these without ACAM
PROBE_HEADER = "X-Lockstep-Unlisted-Probe"  # a header no policy lists: granting it means echoing
DISALLOWED = "https://evil.example"
BURST_LIMIT, BURST_WAVE = 150, 25  # the 429 case: at most this many requests, this many at a time
_EXTRA_METHODS = ("DELETE", "PUT", "PATCH", "POST")


# ---------------------------------------------------------------- the policy of one operation

@dataclass(frozen=True)
class Policy:
    origins: tuple[str, ...]
    credentials: bool
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    max_age: int | None
    as_legacy: bool = False
    enabled: bool = True

    @property
    def wildcard(self) -> bool:
        return "*" in self.origins

    @property
    def allowed(self) -> tuple[str, ...]:
        """The origins a browser may call from (a stand-in for `*`); none if CORS is off here."""
        if not self.enabled:
            return ()
        return tuple(o for o in self.origins if o != "*") or ("https://lockstep-any-origin.example",)


def _selects(override: Any, op: Operation) -> bool:
    return ((override.path is None or fnmatch.fnmatchcase(op.path, override.path))
            and (override.method is None or override.method == op.method)
            and (override.tag is None or override.tag in op.tags))


def policy_for(cors: CorsPolicy, op: Operation) -> Policy:
    """The policy with every matching override applied in order (later ones win)."""
    keys = ("origins", "credentials", "headers", "expose", "max_age", "as_legacy", "enabled")
    values: dict[str, Any] = {k: getattr(cors, k, True) for k in keys}
    for override in cors.overrides:
        if _selects(override, op):
            values.update({k: getattr(override, k) for k in keys if getattr(override, k) is not None})
    return Policy(tuple(values["origins"]), values["credentials"], tuple(values["headers"]),
                  tuple(values["expose"]), values["max_age"], values["as_legacy"], values["enabled"])


def unused_overrides(cors: CorsPolicy, operations: Iterable[Operation]) -> list[str]:
    """Overrides that select no operation (a typo in a glob silently changes nothing otherwise)."""
    ops = list(operations)
    return [f"cors.overrides[{i}] ({_selector_text(o)})" for i, o in enumerate(cors.overrides)
            if not any(_selects(o, op) for op in ops)]


def _selector_text(override: Any) -> str:
    return ", ".join(f"{k}: {getattr(override, k)}" for k in ("path", "method", "tag") if getattr(override, k))


def rate_limit_operation(operations: Iterable[Operation]) -> Operation | None:
    """The one cheap safe operation the 429 burst may go to: a public GET without path parameters."""
    candidates = [o for o in operations if o.method == "GET" and not o.protected and "{" not in o.path]
    candidates.sort(key=lambda o: ("health" not in o.path and "health" not in o.tags, len(o.path)))
    return candidates[0] if candidates else None


def fuzz_origins(policy: Policy) -> list[tuple[str, str]]:
    """(origin, what it probes) a strict allowlist refuses: catalog C02 and C05, none of them allowed."""
    found = [(DISALLOWED, "another site"), ("null", "null (sandboxed frame, file)")]
    for allowed in (o for o in policy.origins if o != "*"):
        scheme, _, rest = allowed.partition("://")
        host, _, port = rest.partition(":")
        found += [(f"{scheme}://{host}.evil.com", "prefix match"),
                  (f"{scheme}://evil{host}", "suffix match"),
                  (f"{scheme}://evil.{host}", "any subdomain"),
                  (f"{scheme}://{host[:-1]}", "substring"),
                  (f"{scheme}://{host}_.evil.com", "special character"),
                  (f"{scheme}://{host}`.evil.com", "special character"),
                  (f"{scheme}://{host}}}.evil.com", "special character"),
                  (f"{scheme}://{host}:{int(port) + 1 if port else 8443}", "another port")]
        if "." in host:
            found.append((f"{scheme}://{host.replace('.', 'x', 1)}", "unescaped dot"))
        if scheme == "https":
            found.append((f"http://{rest}", "http for https"))
    seen: set[str] = set()
    return [(o, why) for o, why in found if o not in policy.origins and not (o in seen or seen.add(o))]


# ---------------------------------------------------------------- plumbing shared by the checks

def _policy_of(ctx: FlowContext, offered: bool) -> Policy | None:
    cors = ctx.session.settings.contract.cors
    if cors is None:
        return None
    policy = policy_for(cors, ctx.operation)
    return None if offered and not policy.enabled else policy


def cors_check(name: str, group: str, *, offered: bool = True) -> Callable:
    """Register `func(ctx, policy)`; no policy (or CORS off here, when `offered`): nothing to judge.
    At most one finding per location."""
    def register(func: Callable[[FlowContext, Policy], Iterable[Finding]]) -> Callable:
        @functools.wraps(func)
        def run(ctx: FlowContext) -> list[Finding]:
            policy = _policy_of(ctx, offered)
            if policy is None:
                return []
            seen: set[str] = set()
            return [f for f in func(ctx, policy) if not (f.location in seen or seen.add(f.location))]

        check(FLOW, name, group=group)(run)
        return func

    return register


def _finding(ctx: FlowContext, location: str, message: str, answer: Answer | None, *,
             gateway: Any = None, legacy: Any = None, severity: str = "failure") -> Finding:
    if gateway is None and answer is not None:
        gateway = _at(answer, location)
    return ctx.finding(ctx.check_name, location, message, legacy=legacy, gateway=gateway, answer=answer,
                       severity=severity)


def _at(answer: Answer, location: str) -> Any:
    if location == STATUS:
        return answer.status if answer.ok else answer.error
    if location.startswith("header:"):
        found = answer.headers.get_list(location[7:])
        return ", ".join(found) if found else None
    return None


def _tokens(answer: Answer, name: str) -> list[str]:
    return [t.strip() for value in answer.headers.get_list(name) for t in value.split(",") if t.strip()]


def _where(ctx: FlowContext, path: str | None = None) -> str:
    """The path as the browser's page calls it: the gateway's prefix + the template (or `path`)."""
    return urlsplit(ctx.gateway.base_url).path.rstrip("/") + (path or ctx.operation.path)


def _shown(ctx: FlowContext, method: str | None = None, path: str | None = None) -> str:
    return f"{method or ctx.operation.method} {_where(ctx, path)}"


def _cannot(ctx: FlowContext, origin: str, method: str | None = None) -> str:
    return f"a browser at {origin} cannot {_shown(ctx, method)}"


def _is_2xx(answer: Answer) -> bool:
    return answer.ok and 200 <= (answer.status or 0) < 300


def preflight(ctx: FlowContext, origin: str, *, method: str | None = None, headers: Iterable[str] = (),
              path: str | None = None, target: Any = None) -> Answer:
    """A browser's preflight: no credentials, the request headers lower-cased, sorted, comma-joined."""
    asked = [("Origin", origin), ("Access-Control-Request-Method", method or ctx.operation.method)]
    names = sorted({h.lower() for h in headers})
    if names:
        asked.append(("Access-Control-Request-Headers", ",".join(names)))
    return _send(ctx, target or ctx.gateway, "OPTIONS", path, asked, b"", False)


def actual(ctx: FlowContext, origin: str | None, *, method: str | None = None, path: str | None = None,
           credentials: bool = True, target: Any = None, headers: dict[str, str] | None = None,
           body: bytes = b"") -> Answer:
    """The request a page's script makes (with the user's credentials unless told otherwise)."""
    sent = dict(headers or {})
    if origin is not None:
        sent["Origin"] = origin
    return _send(ctx, target or ctx.gateway, method or ctx.operation.method, path, list(sent.items()), body,
                 credentials)


_MEMO: dict[str, Any] = {"owner": None, "answers": {}}


def _send(ctx: FlowContext, target: Any, method: str, path: str | None, headers: list[tuple[str, str]],
          body: bytes, credentials: bool) -> Answer:
    """ctx.send, except that an identical safe request for the same operation (several checks of one
    checklist line ask the same preflight) is sent once: the answers of the last operation are kept."""
    if method not in SAFE_METHODS:
        return ctx.send(target, method, path=path, headers=headers, body=body, credentials=credentials)
    owner = (ctx.session, ctx.operation.label)
    if _MEMO["owner"] is None or _MEMO["owner"][0] is not owner[0] or _MEMO["owner"][1] != owner[1]:
        _MEMO["owner"], _MEMO["answers"] = owner, {}
    key = (target.name, target.base_url, method, path, tuple(headers), body, credentials)
    answer = _MEMO["answers"].get(key)
    if answer is None:
        answer = _MEMO["answers"][key] = ctx.send(target, method, path=path, headers=headers, body=body,
                                                  credentials=credentials)
    else:
        ctx.answers.append(answer)
    return answer


def _safe(ctx: FlowContext) -> bool:
    return ctx.operation.method in SAFE_METHODS


def _read_problems(answer: Answer, origin: str, credentials: bool) -> dict[str, str]:
    """Why a browser at `origin` may not read `answer` (location -> reason); what others own is left out."""
    acao = answer.headers.get_list("access-control-allow-origin")
    acac = answer.headers.get_list("access-control-allow-credentials")
    if len(acao) > 1 or any("," in v for v in acao):
        return {}  # single-allow-origin
    if not acao:
        return {ACAO: "there is no Access-Control-Allow-Origin"}
    if acao[0] == "*" and credentials:
        if acac == ["true"]:
            return {}  # no-wildcard-with-credentials
        return {ACAO: "Access-Control-Allow-Origin is '*', which browsers refuse for a request with credentials"}
    if acao[0] not in (origin, "*"):
        return {ACAO: f"Access-Control-Allow-Origin is {acao[0]!r}, not its origin"}
    if credentials and acac != ["true"]:
        got = f"is {', '.join(acac)!r}, not exactly 'true'" if acac else "is missing"
        return {ACAC: f"Access-Control-Allow-Credentials {got}, so the answer to a request with credentials "
                      f"is refused"}
    return {}


def _grants_header(answer: Answer, name: str, credentials: bool) -> bool:
    listed = {t.lower() for t in _tokens(answer, "access-control-allow-headers")}
    return name.lower() in listed or ("*" in listed and not credentials and name.lower() != "authorization")


def _lists(values: list[str]) -> str:
    return ", ".join(values[:-1]) + f" and {values[-1]}" if len(values) > 1 else values[0]


@functools.lru_cache(maxsize=8)
def _document_operations(spec_path: str) -> tuple[Operation, ...]:
    with open(spec_path, encoding="utf-8") as handle:
        return tuple(operations_of(yaml.safe_load(handle)))


def _path_methods(ctx: FlowContext) -> set[str]:
    """The methods the document offers on this operation's path (plus HEAD with GET, and OPTIONS)."""
    ops = _document_operations(str(ctx.session.settings.contract.spec_path))
    methods = {o.method for o in ops if o.path == ctx.operation.path} | {ctx.operation.method, "OPTIONS"}
    return methods | ({"HEAD"} if "GET" in methods else set())


# ---------------------------------------------------------------- what to expect (policy or legacy)

@dataclass(frozen=True)
class Expect:
    credentials: bool
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    max_age: int | None
    source: str  # "the policy" | "the legacy"


def _expect(ctx: FlowContext, policy: Policy, origin: str, legacy: Answer | None = None) -> Expect:
    """The declared grants, or with `as_legacy` the legacy's grants to the same request (if it answers
    CORS to this origin at all; as-legacy-baseline reports when it does not)."""
    declared = Expect(policy.credentials, policy.headers, policy.expose, policy.max_age, "the policy")
    if not policy.as_legacy:
        return declared
    legacy = legacy or preflight(ctx, origin, headers=policy.headers, target=ctx.legacy)
    if not legacy.ok or origin not in legacy.headers.get_list("access-control-allow-origin"):
        return declared
    age = legacy.headers.get("access-control-max-age")
    return Expect(legacy.headers.get("access-control-allow-credentials") == "true",
                  tuple(h for h in policy.headers if _grants_header(legacy, h, policy.credentials)),
                  tuple(_tokens(legacy, "access-control-expose-headers")),
                  int(age) if age and age.isdigit() else None, "the legacy")


def _granted_preflights(ctx: FlowContext, policy: Policy) -> Iterator[tuple[str, Answer]]:
    """Each allowed origin's preflight, where it was answered 2xx (preflight-status owns the rest)."""
    for origin in policy.allowed:
        answer = preflight(ctx, origin, headers=policy.headers)
        if _is_2xx(answer):
            yield origin, answer


# ---------------------------------------------------------------- preflight (C01, C11, C14, C15)

def _status_problem(answer: Answer) -> str | None:
    if not answer.ok:
        return f"the preflight got no answer ({answer.error})"
    status = answer.status or 0
    if 300 <= status < 400:
        return (f"the preflight is redirected ({status} to {answer.headers.get('location', '?')}); "
                f"browsers fail a redirected preflight")
    if status in (401, 403):
        return (f"the preflight is refused with {status}: browsers send no credentials on a preflight, so it "
                f"must be answered before authentication")
    if status in (404, 405):
        return f"the preflight is answered {status}: OPTIONS is not routed"
    return None if 200 <= status < 300 else f"the preflight is answered {status}, not 2xx"


@cors_check("preflight-status", "preflight")
def preflight_status(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    for origin in policy.allowed:
        answer = preflight(ctx, origin, headers=policy.headers)
        problem = _status_problem(answer)
        if problem:
            yield _finding(ctx, STATUS, f"{_cannot(ctx, origin)}: {problem}", answer)


@cors_check("preflight-allow-origin", "preflight")
def preflight_allow_origin(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in _granted_preflights(ctx, policy):
        problem = _read_problems(answer, origin, policy.credentials).get(ACAO)
        if problem:
            yield _finding(ctx, ACAO, f"{_cannot(ctx, origin)}: {problem}", answer)


@cors_check("preflight-allow-credentials", "preflight")
def preflight_allow_credentials(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in _granted_preflights(ctx, policy):
        expect = _expect(ctx, policy, origin)
        got = answer.headers.get_list("access-control-allow-credentials")
        problem = _read_problems(answer, origin, True).get(ACAC)
        if expect.credentials and problem:
            yield _finding(ctx, ACAC, f"{_cannot(ctx, origin)} with credentials: {problem}", answer)
        elif not expect.credentials and got:
            yield _finding(ctx, ACAC, f"a browser at {origin} may send the user's credentials to "
                           f"{_shown(ctx)}: Access-Control-Allow-Credentials is {', '.join(got)!r}, but "
                           f"{expect.source} shares no credentials", answer)


@cors_check("preflight-allowed-methods", "preflight")
def preflight_allowed_methods(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    method = ctx.operation.method
    for origin, answer in _granted_preflights(ctx, policy):
        listed = _tokens(answer, "access-control-allow-methods")
        if method in listed or ("*" in listed and not policy.credentials):
            continue
        other_case = [m for m in listed if m.upper() == method]
        if other_case and method not in SAFELISTED_METHODS:
            reason = (f"Access-Control-Allow-Methods lists it as {other_case[0]!r}, and browsers compare "
                      f"{method} case-sensitively")
        else:
            reason = f"{method} is not in Access-Control-Allow-Methods"
        if method in SAFELISTED_METHODS:  # browsers allow GET, HEAD and POST without it
            yield _finding(ctx, ACAM, f"the preflight of {_shown(ctx)} from {origin}: {reason} (browsers allow "
                           f"{method} anyway)", answer, severity="note")
        else:
            yield _finding(ctx, ACAM, f"{_cannot(ctx, origin)}: {reason}", answer)


@cors_check("preflight-allowed-headers", "preflight")
def preflight_allowed_headers(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in _granted_preflights(ctx, policy):
        expect = _expect(ctx, policy, origin)
        missing = [h for h in expect.headers if not _grants_header(answer, h, policy.credentials)]
        if not missing:
            continue
        verb = "is" if len(missing) == 1 else "are"
        star = " ('*' never covers Authorization)" if "*" in _tokens(answer, "access-control-allow-headers") \
            and any(h.lower() == "authorization" for h in missing) else ""
        yield _finding(ctx, ACAH, f"{_cannot(ctx, origin)}: {_lists(missing)} {verb} not in "
                       f"Access-Control-Allow-Headers{star}", answer)


@cors_check("preflight-max-age", "preflight")
def preflight_max_age(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in _granted_preflights(ctx, policy):
        expect = _expect(ctx, policy, origin)
        expected, got = expect.max_age, answer.headers.get("access-control-max-age")
        if expected is None or got == str(expected):
            continue
        if got is None:
            reason = (f"there is no Access-Control-Max-Age ({expected} s in {expect.source}), so browsers cache "
                      f"the preflight for 5 s and send one before almost every call")
        else:
            reason = f"Access-Control-Max-Age is {got!r}, {expected} s in {expect.source}"
        yield _finding(ctx, ACMA, f"a browser at {origin} preflights {_shown(ctx)} too often: {reason}", answer)


@cors_check("as-legacy-baseline", "preflight")
def as_legacy_baseline(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    if not policy.as_legacy:
        return
    for origin in policy.allowed:
        legacy = preflight(ctx, origin, headers=policy.headers, target=ctx.legacy)
        if not legacy.ok or origin not in legacy.headers.get_list("access-control-allow-origin"):
            yield _finding(ctx, "legacy:" + ACAO, f"the policy says `as_legacy`, but the legacy answers no CORS "
                           f"to {origin}'s preflight: the gateway was judged against the declared policy",
                           legacy, legacy=_at(legacy, ACAO), severity="note")


# ---------------------------------------------------------------- no redirect (C15)

def _variants(path: str) -> list[str]:
    found = [path.rstrip("/") + "/" if not path.endswith("/") else path.rstrip("/") or "/"]
    if path.upper() != path:
        found.append(path.upper())
    return found


@cors_check("preflight-no-redirect", "redirect")
def preflight_no_redirect(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    origin = policy.allowed[0]
    for variant in _variants(ctx.operation.example_path):
        answer = preflight(ctx, origin, headers=policy.headers, path=variant)
        if answer.ok and 300 <= (answer.status or 0) < 400:
            yield _finding(ctx, STATUS, f"a browser at {origin} cannot {_shown(ctx, path=variant)}: the "
                           f"preflight is redirected ({answer.status} to {answer.headers.get('location', '?')}), "
                           f"and browsers fail a redirected preflight", answer)


# ---------------------------------------------------------------- other origins (C02, C05)

def _origin_probes(ctx: FlowContext, policy: Policy, origin: str) -> Iterator[Answer]:
    yield preflight(ctx, origin, headers=policy.headers)
    if _safe(ctx):  # the credentialed request a hostile page's script would make
        yield actual(ctx, origin)


def _grants(answer: Answer, origin: str, policy: Policy) -> bool:
    acao = answer.headers.get_list("access-control-allow-origin")
    if acao == ["*"]:  # with credentials: no-wildcard-with-credentials; else only if the policy says `*`
        return answer.headers.get("access-control-allow-credentials") != "true" and not policy.wildcard
    return origin in [t.strip() for v in acao for t in v.split(",")]


@cors_check("disallowed-origins", "origins", offered=False)
def disallowed_origins(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    candidates = fuzz_origins(policy) + [(o, "allowed elsewhere, not here") for o in policy.origins
                                         if not policy.enabled and o != "*"]
    granted: list[tuple[str, str, Answer]] = []
    for origin, why in candidates:
        for answer in _origin_probes(ctx, policy, origin):
            if answer.ok and (answer.status or 0) >= 500:
                yield _finding(ctx, STATUS, f"the gateway fails with {answer.status} on a request to "
                               f"{_shown(ctx)} from {origin}", answer)
            if _grants(answer, origin, policy):
                granted.append((origin, why, answer))
                break
    if granted:
        answer = granted[0][2]
        how = "with the user's credentials" if answer.headers.get("access-control-allow-credentials") == "true" \
            else "and read the answer"
        shown = "; ".join(f"{o} ({why})" for o, why, _ in granted)
        yield _finding(ctx, ACAO, f"a page at {granted[0][0]} can call {_shown(ctx)} {how}: "
                       f"Access-Control-Allow-Origin grants {len(granted)} origin(s) outside the policy: {shown}",
                       answer, gateway=[o for o, _, _ in granted])


# ---------------------------------------------------------------- only what is declared (C03)

@cors_check("ungranted-method", "grants")
def ungranted_method(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    offered = _path_methods(ctx)
    probe = next((m for m in _EXTRA_METHODS if m not in offered), None)
    if probe is None:
        return
    origin = policy.allowed[0]
    answer = preflight(ctx, origin, method=probe, headers=policy.headers)
    listed = _tokens(answer, "access-control-allow-methods")
    if _is_2xx(answer) and (probe in listed or ("*" in listed and not policy.credentials)):
        yield _finding(ctx, ACAM, f"a browser at {origin} may send {probe} to {_where(ctx)}, "
                       f"which offers only {', '.join(sorted(offered))}: Access-Control-Allow-Methods grants the "
                       f"method the preflight asked for", answer)


@cors_check("ungranted-header", "grants")
def ungranted_header(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    origin = policy.allowed[0]
    answer = preflight(ctx, origin, headers=[*policy.headers, PROBE_HEADER])
    if _is_2xx(answer) and _grants_header(answer, PROBE_HEADER, policy.credentials):
        yield _finding(ctx, ACAH, f"a browser at {origin} may send {PROBE_HEADER} to {_shown(ctx)}, a header the "
                       f"policy does not list: Access-Control-Allow-Headers grants what the preflight asked for",
                       answer)


# ---------------------------------------------------------------- safety (C06, C07)

def _safety_answers(ctx: FlowContext, policy: Policy) -> Iterator[tuple[str | None, Answer]]:
    """Preflights and (safe operations) actual requests from an allowed origin, another site, and none."""
    origins: list[str | None] = [*policy.allowed[:1], DISALLOWED]
    for origin in origins:
        yield origin, preflight(ctx, str(origin), headers=policy.headers)
    if _safe(ctx):
        for origin in [*origins, None]:
            yield origin, actual(ctx, origin)


@cors_check("no-wildcard-with-credentials", "safety", offered=False)
def no_wildcard_with_credentials(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in _safety_answers(ctx, policy):
        acao = answer.headers.get_list("access-control-allow-origin")
        if "*" in acao and answer.headers.get("access-control-allow-credentials") == "true":
            who = f"a browser at {origin}" if origin else "a browser"
            yield _finding(ctx, ACAO, f"{who} cannot call {_shown(ctx)} with credentials: Access-Control-Allow-Origin "
                           f"is '*' while Access-Control-Allow-Credentials is 'true'; browsers refuse the wildcard "
                           f"with credentials, and the policy allows only {', '.join(policy.origins)}", answer)


@cors_check("single-allow-origin", "safety", offered=False)
def single_allow_origin(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    for origin, answer in _safety_answers(ctx, policy):
        acao = answer.headers.get_list("access-control-allow-origin")
        if len(acao) > 1 or any("," in v for v in acao):
            who = f"a browser at {origin}" if origin else "a browser"
            yield _finding(ctx, ACAO, f"{who} cannot {_shown(ctx)}: Access-Control-Allow-Origin holds "
                           f"{', '.join(acao)!r}, and browsers accept exactly one value (is it added twice, by the "
                           f"gateway and by the upstream?)", answer)


# ---------------------------------------------------------------- caches (C08)

def _origin_specific(answer: Answer) -> bool:
    acao = answer.headers.get_list("access-control-allow-origin")
    return bool(acao) and acao != ["*"]


def _varies_by_origin(answer: Answer) -> bool:
    tokens = {t.lower() for t in _tokens(answer, "vary")}
    return "origin" in tokens or "*" in tokens


@cors_check("vary-origin", "vary")
def vary_origin(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    origin = policy.allowed[0]
    answers = [("the preflight", preflight(ctx, origin, headers=policy.headers)),
               ("the gateway's 404", actual(ctx, origin, method="GET", path=_unknown_path(ctx)))]
    if _safe(ctx):
        answers.append(("the answer", actual(ctx, origin)))
        if not policy.wildcard:  # a cached answer without CORS headers must not reach a browser either
            answers.append(("the answer to a request without Origin", actual(ctx, None)))
    for what, answer in answers:
        if not answer.ok or _varies_by_origin(answer):
            continue
        if what.endswith("without Origin"):
            yield _finding(ctx, VARY, f"a shared cache may give a browser at {origin} the answer to {_shown(ctx)} "
                           f"it kept for a request without Origin (no CORS headers): Vary does not name Origin",
                           answer)
        elif _origin_specific(answer):
            yield _finding(ctx, VARY, f"a shared cache may give a browser at another origin {what} of "
                           f"{_shown(ctx)} it kept for {origin}: Vary does not name Origin", answer)


@cors_check("vary-keeps-legacy", "vary")
def vary_keeps_legacy(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    if not _safe(ctx):
        return
    origin = policy.allowed[0]
    legacy, gateway = actual(ctx, origin, target=ctx.legacy), actual(ctx, origin)
    if not (legacy.ok and gateway.ok) or legacy.status != gateway.status:
        return  # e.g. rate limited: another answer, other headers
    kept = {t.lower() for t in _tokens(gateway, "vary")}
    lost = [t for t in _tokens(legacy, "vary") if t.lower() not in kept and "*" not in kept]
    if lost:
        yield _finding(ctx, VARY, f"a shared cache may mix answers to {_shown(ctx)}: the gateway's Vary drops "
                       f"{', '.join(lost)}, which the legacy sent", gateway, legacy=_at(legacy, VARY))


# ---------------------------------------------------------------- actual answers (C09, C10, C13)

def _actual_request(ctx: FlowContext, origin: str | None) -> Answer:
    """Safe methods as they are; a POST with a body as a simple (not preflighted) text/plain request,
    which a JSON API refuses without effect. Anything else changes state: not sent."""
    if _safe(ctx):
        return actual(ctx, origin)
    if ctx.operation.method == "POST" and ctx.operation.has_body:
        return actual(ctx, origin, headers={"Content-Type": "text/plain"}, body=b"lockstep CORS probe")
    raise UnsafeRequestError(f"no actual {ctx.operation.method} is sent: it would change state (its 401 and "
                             f"405 are judged with the errors)")


@cors_check("actual-allow-origin", "actual")
def actual_allow_origin(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    for origin in policy.allowed:
        answer = _actual_request(ctx, origin)
        for location, problem in _read_problems(answer, origin, policy.credentials).items():
            yield _finding(ctx, location, f"a script at {origin} cannot read the {answer.status} answer to "
                           f"{_shown(ctx)}: {problem}", answer)
    if policy.wildcard and policy.enabled:  # C09: a static `*` does not depend on Origin
        answer = _actual_request(ctx, None)
        if answer.headers.get("access-control-allow-origin") != "*":
            yield _finding(ctx, ACAO + "#without-origin", f"the answer to {_shown(ctx)} without an Origin header "
                           f"lacks the declared static 'Access-Control-Allow-Origin: *'", answer,
                           gateway=_at(answer, ACAO))


@cors_check("exposed-headers", "actual")
def exposed_headers(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    origin = policy.allowed[0]
    answer = _actual_request(ctx, origin)
    legacy = _actual_legacy(ctx, policy, origin)
    expect = _expect(ctx, policy, origin, legacy)
    missing = _unexposed(answer, expect.expose, policy.credentials)
    if missing and not _read_problems(answer, origin, policy.credentials):
        yield _finding(ctx, ACEH, f"a script at {origin} cannot read {_lists(missing)} of the answer to "
                       f"{_shown(ctx)}: not in Access-Control-Expose-Headers", answer)


def _actual_legacy(ctx: FlowContext, policy: Policy, origin: str) -> Answer | None:
    return actual(ctx, origin, target=ctx.legacy) if policy.as_legacy and _safe(ctx) else None


def _unexposed(answer: Answer, expose: Iterable[str], credentials: bool) -> list[str]:
    listed = {t.lower() for t in _tokens(answer, "access-control-expose-headers")}
    if "*" in listed and not credentials:
        return []
    return [h for h in expose if h.lower() not in listed]


# ---------------------------------------------------------------- the gateway's own errors (C12)

def _error_findings(ctx: FlowContext, policy: Policy, origin: str, answer: Answer, what: str,
                    readable: Iterable[str] = ()) -> Iterator[Finding]:
    """A browser must see the error itself, not "CORS error": ACAO (+ credentials) and the headers its
    script reads (WWW-Authenticate on a 401, Retry-After on a 429) when the policy exposes them."""
    if not answer.ok or (answer.status or 0) < 400:
        return  # not an error answer: the actual-request checks judge it
    shown = f"a browser at {origin} sees a CORS error instead of the {answer.status} ({what}) of {_shown(ctx)}"
    problems = _read_problems(answer, origin, policy.credentials)
    for location, problem in problems.items():
        yield _finding(ctx, location, f"{shown}: {problem} on it", answer)
    wanted = [h for h in readable if h.lower() in {e.lower() for e in policy.expose}]
    missing = _unexposed(answer, wanted, policy.credentials)
    if missing and not problems:
        yield _finding(ctx, ACEH, f"a script at {origin} cannot read {_lists(missing)} of the {answer.status} "
                       f"({what}) of {_shown(ctx)}: not in Access-Control-Expose-Headers", answer)


def _unknown_path(ctx: FlowContext) -> str:
    return ctx.operation.example_path.rstrip("/") + "/lockstep-no-such-route"


@cors_check("error-401", "errors")
def error_401(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    if not ctx.operation.protected:
        return
    origin = policy.allowed[0]
    answer = actual(ctx, origin, credentials=False)
    yield from _error_findings(ctx, policy, origin, answer, "no token", ["WWW-Authenticate"])


@cors_check("error-404", "errors")
def error_404(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    origin = policy.allowed[0]
    answer = actual(ctx, origin, method="GET", path=_unknown_path(ctx))
    yield from _error_findings(ctx, policy, origin, answer, "unknown path")


@cors_check("error-405", "errors")
def error_405(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    offered = _path_methods(ctx)
    method = next((m for m in ("GET", *_EXTRA_METHODS) if m not in offered), None)
    if method is None:
        return
    origin = policy.allowed[0]
    answer = actual(ctx, origin, method=method)  # refused by routing: never reaches a handler
    yield from _error_findings(ctx, policy, origin, answer, f"{method} not allowed", ["Allow"])


@cors_check("error-429", "rate-limit")
def error_429(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    if ctx.session.settings.profile_name == "smoke" or not _safe(ctx):
        raise UnsafeRequestError(f"the rate-limit burst ({BURST_LIMIT} requests) runs only on a safe operation "
                                 f"and never in the smoke profile (profile: {ctx.session.settings.profile_name})")
    chosen = rate_limit_operation(_document_operations(str(ctx.session.settings.contract.spec_path)))
    if chosen is None or chosen.label != ctx.operation.label:
        raise UnsafeRequestError(f"the rate-limit burst goes to one cheap public GET only ({chosen or 'none here'})")
    origin = policy.allowed[0]
    answer, sent = _burst(ctx, origin)
    if answer is None:
        yield _finding(ctx, STATUS, f"no 429 after a burst of {sent} requests to {_shown(ctx)}: the CORS headers "
                       f"of the gateway's rate-limit answer were not judged", None, severity="note")
        return
    yield from _error_findings(ctx, policy, origin, answer, "rate limited", ["Retry-After"])


def _burst(ctx: FlowContext, origin: str) -> tuple[Answer | None, int]:
    """At most BURST_LIMIT requests, BURST_WAVE at a time, until one is answered 429 (no waiting and
    resending on 429 here: that answer is the point)."""
    target, op = ctx.gateway, ctx.operation
    target.guard(op.method)
    url = target.base_url + op.example_path
    headers = {**target.headers, "Origin": origin}

    def one(_: int) -> Answer:
        return target.send(httpx.Request(op.method, url, headers=headers), retry=False)

    sent = 0
    with ThreadPoolExecutor(max_workers=BURST_WAVE) as pool:
        while sent < BURST_LIMIT:
            wave = list(pool.map(one, range(min(BURST_WAVE, BURST_LIMIT - sent))))
            sent += len(wave)
            for _ in wave:
                ctx.session.count_case(op.label)
            limited = next((a for a in wave if a.status == 429), None)
            if limited is not None or any(not a.ok for a in wave):
                if limited is not None:
                    ctx.answers.append(limited)
                return limited, sent
    return None, sent


# ---------------------------------------------------------------- plain OPTIONS (C04)

@cors_check("plain-options", "plain-options", offered=False)
def plain_options(ctx: FlowContext, policy: Policy) -> Iterator[Finding]:
    legacy, gateway = ctx.send(ctx.legacy, "OPTIONS"), ctx.send(ctx.gateway, "OPTIONS")
    if not legacy.ok:
        return
    shown = f"a plain OPTIONS {_where(ctx)} (no preflight)"
    if not gateway.ok or (gateway.status or 0) // 100 != (legacy.status or 0) // 100:
        yield _finding(ctx, STATUS, f"{shown} is answered {gateway.status or gateway.error}, the legacy answered "
                       f"{legacy.status}", gateway, legacy=legacy.status)
        return
    allow_l = {t.upper() for t in _tokens(legacy, "allow")}
    allow_g = {t.upper() for t in _tokens(gateway, "allow")}
    if allow_l != allow_g:
        yield _finding(ctx, ALLOW, f"{shown} answers Allow {', '.join(sorted(allow_g)) or '(none)'}, the legacy "
                       f"{', '.join(sorted(allow_l)) or '(none)'}", gateway, legacy=_at(legacy, ALLOW))
