"""The two targets: URL, prefix, headers, auth, timeouts, TLS, rate, writability."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from ..errors import ContractError
from ..rates import parse_rate
from .base import DEMO, _Model

__all__ = ["AuthSpec", "Timeouts", "TargetSpec", "Targets", "check_target_url"]

class AuthSpec(_Model):
    """How a target authenticates: a static bearer token, or client credentials at a token URL."""

    bearer: SecretStr | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scope: str | None = None


class Timeouts(_Model):
    connect: float = Field(5.0, gt=0)
    read: float = Field(30.0, gt=0)


class TargetSpec(_Model):
    url: str
    prefix: str = ""
    headers: dict[str, str] = {}
    auth: AuthSpec | None = None
    timeout: Timeouts = Timeouts()
    verify: bool | str = True  # False, or a CA bundle path
    rate: str | None = None  # request-rate ceiling, e.g. "50/s"
    writable: bool = True  # false: only GET/HEAD/OPTIONS may ever be sent
    loadable: bool = False  # true: the load flow may send it load (never without this consent)
    max_wait: float = Field(10.0, ge=0)  # longest Retry-After honoured before giving up

    @field_validator("rate")
    @classmethod
    def _rate(cls, v: str | None) -> str | None:
        if v is not None:
            parse_rate(v)
        return v

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        return "/" + v.strip("/") if v.strip("/") else ""


class Targets(_Model):
    legacy: TargetSpec
    gateway: TargetSpec


def check_target_url(url: str, *, where: str, file: str | None = None) -> None:
    """Raise ContractError unless `url` is `demo` or an http(s) URL with a host; the message says the fix.

    Checked on the value a run will use (an option overrides the contract's), so it is called by settings.
    """
    if url == DEMO:
        return
    parts = urlsplit(url) if "://" in url else None
    if parts and parts.scheme in ("http", "https") and parts.hostname and _port_ok(parts):
        return
    subject = "the target URL" if "@" in url else f"target URL {url!r}"  # user:password@ is never echoed
    if not url.strip():
        problem = "the target URL is empty: write the base URL, e.g. http://localhost:8080 (or `demo`)"
    elif parts is None:
        fix = "http://HOST:PORT" if "@" in url else f"http://{url.strip()}"
        problem = f"{subject} has no scheme: write {fix} (or https://...)"
    elif parts.scheme not in ("http", "https"):
        problem = f"{subject} is not an http or https URL"
    elif not parts.hostname:
        problem = f"{subject} names no host: write e.g. http://localhost:8080"
    else:
        problem = f"{subject} has a port that is not a number from 1 to 65535"
    raise ContractError(problem, file=file, where=where)


def _port_ok(parts: Any) -> bool:
    try:
        return parts.port is None or 0 < parts.port
    except ValueError:
        return False
