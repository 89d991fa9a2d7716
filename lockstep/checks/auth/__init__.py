"""Auth: per operation, the gateway lets in exactly the right callers and says no the right way.

Which operations are protected, and with which scopes, comes from the document's `security`; the token
variants come from lockstep.tokens; the contract's `auth:` (AuthPolicy) says where the issuer's keys are.
Expected answers are RFC 6750's (challenge.py has them with the RFC sections); where the legacy answers a
credential the same way as the gateway, the upstream decided and the finding is a `spec-gap` note
(legacy.py). Checks, by group (one suite line each), with the catalog case
(../shared/reference/cors-auth-catalog.md) and their module:

    forged    refuse-forged: missing, empty, bare scheme, wrong scheme, raw token, whitespace, two
              Authorization headers, header + ?access_token=, token only in the query, malformed JWS
              shapes, oversize, odd bytes, flipped/stripped signature, tampered claims, alg none (all
              casings), RS256->HS256 confusion, weak HMAC secrets, embedded jwk / foreign jku / x5u, kid
              tricks, foreign keys (B01-B04, B06-B18, B26)                                  refusals.py
    claims    refuse-claims (signing key): a minted valid token is accepted (the control), then expired,
              not-yet-valid, odd exp types, wrong/missing aud, wrong iss (case, trailing slash), missing
              exp/sub, unknown crit, RS512 with the same key (B19-B23)                      refusals.py
    scheme    scheme-case: `bearer`, `BEARER`, `bEaReR`, header-name case answered like `Bearer` (B05)
    scope     scope-403 (signing key): a valid token without the operation's scopes gets 403 (B25, B26)
    public    public-open: public operations answer without a token like the legacy does
    identity  identity-headers: client-sent identity headers (X-User-Id and friends, case, underscore and
              duplicate variants, with and without a token) never act as the caller's identity upstream,
              on public and protected operations, seen through the identity probes (B24)    identity.py
    cors      errors-carry-cors: the gateway's 401 invalid_token and 403 insufficient_scope carry the
              CORS headers of an allowed origin (C12; the plain 401 is the CORS flow's)     errors_cors.py
    latency   latency: p50/p95 of authenticated calls, gateway vs legacy (B27)             latency.py
    burst     burst: valid-token latency while a bounded burst of invalid tokens arrives (B27)

Shared parts: material.py (the flow's contract slice; key material, JWKS and demo values, built once per
run into `ctx.cache`), skips.py (why a check cannot run here), sending.py (where and with which headers a
variant goes), challenge.py (WWW-Authenticate, verdicts, findings), legacy.py (who decided).
Findings are grouped per check and operation; each names every variant concerned. Every token built is
registered with the redactor; messages carry variant names, never tokens.
"""

from __future__ import annotations

from ...engine.registry import flow_policy
# in the checklist's order (the registry runs a flow's checks in registration order)
from . import refusals, identity, errors_cors, latency  # noqa: F401, I001
from .challenge import Verdict, bearer_challenge, judge, refused
from .material import AuthMaterial, AuthSlice, material
from .sending import auth_path
from .skips import CannotRun, skip_reason

__all__ = ["FLOW", "AuthSlice", "AuthMaterial", "material", "skip_reason", "CannotRun", "judge", "Verdict",
           "bearer_challenge", "refused", "auth_path"]

FLOW = "auth"

flow_policy(FLOW, AuthSlice.of)
