"""What the browser oracle is asked (BrowserCase) and what it answers (BrowserVerdict)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from ..errors import LockstepError

__all__ = ["BrowserCase", "BrowserVerdict", "BrowserUnavailable", "UnsupportedCase", "find_chromium",
           "CHROMIUM_MISSING", "PLAYWRIGHT_MISSING"]

CHROMIUM_MISSING = "Chromium not found: apt-get install chromium (or set LOCKSTEP_CHROMIUM=/path/to/chrome)"
PLAYWRIGHT_MISSING = "the playwright package is not installed: pip install playwright (Chromium comes from apt)"

_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_CREDENTIALS = ("include", "omit", "same-origin")
# Fetch's forbidden request-header names: a script cannot set them, so fetch() drops them without a word
# and the case would silently test something else.
_FORBIDDEN_HEADERS = frozenset({
    "accept-charset", "accept-encoding", "access-control-request-headers", "access-control-request-method",
    "connection", "content-length", "cookie", "cookie2", "date", "dnt", "expect", "host", "keep-alive",
    "origin", "referer", "set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via"})
_FORBIDDEN_PREFIXES = ("proxy-", "sec-")
_FORBIDDEN_METHODS = frozenset({"CONNECT", "TRACE", "TRACK"})


class BrowserUnavailable(LockstepError):
    """No browser to ask: Chromium or the playwright package is missing, or Chromium would not start."""


class UnsupportedCase(LockstepError, ValueError):
    """A case no page script can make: an origin Chromium would write differently, a header it drops..."""


@dataclass(frozen=True)
class BrowserCase:
    """One fetch() a page at `origin` makes to `url` (the real gateway URL), in mode "cors".

    `origin` is exactly what the browser must send as Origin: "https://app.example.com",
    "http://localhost:3000" or "null". `headers` are what the script sets; Chromium adds the rest.
    """

    origin: str
    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    credentials: str = "include"
    body: str | None = None

    def __post_init__(self) -> None:
        if self.credentials not in _CREDENTIALS:
            raise UnsupportedCase(f"credentials must be one of {', '.join(_CREDENTIALS)}, not {self.credentials!r}")
        if self.method.upper() in _FORBIDDEN_METHODS:
            raise UnsupportedCase(f"a page script cannot send {self.method} (fetch() forbids it)")
        if self.body is not None and self.method.upper() in ("GET", "HEAD"):
            raise UnsupportedCase(f"a {self.method.upper()} fetch() cannot have a body")
        if not self.url.startswith(("http://", "https://")):
            raise UnsupportedCase(f"the case's url must be http(s)://..., not {self.url!r}")
        for name, _ in self.headers:
            low = name.lower()
            if low in _FORBIDDEN_HEADERS or low.startswith(_FORBIDDEN_PREFIXES):
                raise UnsupportedCase(f"a page script cannot set the {name} header: the browser would drop it")


@dataclass(frozen=True)
class BrowserVerdict:
    """What the page's script saw.

    allowed  the script could read the answer (fetch() resolved), whatever its status
    status   the status the script read; None when it could not read one
    error    Chromium's console message for the block, verbatim ("Access to fetch at '...' from origin
             '...' has been blocked by CORS policy: ..."); for a failure that is not CORS's, the
             script's error and Chromium's net error
    reason   Chromium's name for it: a DevTools CorsError ("PreflightInvalidStatus",
             "MissingAllowOriginHeader", "WildcardOriginNotAllowed" ...), else a net error
             ("net::ERR_CONNECTION_REFUSED"), a DevTools blocked reason ("blocked:mixed-content") or
             "timeout"
    exposed  the response header names the script can read (lowercase, sorted): the safelisted ones
             and those Access-Control-Expose-Headers grants
    """

    allowed: bool
    status: int | None
    error: str | None
    reason: str | None = None
    exposed: tuple[str, ...] = ()

    @property
    def cors_blocked(self) -> bool:
        """Blocked by what the answers said about CORS (not by the network, a timeout, mixed content, or
        Chromium's Local Network Access rules, which the gateway's headers cannot change)."""
        return not self.allowed and self.reason is not None \
            and not self.reason.startswith(("net::", "blocked:", "timeout", "LocalNetworkAccess"))


def find_chromium() -> str | None:
    """The Chromium to drive: $LOCKSTEP_CHROMIUM if set (None when it is not an executable file), then
    /usr/bin/chromium, chromium, chromium-browser, google-chrome on PATH."""
    chosen = os.environ.get("LOCKSTEP_CHROMIUM")
    if chosen:
        return chosen if os.path.isfile(chosen) and os.access(chosen, os.X_OK) else None
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None
