"""Reading an answer as a browser does: what it grants, to whom, and what a cache may do with it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...targets import Answer

__all__ = ["ACAO", "ACAC", "ACAM", "ACAH", "ACEH", "ACMA", "VARY", "ALLOW", "STATUS", "at", "tokens", "is_2xx",
           "read_problems", "grants_header", "grants_method", "unexposed", "varies_by_origin", "origin_specific",
           "kept_by_caches", "lists", "star_with_credentials"]

ACAO, ACAC = "header:access-control-allow-origin", "header:access-control-allow-credentials"
ACAM, ACAH = "header:access-control-allow-methods", "header:access-control-allow-headers"
ACEH, ACMA = "header:access-control-expose-headers", "header:access-control-max-age"
VARY, ALLOW, STATUS = "header:vary", "header:allow", "status"


def at(answer: Answer, location: str) -> Any:
    """The answer's value at a finding's location (status, or a header's values joined)."""
    if location == STATUS:
        return answer.status if answer.ok else answer.error
    if location.startswith("header:"):
        found = answer.headers.get_list(location[7:])
        return ", ".join(found) if found else None
    return None


def tokens(answer: Answer, name: str) -> list[str]:
    return [t.strip() for value in answer.headers.get_list(name) for t in value.split(",") if t.strip()]


def is_2xx(answer: Answer) -> bool:
    """Fetch's "ok status": the only preflight answer a browser accepts."""
    return answer.ok and 200 <= (answer.status or 0) < 300


def star_with_credentials(answer: Answer) -> bool:
    return "*" in answer.headers.get_list("access-control-allow-origin") \
        and answer.headers.get("access-control-allow-credentials") == "true"


def read_problems(answer: Answer, origin: str, credentials: bool) -> dict[str, str]:
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


def grants_header(answer: Answer, name: str, credentials: bool) -> bool:
    """Header names compare case-insensitively; `*` counts only without credentials, never for Authorization."""
    listed = {t.lower() for t in tokens(answer, "access-control-allow-headers")}
    return name.lower() in listed or ("*" in listed and not credentials and name.lower() != "authorization")


def grants_method(answer: Answer, method: str, credentials: bool) -> bool:
    """Methods compare case-sensitively (browsers upper-case only the standard ones, never PATCH); `*`
    counts only without credentials."""
    listed = tokens(answer, "access-control-allow-methods")
    return method in listed or ("*" in listed and not credentials)


def unexposed(answer: Answer, expose: Iterable[str], credentials: bool) -> list[str]:
    listed = {t.lower() for t in tokens(answer, "access-control-expose-headers")}
    if "*" in listed and not credentials:
        return []
    return [h for h in expose if h.lower() not in listed]


def varies_by_origin(answer: Answer) -> bool:
    found = {t.lower() for t in tokens(answer, "vary")}
    return "origin" in found or "*" in found


def origin_specific(answer: Answer) -> bool:
    acao = answer.headers.get_list("access-control-allow-origin")
    return bool(acao) and acao != ["*"]


def kept_by_caches(answer: Answer) -> bool:
    """Whether an HTTP cache (the browser's own or a shared one) may store the answer and hand it to
    another request: GET and HEAD answers without `Cache-Control: no-store` (OPTIONS answers, preflights
    included, are never stored; browsers key their preflight cache by origin themselves)."""
    if answer.method not in ("GET", "HEAD"):
        return False
    return "no-store" not in {t.lower() for t in tokens(answer, "cache-control")}


def lists(values: list[str]) -> str:
    return ", ".join(values[:-1]) + f" and {values[-1]}" if len(values) > 1 else values[0]
