"""The fault zoo: realistic cutover mistakes the demo gateway can be started with, alone or combined."""

from __future__ import annotations

from collections.abc import Iterable

KNOWN_FAULTS: dict[str, str] = {
    "missing-route": "the route table forgets GET /deliveries/{delivery_id}: the gateway answers 404",
    "status-rewrite": "upstream 201 Created is relayed as 200 OK (POST /subscriptions)",
    "drop-cache-control": "the Cache-Control response header is stripped from every relayed answer",
    "drop-null-fields": "null-valued keys are removed from relayed JSON bodies (rating, phone, note...)",
    "query-plus-decoded": "the query is percent-decoded before forwarding: %2B reaches upstream as '+' (a space)",
    "error-body-not-json": "relayed upstream 4xx bodies are replaced by a text/html error page",
    "cors-no-authorization-header": "preflights omit Authorization from Access-Control-Allow-Headers",
    "cors-preflight-needs-auth": "auth runs before CORS on protected routes: preflights get 401",
    "cors-wildcard-with-credentials": "Access-Control-Allow-Origin is '*' while Allow-Credentials is true",
    "auth-open-route": "GET /deliveries needs no token and is forwarded without identity",
    "auth-scheme-case-sensitive": "only the exact 'Bearer ' scheme is accepted ('bearer', 'BEARER' get 401)",
    "auth-expired-accepted": "the token's exp claim is not checked: expired tokens are accepted",
    "auth-alg-none-accepted": "unsigned tokens (alg: none) are accepted",
    "drop-request-body-field": "PUT/PATCH /subscriptions/{subscription_id}: 'note' is dropped from the forwarded body",
    "slow-route": "GET /recipes/{recipe_id} is delayed by 150 ms in the gateway",
    "expose-internal": "the legacy's internal admin API (/internal/*) is routed through the public gateway, without auth",
    "identity-trusted-on-public": "public routes forward a client-sent X-User-Id (and friends) to the legacy unchanged, the optional token ignored",
    "auth-slow-signing": "the auth service signs each token under one lock with a deliberate 100 ms cost: token throughput collapses under parallel load",
    "auth-pool-exhausted": "the auth service holds one of 2 database connections per token request (~80 ms) and answers 503 when none is free",
}


class UnknownFaultError(ValueError):
    """A fault name that is not in KNOWN_FAULTS; the message lists the known ones."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown fault {name!r}; known: {', '.join(KNOWN_FAULTS)}")


def validate_faults(names: Iterable[str]) -> tuple[str, ...]:
    """The names, stripped and de-duplicated in order; raises UnknownFaultError on the first unknown."""
    result: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name or name in result:
            continue
        if name not in KNOWN_FAULTS:
            raise UnknownFaultError(name)
        result.append(name)
    return tuple(result)


def parse_fault_list(text: str) -> tuple[str, ...]:
    """`a,b` (the command line form) -> validated names."""
    return validate_faults(text.split(","))
