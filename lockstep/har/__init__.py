"""Recorded traffic: the requests of a HAR file (what a browser or a proxy exports), replayed through the
parity comparison.

    read_har(path)            the file's entries (HAR 1.2: log.entries[].request), or a HarError
    plan_of(entries, document) which entries are API requests, which operation each one is, secrets stripped
    HarReplay(judge, ledger).replay(entry)   legacy twice + gateway once, judged by the engine's Judge

read.py reads and strips, plan.py matches, replay.py replays; this package re-exports their names.

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

from .plan import HarEntry, HarPlan, har_path, load_plan, plan_of
from .read import FLOW, HarError, read_har, strip_body, strip_headers, strip_query
from .replay import HarReplay, NoDocument, Replayed

__all__ = ["HarError", "HarEntry", "HarPlan", "HarReplay", "Replayed", "read_har", "plan_of", "load_plan", "har_path",
           "strip_headers", "strip_query", "strip_body", "NoDocument", "FLOW"]
