"""Secrets never reach a report: every text written passes through `redact`.

Known secret values (tokens, client secrets, signing keys) are replaced wherever they appear; shapes
that are secret whatever their value (JWTs, bearer credentials, cookies, PEM blocks, access_token
parameters) are replaced too, so a secret lockstep was never told about is still caught.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping

__all__ = ["register_secret", "redact", "redact_headers", "SECRET_HEADERS"]

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
_PATTERNS = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), "[REDACTED KEY]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), "[REDACTED JWT]"),
    # a credential has digits; "Bearer challenge" or "Bearer error=..." in a message is not one
    (re.compile(r"(?i)\b(bearer|basic)\s+(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{12,}"), r"\1 [REDACTED]"),
    (re.compile(r"(?i)((?:access_token|id_token|refresh_token|client_secret)=)[^&\s\"']+"), r"\1[REDACTED]"),
]
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is replaced wherever it shows up (short values are ignored)."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("[REDACTED]" if k.lower() in SECRET_HEADERS else redact(v)) for k, v in headers.items()}
