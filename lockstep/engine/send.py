"""Sending one request through a target: the one place a flow builds and sends a request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

from ..targets import Answer, Target

__all__ = ["send", "Sender", "HeaderItems"]

HeaderItems = dict[str, str] | Sequence[tuple[str, Any]]


def send(target: Target, method: str, path: str, *, headers: HeaderItems | None = None,
         query: dict[str, Any] | None = None, body: bytes = b"", credentials: bool = True,
         retry: bool = True, url: str | None = None) -> Answer:
    """`method` at `target`'s base URL + `path` (or at the full `url`), with the target's own headers unless
    `credentials=False` (a browser's preflight, or a check that brings its own Authorization).

    Headers given here replace the target's of the same name. May raise UnsafeRequestError (the profile's
    or the contract's guard), before anything leaves the machine.
    """
    full = url if url is not None else target.base_url + path
    if query:
        full += ("&" if "?" in full else "?") + urlencode(query, doseq=True)
    extra = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in extra}
    own = [(k, v) for k, v in target.headers.items() if k.lower() not in names] if credentials else []
    return target.send(httpx.Request(method, full, headers=own + extra, content=body), retry=retry)


class Sender:
    """Sends through the run's two targets by name (`legacy`, `gateway`), counting each request for its
    operation and keeping every answer for the report."""

    def __init__(self, targets: dict[str, Target], count: Callable[[str], None] = lambda _: None) -> None:
        self._targets, self._count = targets, count

    def base_url(self, target: str) -> str:
        return self._targets[target].base_url

    def send(self, target: str, method: str, path: str, *, operation: str = "", **kwargs: Any) -> Answer:
        answer = send(self._targets[target], method, path, **kwargs)
        if operation:
            self._count(operation)
        return answer
