"""curl reproducers with secrets replaced by shell variables (`$GATEWAY_TOKEN`), never their values."""

from __future__ import annotations

import shlex

from .redact import redact

__all__ = ["curl_command"]

_SKIP = {"content-length", "connection", "accept-encoding", "user-agent", "host", "accept"}


def curl_command(method: str, url: str, headers: dict[str, str], body: bytes, token_var: str = "TOKEN") -> str:
    parts = ["curl", "-sS", "-i", "-X", method.upper()]
    for name, value in headers.items():
        low = name.lower()
        if low in _SKIP:
            continue
        if low == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value else "Bearer"
            parts += ["-H", f'"{name}: {scheme} ${token_var}"']
            continue
        if low == "cookie":
            value = "$COOKIE"
        parts += ["-H", shlex.quote(f"{name}: {redact(value)}")]
    if body:
        parts += ["--data-binary", shlex.quote(redact(body.decode("utf-8", "replace")))]
    parts.append(shlex.quote(redact(url)))
    return " ".join(parts)
