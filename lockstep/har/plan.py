"""Matching recorded requests to the document's operations: which are API requests, which operation each is."""

from __future__ import annotations

import base64
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from ..operations import operations_of
from ..report.redact import redact
from .read import HarError, read_har, strip_body, strip_headers, strip_query

__all__ = ["HarEntry", "HarPlan", "IGNORED_HOST", "IGNORED_PREFLIGHT", "IGNORED_SCHEME", "har_path", "load_plan", "plan_of"]

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
