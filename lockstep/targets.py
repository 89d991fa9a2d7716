"""A target: base URL + prefix + auth + headers, behind a safety guard and a rate ceiling.

Sending never raises for what the server or the network did: it returns an Answer, whose `error` says
what went wrong at the transport level. It raises only UnsafeRequestError (a request the profile or the
contract forbids), before anything leaves the machine.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from .bodies import BodyDigest, Digester
from .contract import TargetSpec
from .rates import parse_rate
from .errors import TargetUnreachable, UnsafeRequestError

__all__ = ["Answer", "Target", "SAFE_METHODS", "fetch_client_credentials_token", "check_credentials"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_RETRY_STATUSES = (429, 503)
_MAX_ATTEMPTS = 3


@dataclass
class Answer:
    """What one target answered to one request (or why it did not)."""

    target: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None  # transport failure: refused, timeout, TLS ...
    rate_limited: bool = False  # still 429/503 after waiting as told
    attempts: int = 1
    digest: BodyDigest | None = None  # set instead of `body` when the body is past max_body_bytes

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None


class _RateCeiling:
    """At most `rate` requests a second leave for one target (thread-safe, no burst)."""

    def __init__(self, rate: float) -> None:
        self.interval, self.next_at, self.lock = 1.0 / rate, 0.0, threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        if start > now:
            time.sleep(start - now)


class Target:
    """One side of the comparison (legacy or gateway) with its own connection pool."""

    def __init__(self, name: str, spec: TargetSpec, *, token: str | None = None,
                 allowed_methods: Iterable[str] | None = None, rate: str | None = None,
                 transport: httpx.BaseTransport | None = None, max_body_bytes: int | None = None) -> None:
        self.name, self.spec = name, spec
        self.max_body_bytes = max_body_bytes
        self.base_url = spec.url.rstrip("/") + spec.prefix
        self.token = token
        self.allowed_methods = frozenset(m.upper() for m in allowed_methods) if allowed_methods else None
        ceiling = rate or spec.rate
        self._ceiling = _RateCeiling(parse_rate(ceiling)[0]) if ceiling else None
        self.client = httpx.Client(
            timeout=httpx.Timeout(spec.timeout.read, connect=spec.timeout.connect),
            verify=spec.verify, trust_env=False, follow_redirects=False,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16), transport=transport,
        )

    @property
    def headers(self) -> dict[str, str]:
        """Headers this target adds to every request (its own identity and credentials)."""
        extra = dict(self.spec.headers)
        if self.token:
            extra["Authorization"] = f"Bearer {self.token}"
        return extra

    def guard(self, method: str) -> None:
        method = method.upper()
        if method in SAFE_METHODS:
            return
        if not self.spec.writable:
            raise UnsafeRequestError(f"refusing to send {method} to {self.name}: the contract marks it "
                                     f"`writable: false` (only GET, HEAD and OPTIONS may be sent)")
        if self.allowed_methods is not None and method not in self.allowed_methods:
            raise UnsafeRequestError(f"refusing to send {method} to {self.name}: the profile allows only "
                                     f"{', '.join(sorted(self.allowed_methods))}")

    def send(self, request: httpx.Request, *, retry: bool = True) -> Answer:
        """Send, waiting (bounded) and resending while the target says 429/503 + Retry-After.

        `retry=False` hands back the first answer as it is: for a check that wants to see the 429.
        """
        self.guard(request.method)
        if not retry:
            return self._send_once(request, 1)
        answer = _blank_answer(self.name, request)
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            answer = self._send_once(request, attempt)
            delay = _retry_after(answer)
            if delay is None:
                return answer
            if delay > self.spec.max_wait or attempt == _MAX_ATTEMPTS:
                answer.rate_limited = True
                return answer
            time.sleep(delay)
        return answer

    def _send_once(self, request: httpx.Request, attempt: int) -> Answer:
        if self._ceiling:
            self._ceiling.wait()
        answer = _blank_answer(self.name, request)
        answer.attempts = attempt
        started = time.perf_counter()
        try:
            response = self.client.send(request, stream=True)
            try:
                answer.status, answer.headers = response.status_code, response.headers
                answer.body, answer.digest = _read(response, self.max_body_bytes)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            answer.error = describe_transport_error(exc)
        answer.elapsed = time.perf_counter() - started
        return answer

    def probe(self) -> None:
        """Raise TargetUnreachable if nothing answers at the base URL (any HTTP status is fine)."""
        try:
            self.client.request("HEAD", self.base_url + "/", timeout=self.spec.timeout.connect + 5)
        except httpx.HTTPError as exc:
            raise TargetUnreachable(f"{self.name} at {self.base_url} is unreachable: "
                                    f"{describe_transport_error(exc)}{_tls_hint(exc)}") from None

    def close(self) -> None:
        self.client.close()


def _read(response: httpx.Response, limit: int | None) -> tuple[bytes, BodyDigest | None]:
    """The body, or past `limit` its digest, built as it streams in (never two copies of it)."""
    kept, digester = bytearray(), None
    for chunk in response.iter_bytes():
        if digester is None and (limit is None or len(kept) + len(chunk) <= limit):
            kept += chunk
            continue
        if digester is None:
            digester = Digester()
            digester.update(bytes(kept))
            kept = bytearray()
        digester.update(chunk)
    return (bytes(kept), None) if digester is None else (b"", digester.result())


def _blank_answer(name: str, request: httpx.Request) -> Answer:
    return Answer(target=name, method=request.method, url=str(request.url),
                  request_headers=dict(request.headers), request_body=request.content)


def _retry_after(answer: Answer) -> float | None:
    if answer.status not in _RETRY_STATUSES:
        return None
    value = answer.headers.get("retry-after")
    if value is None:
        return 1.0 if answer.status == 429 else None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def describe_transport_error(exc: httpx.HTTPError) -> str:
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, httpx.ReadTimeout):
        return "read timeout"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        return f"TLS error: {text}"
    if isinstance(exc, httpx.ConnectError):
        if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return "name does not resolve"
        if "refused" in text.lower():
            return "connection refused"
        return f"cannot connect: {text}"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    return f"{exc.__class__.__name__}: {text}"


def _tls_hint(exc: httpx.HTTPError) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        return (" (give the target `verify: /path/to/ca-bundle.pem` in the contract, or `verify: false` "
                "for a staging certificate you trust)")
    return ""


def check_credentials(gateway: Target, path: str, method: str = "GET") -> None:
    """One request with the configured token to one protected safe operation (`path`: a concrete path
    under the gateway's base URL). A 401 or 403 raises TargetUnreachable before any case is judged:
    hundreds of findings would all say "wrong token". Any other answer, or none, leaves it to the flows."""
    method = method.upper()
    if method not in SAFE_METHODS:
        raise ValueError(f"the credential check sends only safe methods, not {method}")
    request = gateway.client.build_request(method, gateway.base_url + path, headers=gateway.headers)
    answer = gateway.send(request)
    if answer.status not in (401, 403):
        return
    detail = _challenge_detail(answer.headers.get("www-authenticate", ""), gateway.token)
    if gateway.token:
        what = "the configured token"
        fix = ("check the token targets.gateway.auth gives (e.g. $GATEWAY_TOKEN): expired, for another "
               "issuer or audience, lacking a scope?")
    else:
        what, fix = "a request without a token", "give the gateway a token: targets.gateway.auth in the contract"
    raise TargetUnreachable(f"the gateway refused {what}: {answer.status}{detail} on {method} {path}; {fix}")


def _challenge_detail(header: str, token: str | None) -> str:
    """` invalid_token (token expired)` from `Bearer error="invalid_token", error_description="token expired"`."""
    found = dict(re.findall(r'(error|error_description|scope)\s*=\s*"([^"]{0,200})"', header))
    parts = [found.get("error", "")]
    if found.get("error_description"):
        parts.append(f"({found['error_description'][:120]})")
    if found.get("scope"):
        parts.append(f"(needs scope {found['scope'][:80]})")
    text = " ".join(p for p in parts if p)
    if token and token in text:  # a gateway echoing the token back must not get it printed
        text = text.replace(token, "[redacted]")
    return f" {text}" if text else ""


def fetch_client_credentials_token(token_url: str, client_id: str, client_secret: str,
                                   scope: str | None = None, verify: bool | str = True) -> str:
    """Client-credentials grant (RFC 6749 §4.4); the secret travels in HTTP Basic auth."""
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    try:
        response = httpx.post(token_url, data=data, auth=(client_id, client_secret), timeout=15,
                              verify=verify, trust_env=False)
    except httpx.HTTPError as exc:
        raise TargetUnreachable(f"token URL {token_url} is unreachable: {describe_transport_error(exc)}") from None
    if response.status_code != 200 or "access_token" not in response.text:
        raise TargetUnreachable(f"token URL {token_url} refused the client credentials of {client_id!r}: "
                                f"HTTP {response.status_code}")
    return str(response.json()["access_token"])
