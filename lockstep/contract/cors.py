"""The declared CORS policy and its per-operation overrides."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from .base import _Model

__all__ = ["CorsOverride", "CorsPolicy"]

class CorsOverride(_Model):
    """Changes to the CORS policy for the operations that ALL given selectors match; later overrides win."""

    path: str | None = None  # glob over the path template, e.g. /subscriptions*
    method: str | None = None
    tag: str | None = None
    origins: list[str] | None = None
    credentials: bool | None = None
    headers: list[str] | None = None
    expose: list[str] | None = None
    max_age: int | None = Field(None, ge=0)
    as_legacy: bool | None = None
    enabled: bool | None = None  # false: no origin at all may call these operations from a browser

    @field_validator("origins")
    @classmethod
    def _origins(cls, values: list[str] | None) -> list[str] | None:
        """Origins as browsers send them: scheme://host[:port], lower case, no path; or `*`."""
        for value in values or ():
            if value == "null":
                raise ValueError("`null` must never be an allowed origin (sandboxed frames and files send it)")
            if value != "*" and not re.fullmatch(r"[a-z][a-z0-9+.-]*://[a-z0-9.-]+(:\d{1,5})?", value):
                rest = value.split("://", 1)[-1]
                hint = ("drop the path or the trailing '/'" if "/" in rest else
                        "write it in lower case" if value != value.lower() else "write it as scheme://host[:port]")
                raise ValueError(f"{value!r} is not an origin as browsers send it: {hint}")
        return values

    @field_validator("headers", "expose")
    @classmethod
    def _header_names(cls, values: list[str] | None) -> list[str] | None:
        for value in values or ():
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", value):
                raise ValueError(f"{value!r} is not a header name")
        return values

    @field_validator("method")
    @classmethod
    def _method(cls, value: str | None) -> str | None:
        known = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
        if value is not None and value.upper() not in known:
            raise ValueError(f"unknown method {value!r} (known: {', '.join(known)})")
        return value.upper() if value else value

    def selects_something(self) -> bool:
        return not (self.path is None and self.method is None and self.tag is None)


class CorsPolicy(_Model):
    """What browsers may do: the CORS flow's truth (not the legacy's answers).

    `as_legacy: true` takes the grants (methods, headers, credentials, max age, exposed headers) from the
    legacy's answers to the same requests; the origins and the safety rules (origin fuzz, never a wildcard
    or a reflected origin with credentials) still come from this policy.
    """

    origins: list[str] = Field(min_length=1)
    credentials: bool = False
    headers: list[str] = ["Authorization", "Content-Type"]  # request headers browsers must be allowed to send
    expose: list[str] = []  # response headers scripts must be able to read
    max_age: int | None = Field(None, ge=0)  # seconds; None: not judged
    browser: bool = False  # replay each CORS finding in headless Chromium (as --cors-browser)
    as_legacy: bool = False
    # Access-Control-Allow-Methods beyond what a path offers: a list the gateway may grant on any path (its one
    # global list), or `as_document` (only each path's own methods); None: an extra granted method is a note
    methods: list[str] | Literal["as_document"] | None = None
    overrides: list[CorsOverride] = []

    _origins = field_validator("origins")(CorsOverride._origins.__func__)  # type: ignore[attr-defined]
    _header_names = field_validator("headers", "expose")(CorsOverride._header_names.__func__)  # type: ignore[attr-defined]

    @field_validator("methods", mode="before")
    @classmethod
    def _methods(cls, value: Any) -> Any:
        if value is None or value == "as_document":
            return value
        if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
            raise ValueError(f"{value!r}: write a list of methods the gateway may grant on any path (e.g. [GET, "
                             f"POST, PUT, PATCH, DELETE]) or `as_document` (only the methods each path offers)")
        for method in value:
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", method):
                raise ValueError(f"{method!r} is not a method name")
        return [m.upper() for m in value]

    @field_validator("credentials")
    @classmethod
    def _credentials(cls, value: bool, info) -> bool:  # type: ignore[no-untyped-def]
        if value and "*" in (info.data.get("origins") or ()):
            raise ValueError("origin `*` with credentials: browsers refuse it; list the origins instead")
        return value

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, values: list[CorsOverride], info) -> list[CorsOverride]:  # type: ignore[no-untyped-def]
        for i, o in enumerate(values):
            if not o.selects_something():
                raise ValueError(f"overrides[{i}] needs a selector: path, method and/or tag")
            origins = o.origins if o.origins is not None else info.data.get("origins") or ()
            credentials = o.credentials if o.credentials is not None else info.data.get("credentials")
            if "*" in origins and credentials:
                raise ValueError(f"overrides[{i}]: origin `*` with credentials: browsers refuse it; list the origins")
        return values
