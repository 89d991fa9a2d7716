"""Request rates written as `N/s` or `N/min` (the contract's ceilings, the demo gateway's limits)."""

from __future__ import annotations

import re

__all__ = ["parse_rate"]

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute)\s*$")


def parse_rate(text: str) -> tuple[float, int]:
    """'10/s' -> (10.0, 10); '120/min' -> (2.0, 120): requests a second, and N itself (a bucket size)."""
    found = _RATE.match(text)
    if not found or float(found.group(1)) <= 0:
        raise ValueError(f"rate {text!r} is not of the form N/s or N/min with N > 0")
    count = float(found.group(1))
    return (count if found.group(2).startswith("s") else count / 60.0), max(1, int(count))
