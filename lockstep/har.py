"""Recorded traffic: the requests of a HAR file (what a browser or a proxy exports), replayed through the
parity comparison.

    read_har(path)            the file's entries (HAR 1.2: log.entries[].request), or a HarError
    plan_of(entries, document) which entries are API requests, which operation each one is, secrets stripped
    HarReplay(judge, ledger).replay(entry)   legacy twice + gateway once, judged by the engine's Judge

Matching: a HAR names hosts and a path prefix the run does not know (recorded against production, a
staging gateway under `/api`, a demo on some port). Each host's API prefix is inferred from its requests:
the prefix under which most of them match an operation of the document (targets' own prefixes first).
A host none of whose requests matches is not the API (a web page, fonts, analytics): ignored, counted.
On an API host, a request that matches no operation is an **unknown route**: a gap in the document, not
in the gateway, so a note (like `spec-gap`) — but it is replayed and compared all the same, so a gateway
that does not route what real clients call fails with `route-missing` like any other difference.
CORS preflights are left out: the CORS flow judges them against the declared policy, not the legacy.

Secrets: Authorization, Cookie and other credential headers, token-like query parameters (and any value
shaped like a JWT) and secret-named body fields are stripped when the HAR is read, before anything is
sent or written; each target's own credentials (the contract's) take their place. Stripped values are
registered with the redactor, so an answer that echoes one is redacted too.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import httpx

from .errors import ContractError, UnsafeRequestError
from .engine.judge import NoDocument
from .exchange import CONCURRENT_METHODS, Exchange
from .findings import Finding
from .operations import operations_of
from .report.redact import redact, register_secret
from .targets import Answer, Target

if TYPE_CHECKING:
    from .engine.judge import Judge
    from .engine.ledger import Ledger

__all__ = ["HarError", "HarEntry", "HarPlan", "HarReplay", "read_har", "plan_of", "load_plan", "har_path",
           "strip_headers", "strip_query", "strip_body", "NoDocument", "FLOW"]

FLOW = "har"  # the marker and the figures' key; findings belong to the parity flow (its comparison)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token",
                            "x-csrf-token", "x-xsrf-token", "x-amz-security-token", "x-goog-api-key"})
_SECRET_HEADER_NAME = re.compile(r"(?i)token|secret|passw|api-?key|session|credential")
TRANSPORT_HEADERS = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te",
                               "trailer", "upgrade", "proxy-connection", "accept-encoding"})
SECRET_QUERY = frozenset({"access_token", "id_token", "refresh_token", "token", "auth", "authorization",
                          "api_key", "apikey", "api-key", "client_secret", "secret", "password", "passwd",
                          "session", "sessionid", "session_id", "jwt", "x-amz-signature",
                          "x-amz-credential", "x-amz-security-token"})
SECRET_FIELDS = frozenset({"password", "passwd", "pwd", "secret", "client_secret", "token", "access_token",
                           "refresh_token", "id_token", "api_key", "apikey"})
_JWT = re.compile(r"^(?:Bearer\s+)?eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$")
REDACTED = "[REDACTED]"


class HarError(ContractError):
    """The HAR file cannot be used (missing, not JSON, not a HAR, nothing of the API in it)."""


# ---------------------------------------------------------------- reading and stripping

def read_har(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a HAR file, each with at least `request.method` and `request.url`."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarError("HAR file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HarError(f"cannot read the HAR file: {exc.__class__.__name__}: {exc}", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise HarError(f"not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}", file=str(path)) from None
    entries = data.get("log", {}).get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise HarError("not a HAR file: no log.entries list", file=str(path))
    for i, entry in enumerate(entries):
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(request.get("method"), str) \
                or not isinstance(request.get("url"), str):
            raise HarError("an entry without request.method and request.url", file=str(path),
                           where=f"log.entries[{i}]")
    return entries


def strip_headers(headers: list[tuple[str, str]], own: set[str] = frozenset()) -> tuple[list[tuple[str, str]], list[str]]:
    """(kept, stripped names): credentials and transport headers out; `own` (the targets' own headers,
    lower case) out too, so each target's value replaces the recorded one."""
    kept, stripped = [], []
    for name, value in headers:
        low = name.lower()
        if low.startswith(":") or low in TRANSPORT_HEADERS:
            continue
        if low in SECRET_HEADERS or _SECRET_HEADER_NAME.search(low) or _JWT.match(value.strip()):
            register_secret(value.split(" ", 1)[-1] if low in ("authorization", "proxy-authorization") else value)
            _register_cookie_values(low, value)
            stripped.append(f"header {name}")
            continue
        if low in own:
            stripped.append(f"header {name} (the target's own)")
            continue
        kept.append((name, value))
    return kept, stripped


def _register_cookie_values(name: str, value: str) -> None:
    if name == "cookie":
        for part in value.split(";"):
            register_secret(part.partition("=")[2].strip())


def strip_query(query: str) -> tuple[str, list[str]]:
    """The raw query string minus token-like parameters; the parameters kept stay byte for byte."""
    if not query:
        return "", []
    kept, stripped = [], []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        plain_name, plain_value = unquote(name.replace("+", " ")), unquote(value.replace("+", " "))
        if plain_name.lower() in SECRET_QUERY or _JWT.match(plain_value):
            register_secret(plain_value)
            stripped.append(f"query {plain_name}")
            continue
        kept.append(part)
    return "&".join(kept), stripped


def strip_body(body: bytes, content_type: str) -> tuple[bytes, list[str]]:
    """JSON and form bodies with secret-named fields replaced by [REDACTED]; other bodies as they are."""
    stripped: list[str] = []
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return body, stripped
    if kind == "application/json" or kind.endswith("+json"):
        try:
            data = json.loads(body)
        except ValueError:
            return body, stripped
        cleaned = _strip_json(data, stripped, "")
        return (json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False).encode() if stripped else body), stripped
    if kind == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        out = []
        for name, value in pairs:
            if name.lower() in SECRET_FIELDS:
                register_secret(value)
                stripped.append(f"body {name}")
                value = REDACTED
            out.append((name, value))
        return (urlencode(out).encode() if stripped else body), stripped
    return body, stripped


def _strip_json(value: Any, stripped: list[str], where: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if str(key).lower() in SECRET_FIELDS and item not in (None, ""):
                register_secret(str(item))
                stripped.append(f"body {where}/{key}")
                out[key] = REDACTED
            else:
                out[key] = _strip_json(item, stripped, f"{where}/{key}")
        return out
    if isinstance(value, list):
        return [_strip_json(item, stripped, f"{where}/*") for item in value]
    return value


# ---------------------------------------------------------------- matching entries to operations

@dataclass(frozen=True)
class _Template:
    path: str
    regex: re.Pattern[str]
    names: tuple[str, ...]
    methods: frozenset[str]
    literal: int  # characters outside parameters: concrete paths win over templated ones

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.fullmatch(path)
        return None if found is None else {n: unquote(v) for n, v in zip(self.names, found.groups())}


def _templates(document: dict[str, Any]) -> list[_Template]:
    methods: dict[str, set[str]] = {}
    for op in operations_of(document):
        methods.setdefault(op.path, set()).add(op.method)
    out = []
    for path, allowed in methods.items():
        parts = re.split(r"\{([^}/]+)\}", path)
        regex = "".join(re.escape(p) if i % 2 == 0 else "([^/]+)" for i, p in enumerate(parts))
        literal = sum(len(p) for p in parts[::2])
        out.append(_Template(path, re.compile(regex), tuple(parts[1::2]), frozenset(allowed), literal))
    out.sort(key=lambda t: -t.literal)
    return out


def _best(templates: list[_Template], path: str, method: str) -> tuple[_Template, dict[str, str]] | None:
    """The most concrete template matching `path`, preferring one that offers `method`."""
    found = [(t, params) for t in templates if (params := t.match(path)) is not None]
    if not found:
        return None
    wanted = "GET" if method == "HEAD" else method
    with_method = [(t, p) for t, p in found if wanted in t.methods]
    return (with_method or found)[0]


def _offers(template: _Template, method: str) -> bool:
    return method in template.methods or (method == "HEAD" and "GET" in template.methods)


def _operation_at(templates: list[_Template], path: str, method: str) -> bool:
    found = _best(templates, path, method)
    return found is not None and _offers(found[0], method)


def _suffix_prefix(templates: list[_Template], path: str, method: str) -> str | None:
    """The shortest whole-segment prefix under which the rest of `path` is an operation of the document."""
    segments = path.split("/")[1:]
    for cut in range(len(segments) + 1):
        if _operation_at(templates, "/" + "/".join(segments[cut:]), method):
            return "/" + "/".join(segments[:cut]) if cut else ""
    return None


@dataclass
class HarEntry:
    """One recorded request, ready to replay: secrets already stripped, path relative to the API's root."""

    index: int
    method: str
    path: str  # raw (percent-encoded) path under the API's root, e.g. /recipes/r-004
    query: str  # raw query string, token-like parameters removed
    headers: list[tuple[str, str]]
    body: bytes
    operation: str | None  # "GET /recipes/{recipe_id}", or None: an unknown route
    template: str | None = None
    path_parameters: dict[str, str] = field(default_factory=dict)
    stripped: list[str] = field(default_factory=list)
    host: str = ""

    @property
    def label(self) -> str:
        """The operation's label (shares its learned noise), or `METHOD /path` for an unknown route."""
        return self.operation or f"{self.method} {self.path}"

    @property
    def known(self) -> bool:
        return self.operation is not None

    @property
    def shown(self) -> str:
        """The request as reports show it: method, path and the query that is replayed, redacted."""
        return redact(f"{self.method} {self.path}" + (f"?{self.query}" if self.query else ""))

    def __str__(self) -> str:  # the test id: never the URL's query (it may have held a token)
        return f"#{self.index} {self.label}" if self.known else f"#{self.index} unknown {redact(self.label)}"


@dataclass
class HarPlan:
    file: str
    total: int
    entries: list[HarEntry]
    ignored: list[tuple[int, str]]  # (index, reason)
    prefixes: dict[str, str]  # API host -> the prefix its paths carry

    def figure(self) -> dict[str, Any]:
        """summary.json's `figures.har.plan`: what was replayed and what was left out, and why."""
        return {"file": self.file, "entries": self.total, "replayed": len(self.entries),
                "unknown_routes": sum(not e.known for e in self.entries),
                "ignored": dict(Counter(reason for _, reason in self.ignored)),
                "api_hosts": {host: prefix or "/" for host, prefix in self.prefixes.items()}}


IGNORED_PREFLIGHT = "CORS preflight (the CORS flow judges preflights against the declared policy)"
IGNORED_HOST = "not the API's host (no request there matches an operation)"
IGNORED_SCHEME = "not an HTTP(S) request"


def plan_of(entries: list[dict[str, Any]], document: dict[str, Any], *, file: str = "",
            known_prefixes: tuple[str, ...] = (), own_headers: set[str] = frozenset()) -> HarPlan:
    """Which entries to replay, as which operation, with which prefix stripped and which secrets removed."""
    templates = _templates(document)
    parsed = []
    ignored: list[tuple[int, str]] = []
    for index, entry in enumerate(entries, start=1):
        request = entry["request"]
        url = urlsplit(request["url"])
        method = request["method"].upper()
        headers = [(h["name"], str(h.get("value", ""))) for h in request.get("headers", []) if "name" in h]
        if url.scheme not in ("http", "https"):
            ignored.append((index, IGNORED_SCHEME))
            continue
        if method == "OPTIONS" and any(n.lower() == "access-control-request-method" for n, _ in headers):
            ignored.append((index, IGNORED_PREFLIGHT))
            continue
        parsed.append((index, method, url, headers, request))
    prefixes = _host_prefixes(templates, [(url.netloc, url.path or "/", method) for _, method, url, _, _ in parsed],
                              known_prefixes)
    planned = []
    for index, method, url, headers, request in parsed:
        if url.netloc not in prefixes:
            ignored.append((index, IGNORED_HOST))
            continue
        planned.append(_entry(index, method, url, headers, request, prefixes[url.netloc], templates, own_headers))
    ignored.sort()
    return HarPlan(file, len(entries), planned, ignored, prefixes)


def _host_prefixes(templates: list[_Template], requests: list[tuple[str, str, str]],
                   known: tuple[str, ...]) -> dict[str, str]:
    votes: dict[str, Counter[str]] = {}
    for host, path, method in requests:
        prefix = next((p for p in sorted(known, key=len, reverse=True) if _under(path, p)
                       and _operation_at(templates, path[len(p):] or "/", method)), None)
        if prefix is None:
            prefix = _suffix_prefix(templates, path, method)
        if prefix is not None:
            votes.setdefault(host, Counter())[prefix] += 1
    return {host: min(counter.items(), key=lambda kv: (-kv[1], len(kv[0])))[0] for host, counter in votes.items()}


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def _entry(index: int, method: str, url: Any, headers: list[tuple[str, str]], request: dict[str, Any],
           prefix: str, templates: list[_Template], own: set[str]) -> HarEntry:
    path = url.path or "/"
    rest = (path[len(prefix.rstrip("/")):] or "/") if _under(path, prefix) else path
    kept, stripped = strip_headers(headers, own)
    query, from_query = strip_query(url.query)
    content_type = next((v for n, v in headers if n.lower() == "content-type"), "")
    body, from_body = strip_body(_body_of(request), content_type)
    found = _best(templates, rest, method)
    operation = template = None
    params: dict[str, str] = {}
    if found and _offers(found[0], method):
        t, params = found
        operation, template = f"{method} {t.path}", t.path
    return HarEntry(index, method, rest, query, kept, body, operation, template, params if operation else {},
                    stripped + from_query + from_body, url.netloc)


def _body_of(request: dict[str, Any]) -> bytes:
    post = request.get("postData") or {}
    if "text" in post and post["text"] is not None:
        text = post["text"]
        if post.get("encoding") == "base64":
            return base64.b64decode(text)
        return text.encode("utf-8")
    params = post.get("params")
    if params:
        return urlencode([(p.get("name", ""), p.get("value", "")) for p in params]).encode()
    return b""


def har_path(option: str | None, contract: Any) -> Path | None:
    """--har FILE, else the contract's `har:` (relative to the contract file), else None."""
    if option:
        return Path(option)
    if getattr(contract, "har", None):
        return (contract.base_dir / contract.har).resolve()
    return None


def load_plan(option: str | None, settings: Any, document: dict[str, Any]) -> HarPlan | None:
    """The run's HAR plan, or None when no HAR is given; raises HarError when the file is unusable."""
    path = har_path(option, settings.contract)
    if path is None:
        return None
    entries = read_har(path)
    targets = settings.contract.targets
    known = tuple({p for p in (targets.legacy.prefix, targets.gateway.prefix,
                               *(urlsplit(u).path.rstrip("/") for u in (settings.legacy_url, settings.gateway_url)
                                 if "://" in u),
                               *(urlsplit(s.get("url", "")).path.rstrip("/") for s in document.get("servers", [])
                                 if isinstance(s, dict)))
                   if p and p != "/"})
    own = {h.lower() for h in (*targets.legacy.headers, *targets.gateway.headers)}
    plan = plan_of(entries, document, file=str(path), known_prefixes=known, own_headers=own)
    if not plan.entries:
        reasons = ", ".join(f"{n} {r}" for r, n in Counter(r for _, r in plan.ignored).items()) or "it is empty"
        raise HarError(f"no request of this HAR is an API request to replay ({len(entries)} entries: {reasons})",
                       file=str(path))
    return plan


# ---------------------------------------------------------------- replay

@dataclass
class Replayed:
    exchange: Exchange
    findings: list[Finding]  # this entry's findings (also those already seen on an earlier entry)


class HarReplay:
    """Sends recorded requests to both targets and judges them with the parity flow's own comparison."""

    def __init__(self, judge: "Judge", ledger: "Ledger", schema: Any = None) -> None:
        self.parity, self.ledger, self.schema = judge, ledger, schema
        self.recorder = judge.recorder

    def request(self, entry: HarEntry, target: Target) -> httpx.Request:
        url = target.base_url + entry.path + (f"?{entry.query}" if entry.query else "")
        own = {k.lower() for k in target.headers}
        headers = [(k, v) for k, v in entry.headers if k.lower() not in own] + list(target.headers.items())
        return httpx.Request(entry.method, url, headers=headers, content=entry.body)

    def send(self, entry: HarEntry) -> Exchange:
        """Legacy twice and the gateway once: together for safe methods, one after another otherwise."""
        legacy, gateway = self.parity.legacy, self.parity.gateway
        for target in (legacy, gateway):
            target.guard(entry.method)  # the profile's rules and `writable: false`, before anything is sent
        return self.parity.exchanger.send(entry.label, self.request(entry, legacy), self.request(entry, legacy),
                                          self.request(entry, gateway))

    def replay(self, entry: HarEntry) -> Replayed:
        try:
            ex = self.send(entry)
        except UnsafeRequestError as exc:
            self.ledger.flow(FLOW)[str(entry)] = {"request": entry.shown, "verdict": "skipped", "reason": str(exc)}
            raise
        legacy = self.parity.legacy
        resend = (lambda: legacy.send(self.request(entry, legacy))) \
            if entry.method in CONCURRENT_METHODS | {"POST"} else None
        verdict = self.parity.judge(self._case(entry), ex, resend)
        # flow parity (summary.json's documented flows); the `har #N:` prefix keeps recorded requests'
        # findings apart from the generated cases' own
        found = self.parity.findings_of(ex, verdict, flow="parity", step=f"har #{entry.index}: ")
        if not entry.known:
            found.append(Finding("parity", entry.label, "unknown-route", f"har #{entry.index}: route", None, None,
                                 f"real clients call {redact(entry.label)} (recorded in the HAR) and the document "
                                 "does not describe it: a spec gap; replayed and compared all the same",
                                 severity="note"))
        for finding in found:
            finding.message = f"{finding.message} — recorded request #{entry.index}"
        if entry.known:  # an unknown route is no operation of the summary's count
            self.ledger.count_case(entry.label)
            if verdict.note is None:
                self.ledger.record_timing(entry.label, ex.legacy.elapsed, ex.gateway.elapsed)
        recorded = [self._record(ex, f) for f in found]
        self._figure(entry, ex, recorded)
        return Replayed(ex, recorded)

    def _case(self, entry: HarEntry) -> Any:
        if self.schema is None or entry.template is None or entry.method == "HEAD":
            return NoDocument()
        try:
            operation = self.schema[entry.template][entry.method]
            return operation.Case(path_parameters=dict(entry.path_parameters))
        except Exception:  # an operation Schemathesis cannot build a case for: judged without conformance
            return NoDocument()

    def _record(self, ex: Exchange, finding: Finding) -> Finding:
        """Into the run's book (deduplicated, counted); this entry's test fails on it either way."""
        finding.reproducers = finding.reproducers or self.parity.reproducers(ex)
        self.recorder.record(finding)
        return finding

    def _figure(self, entry: HarEntry, ex: Exchange, findings: list[Finding]) -> None:
        failing = [f for f in findings if f.failing]
        notes = [f.check for f in findings if f.severity == "note"]
        verdict = "differs" if failing else ("not judged: " + notes[0]) if notes and any(
            n not in ("unknown-route", "spec-gap") for n in notes) else "same"
        # one key per entry at the flow's top level: xdist workers' figures merge key by key
        self.ledger.flow(FLOW)[str(entry)] = {"request": entry.shown, "legacy": _status(ex.legacy),
                                              "gateway": _status(ex.gateway), "verdict": verdict,
                                              "stripped": entry.stripped}


def _status(answer: Answer) -> int | str | None:
    return answer.status if answer.error is None else answer.error
