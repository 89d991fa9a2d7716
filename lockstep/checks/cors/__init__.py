"""CORS: per operation, a browser on an allowed origin can call it, and no other origin can.

The declared policy (the contract's `cors:`, resolved per operation by `policy_for`) is the truth, not
the legacy: a legacy that reflects any origin would make a wide-open gateway look "like legacy". The
legacy is asked only where the catalog says "like legacy" (plain OPTIONS, Vary tokens, a redirected path
variant) or where the policy says `as_legacy` (then the grants, never the origins, come from its answers).
What a browser enforces is the measure (the Fetch standard): an operation whose method no browser can send
(TRACE, CONNECT, TRACK) has no CORS check; GET, HEAD and POST need no Allow-Methods entry; `*` counts only
without credentials and never covers Authorization; what no browser trips over is at most a note.

Preflights carry no credentials (a browser's do not); actual requests carry the target's own. Every
request goes through `ctx.send`, so the profile's safety guard applies: a check that would send a
non-safe method in a read-only profile is skipped. Checks by group (one suite line each), with the
catalog case (../shared/reference/cors-auth-catalog.md) and their module:

    preflight      preflight-status (C01, C15), preflight-allow-origin (C01), preflight-allow-credentials
                   (C01, C06), preflight-allowed-methods (C01, C14), preflight-allowed-headers (C01),
                   preflight-max-age (C11), as-legacy-baseline                          preflight.py
    redirect       preflight-no-redirect (C15)                                          redirect.py
    origins        disallowed-origins (C02, C05)                                        origins.py
    grants         ungranted-method, ungranted-header (C03)                             grants.py
    safety         no-wildcard-with-credentials (C06), single-allow-origin (C07)        safety.py
    vary           vary-origin, vary-keeps-legacy (C08)                                 vary.py
    actual         actual-allow-origin (C13, C09), exposed-headers (C10)                actual.py
    errors         error-401, error-404, error-405 (C12)                                errors.py
    rate-limit     error-429 (C12; one cheap safe operation, only where the profile allows bursts)  burst.py
    plain-options  plain-options (C04)                                                  options.py

Shared parts: lockstep/cors_policy.py (core: the per-operation policy and what browsers send and read;
the auth flow reads it too), reading.py (what an
answer grants), probes.py (preflight and actual senders, memoised per operation), expect.py (policy or
legacy grants), register.py (registration, findings), replay.py (each finding's browser probe).
Each check yields at most one finding per location; the problem another check owns (a wildcard with
credentials, several Access-Control-Allow-Origin values, a failed preflight) is left to that check.
"""

from __future__ import annotations

from ...engine.registry import flow_policy
# in the checklist's order (the registry runs a flow's checks in registration order)
from . import preflight, redirect, origins, grants, safety, vary, actual, errors, burst, options  # noqa: F401, I001
from .burst import rate_limit_operation
from .origins import DISALLOWED, fuzz_origins
from ...cors_policy import Policy, browser_can_send, policy_for, unused_overrides
from .register import FLOW
from .replay import probe_of

__all__ = ["Policy", "policy_for", "unused_overrides", "rate_limit_operation", "fuzz_origins", "browser_can_send",
           "probe_of", "DISALLOWED", "FLOW"]

flow_policy(FLOW, lambda contract: contract.cors)
