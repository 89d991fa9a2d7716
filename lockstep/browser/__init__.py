"""A real browser as the CORS oracle: headless Chromium (the system's), driven by Playwright, makes each
case's fetch() from a page whose origin is the policy's, and says whether the script could read the answer.

    with BrowserOracle() as oracle:
        verdict = oracle.run(BrowserCase("https://app.example.com", "PATCH", gateway_url,
                                         headers=(("Authorization", "Bearer ..."),)))
        verdict.allowed, verdict.status, verdict.error, verdict.reason

Exceptions (both LockstepError, one line each):
    BrowserUnavailable   no Chromium, no playwright package, or Chromium would not start
    UnsupportedCase      a case no page script can make (also a ValueError)

Nothing here imports playwright until a browser is started, and nothing here knows lockstep's CORS rules.
"""

from .model import BrowserCase, BrowserUnavailable, BrowserVerdict, UnsupportedCase, find_chromium
from .oracle import BrowserOracle

__all__ = ["BrowserCase", "BrowserVerdict", "BrowserOracle", "BrowserUnavailable", "UnsupportedCase",
           "find_chromium"]
