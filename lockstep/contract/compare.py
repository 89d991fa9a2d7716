"""What "the same" means: compared headers, ignore rules, known differences."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from .base import _Model

__all__ = ["DEFAULT_COMPARE_HEADERS", "IgnoreRule", "CompareSpec", "KnownDifference"]

DEFAULT_COMPARE_HEADERS = [
    "content-type", "cache-control", "etag", "location", "link", "set-cookie", "www-authenticate", "allow",
]


class IgnoreRule(_Model):
    operation: str = "*"
    where: str


class CompareSpec(_Model):
    headers: list[str] = DEFAULT_COMPARE_HEADERS
    ignore: list[IgnoreRule] = []
    max_body_bytes: int = Field(1_000_000, gt=0)  # past this, bodies are compared by hash and size


class KnownDifference(_Model):
    operation: str
    where: str
    reason: str
    until: dt.date
    flow: str = "parity"
