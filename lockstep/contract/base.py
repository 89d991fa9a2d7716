"""The model base every contract section shares, and the `demo` target value."""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ConfigDict

__all__ = ["DEMO"]

DEMO = "demo"  # a target url of "demo" means: the embedded demo stack supplies it


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _unknown(kind: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}{hint} (known: {', '.join(known)})"
