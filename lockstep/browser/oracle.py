"""A real browser as the oracle for CORS: headless Chromium, driven by Playwright, makes each case's fetch().

How a page gets the policy's origin without a server for it: a Playwright route answers the page's own
navigation (to `https://app.example.com/`, any scheme, host, port) with a blank page, and is removed as
soon as the page has loaded. Removing it matters: while any route is active Playwright turns on request
interception, and then it answers every CORS preflight itself with allow-everything headers (Playwright's
crNetworkManager, "isInterceptedOptionsPreflight"), so the gateway's real preflight would never be
judged. With no route left, the fetch() to the gateway (never routed) and its preflight go out as in any
browser. "null" is a page served with `Content-Security-Policy: sandbox allow-scripts` (an opaque origin,
top-level, so its requests stay visible to DevTools).

Mixed content: a page on https:// may call http://127.0.0.1 or http://localhost (both potentially
trustworthy); an http:// gateway on any other host is mixed content for an https origin, which Chromium
blocks before CORS is asked: such a verdict's reason is not a CORS one (`cors_blocked` is False).

Each case's fetch() uses `cache: "no-store"`, which also bypasses Chromium's CORS-preflight cache (5 s
without Access-Control-Max-Age): every case is judged on a preflight of its own, never on an earlier
case's.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from .model import (CHROMIUM_MISSING, PLAYWRIGHT_MISSING, BrowserCase, BrowserUnavailable, BrowserVerdict,
                    UnsupportedCase, find_chromium)

__all__ = ["BrowserOracle"]

# Playwright already adds most of these (and --headless, --no-sandbox); they are listed so that nothing
# depends on its defaults. Without the background-networking ones Chromium keeps calling Google's
# services over a closed network. Never add --disable-features / --enable-features here: Chromium keeps
# only the last one of a switch, so ours would silently replace Playwright's own list (which keeps, for
# example, HTTPS-Upgrades off, without which an http:// origin page cannot be routed).
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync")
# Chromium's Local Network Access (the successor of Private Network Access, on by default in 156) blocks a
# page on a public origin from calling a loopback or private address, the gateway under test included:
# "Permission was denied for this request to access the `loopback` address space". A real user is asked
# and may allow it; the oracle grants that permission to every page, as the user's "Allow" would (the
# alternative, --disable-features=LocalNetworkAccessChecks, would replace Playwright's feature list). The
# permission is only asked of secure contexts: a plain http:// origin page (not localhost) is refused
# before any permission, so such origins are declared secure with
# --unsafely-treat-insecure-origin-as-secure, which changes nothing CORS looks at.
_LOCAL_NETWORK = "local-network-access"
_NULL_PAGE = "https://opaque.lockstep.invalid/"
_PAGE = "<!doctype html><meta charset=utf-8><link rel=icon href='data:,'><title>lockstep browser oracle</title>"
_MAX_TABS = 32
_SETTLE_S = 2.0  # how long the failure's DevTools event and console line may trail fetch()'s rejection

_FETCH = """async ([url, init, timeoutMs]) => {
  let request;
  try {
    request = new Request(url, {...init, mode: "cors", cache: "no-store", signal: AbortSignal.timeout(timeoutMs)});
  } catch (e) { return {outcome: "invalid", error: `${e.name}: ${e.message}`}; }
  try {
    const response = await fetch(request);
    return {outcome: "allowed", status: response.status, exposed: [...response.headers.keys()]};
  } catch (e) {
    return {outcome: e.name === "TimeoutError" ? "timeout" : "blocked", error: `${e.name}: ${e.message}`,
            href: request.url};
  }
}"""


class BrowserOracle:
    """One headless Chromium for many cases; one page per origin, kept for the origin's next cases.

        with BrowserOracle() as oracle:        # BrowserUnavailable: one line saying what to install
            verdicts = oracle.run_many(cases)  # in the order of `cases`

    `local_network=False` leaves Local Network Access as a user who has not allowed it would see it
    (everything to loopback is blocked): for showing why the permission is granted. Not thread-safe:
    use it from the thread that started it (Playwright's sync API), outside a running asyncio loop.
    """

    def __init__(self, executable: str | None = None, timeout_s: float = 10.0, *,
                 local_network: bool = True) -> None:
        self.executable, self.timeout_s, self.local_network = executable, timeout_s, local_network
        self._playwright: Any = None
        self._browser: Any = None
        self._tabs: OrderedDict[str, _Tab] = OrderedDict()
        self._insecure: set[str] = set()  # http:// origins Chromium is told to treat as secure

    def __enter__(self) -> BrowserOracle:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Launch Chromium (a fresh profile). Raises BrowserUnavailable with one line."""
        if self._browser is not None:
            return
        executable = self.executable or find_chromium()
        if executable is None:
            chosen = os.environ.get("LOCKSTEP_CHROMIUM")
            raise BrowserUnavailable(f"LOCKSTEP_CHROMIUM={chosen} is not an executable file" if chosen
                                     else CHROMIUM_MISSING)
        try:
            from playwright.sync_api import Error
        except ImportError:
            raise BrowserUnavailable(PLAYWRIGHT_MISSING) from None
        try:
            self._playwright = self._playwright or _driver_acquire()
            self._browser = self._playwright.chromium.launch(
                executable_path=executable, headless=True, args=[*_FLAGS, *self._secure_flag()],
                timeout=max(30.0, self.timeout_s) * 1000)
        except Error as e:
            self.close()
            raise BrowserUnavailable(f"Chromium at {executable} did not start: {_first_line(e)}") from None

    def close(self) -> None:
        self._close_browser()
        if self._playwright is not None:
            _driver_release()
            self._playwright = None

    def run(self, case: BrowserCase) -> BrowserVerdict:
        return self.run_many([case])[0]

    def run_many(self, cases: Sequence[BrowserCase]) -> list[BrowserVerdict]:
        """Each case's verdict, in order. Raises UnsupportedCase (before running any) for an origin no
        page can have, e.g. "https://APP.example.com", which Chromium writes "https://app.example.com"."""
        self.start()
        self._prepare(list(dict.fromkeys(case.origin for case in cases)))
        return [self._tab(case.origin).run(case, self.timeout_s) for case in cases]

    def _prepare(self, origins: list[str]) -> None:
        """Open a page for each origin; relaunch once if some http:// ones must be declared secure."""
        insecure = []
        for origin in origins:
            try:
                self._tab(origin)
            except _NotSecure:
                insecure.append(origin)
        if insecure:
            self._insecure.update(insecure)
            self._close_browser()
            self.start()
            for origin in origins:
                self._tab(origin)

    def _close_browser(self) -> None:
        for tab in self._tabs.values():
            tab.close()
        self._tabs.clear()
        if self._browser is not None:
            self._browser.close()
            self._browser = None

    def _tab(self, origin: str) -> _Tab:
        tab = self._tabs.get(origin)
        if tab is not None:
            self._tabs.move_to_end(origin)
            return tab
        tab = _Tab.open(self._browser, origin, self.timeout_s, self.local_network)
        if self.local_network and not tab.secure:
            tab.close()
            if origin in self._insecure:
                raise UnsupportedCase(f"Chromium will not treat {origin} as a secure context, so Local "
                                      f"Network Access refuses it a loopback gateway")
            raise _NotSecure(origin)
        self._tabs[origin] = tab
        if len(self._tabs) > _MAX_TABS:
            self._tabs.popitem(last=False)[1].close()
        return tab

    def _secure_flag(self) -> list[str]:
        if not self._insecure:
            return []
        return ["--unsafely-treat-insecure-origin-as-secure=" + ",".join(sorted(self._insecure))]


class _NotSecure(Exception):
    """The origin's page is not a secure context (plain http://): Chromium must be told it is."""


class _Tab:
    """One browser context and page whose origin is `origin`, with what DevTools reports on it."""

    def __init__(self, context: Any, page: Any, secure: bool) -> None:
        self.context, self.page, self.secure = context, page, secure
        self.console: list[str] = []
        self.sent: list[str] = []  # DevTools ids of the fetches, in order
        self.failures: dict[str, dict[str, Any]] = {}
        page.on("console", lambda message: self.console.append(message.text))
        cdp = context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._on_sent)
        cdp.on("Network.loadingFailed", self._on_failed)
        cdp.send("Network.enable")

    @classmethod
    def open(cls, browser: Any, origin: str, timeout_s: float, local_network: bool) -> _Tab:
        from playwright.sync_api import Error

        context = browser.new_context(permissions=[_LOCAL_NETWORK] if local_network else [])
        context.set_default_timeout(max(30.0, timeout_s) * 1000)
        page = context.new_page()
        headers = {"content-security-policy": "sandbox allow-scripts"} if origin == "null" else {}
        page.route(lambda url: True, lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8", headers=headers, body=_PAGE))
        try:
            page.goto(_NULL_PAGE if origin == "null" else origin + "/", wait_until="domcontentloaded")
        except Error as e:
            context.close()
            raise UnsupportedCase(f"no page can have the origin {origin!r}: {_first_line(e)}") from None
        page.unroute_all()  # from here on, nothing the page sends is intercepted (see the module's doc)
        actual, secure = page.evaluate("[self.origin, self.isSecureContext]")
        if actual != origin:
            context.close()
            raise UnsupportedCase(f"no page can have the origin {origin!r}: Chromium writes it {actual!r}")
        return cls(context, page, bool(secure))

    def close(self) -> None:
        self.context.close()

    def _on_sent(self, event: dict[str, Any]) -> None:
        if event.get("type") == "Fetch" and not event.get("redirectResponse"):
            self.sent.append(event["requestId"])

    def _on_failed(self, event: dict[str, Any]) -> None:
        if event.get("type") == "Fetch":  # not the preflight's own event: the fetch's carries the CORS error
            self.failures[event["requestId"]] = event

    def run(self, case: BrowserCase, timeout_s: float) -> BrowserVerdict:
        self.console.clear()
        self.failures.clear()
        mark = len(self.sent)  # DevTools events may trail: only a fetch sent from now on is this case's
        init = {"method": case.method, "headers": [list(h) for h in case.headers],
                "credentials": case.credentials, "body": case.body}
        result = self.page.evaluate(_FETCH, [case.url, init, int(timeout_s * 1000)])
        outcome = result["outcome"]
        if outcome == "invalid":
            raise UnsupportedCase(f"Chromium will not build this request: {result['error']}")
        if outcome == "allowed":
            return BrowserVerdict(True, result["status"], None, None, tuple(sorted(result["exposed"])))
        if outcome == "timeout":
            return BrowserVerdict(False, None, f"no answer within {timeout_s:g} s", "timeout")
        return self._blocked(case.origin, result["href"], result["error"], mark)

    def _blocked(self, origin: str, href: str, script_error: str, mark: int) -> BrowserVerdict:
        failure = self._settle(lambda: next((self.failures[i] for i in self.sent[mark:] if i in self.failures),
                                            None)) or {}
        cors = failure.get("corsErrorStatus", {}).get("corsError")
        blocked = failure.get("blockedReason") and f"blocked:{failure['blockedReason']}"
        net = failure.get("errorText")
        message = self._settle(lambda: self._message(origin, href)) if cors else self._message(origin, href)
        return BrowserVerdict(False, None, message or f"{script_error} ({net or 'no network error reported'})",
                              cors or blocked or net)

    def _message(self, origin: str, href: str) -> str | None:
        quoted = f"'{href}'"
        for text in reversed(self.console):
            if text.startswith("Access to fetch at ") and quoted in text and f"from origin '{origin}'" in text:
                return text
        return None

    def _settle(self, ready: Callable[[], Any]) -> Any:
        """`ready()` once it has something, letting Playwright deliver events meanwhile (at most _SETTLE_S)."""
        deadline = time.monotonic() + _SETTLE_S
        while (found := ready()) is None and time.monotonic() < deadline:
            self.page.wait_for_timeout(20)
        return found


# Playwright's sync API allows one driver per thread at a time: oracles of the same thread share it.
_drivers: dict[int, list[Any]] = {}  # thread id -> [driver, oracles using it]


def _driver_acquire() -> Any:
    from playwright.sync_api import sync_playwright

    entry = _drivers.get(threading.get_ident())
    if entry is None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise BrowserUnavailable("the browser oracle uses Playwright's sync API: start it outside a running "
                                     "asyncio loop (or in a thread of its own)")
        entry = _drivers[threading.get_ident()] = [sync_playwright().start(), 0]
    entry[1] += 1
    return entry[0]


def _driver_release() -> None:
    entry = _drivers.get(threading.get_ident())
    if entry is None:  # closed from another thread than it started in: nothing of this thread's to stop
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _drivers[threading.get_ident()]
        entry[0].stop()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
