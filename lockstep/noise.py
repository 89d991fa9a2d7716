"""Noise learned Diffy-style: ask the legacy side twice; what differs is noise for that operation.

The mask is kept across an operation's cases, with array indices generalised (`/items/3/ts` ->
`/items/*/ts`). Masked values must still agree in JSON type; a status is never noise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from .views import View

__all__ = ["NoiseMask", "Path", "generalise", "pointer", "json_diff"]

Path = tuple[Any, ...]


def generalise(path: list[Any] | Path) -> Path:
    return tuple("*" if isinstance(p, int) else p for p in path)


def pointer(path: list[Any] | Path) -> str:
    """('items', 3, 'ts') -> '/items/3/ts' (RFC 6901 escaping)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path) or "/"


def json_diff(a: Any, b: Any, unordered: set[Path]) -> DeepDiff:
    order_free = (lambda level: generalise(level.path(output_format="list")) in unordered) if unordered else None
    return DeepDiff(a, b, view="tree", ignore_order_func=order_free, verbose_level=1)


@dataclass
class NoiseMask:
    headers: set[str] = field(default_factory=set)
    values: set[Path] = field(default_factory=set)  # value varies: type must agree, presence required
    subtrees: set[Path] = field(default_factory=set)  # presence or shape varies: ignored below
    unordered: set[Path] = field(default_factory=set)  # order varies: compared as a multiset
    samples: int = 0

    def learn(self, a: View, b: View) -> bool:
        """Learn from two legacy answers to the same request; False if they are too unlike to learn from."""
        if a.status != b.status:
            return False
        self.samples += 1
        for name in set(a.headers) | set(b.headers):
            if a.headers.get(name) != b.headers.get(name):
                self.headers.add(name)
        if a.kind != b.kind:
            self.subtrees.add(())
        elif a.kind == "json":
            self._learn_json(a.body, b.body)
        elif a.body != b.body:
            self.values.add(())
        return True

    def _learn_json(self, a: Any, b: Any) -> None:
        if self.equal_under(a, b):  # nothing this mask does not already know: skip DeepDiff (~0.4 ms)
            return
        _find_unordered(a, b, (), self.unordered)
        for report, levels in json_diff(a, b, self.unordered).items():
            for level in levels:
                path = generalise(level.path(output_format="list"))
                if report == "values_changed":
                    self.values.add(path)
                elif report.startswith("iterable_item"):
                    self.subtrees.add(path[:-1])
                else:  # type changes, keys that come and go
                    self.subtrees.add(path)

    def equal_under(self, a: Any, b: Any, path: Path = ()) -> bool:
        """True if a and b are equal except where this mask already allows it: a learned value (same JSON
        type still required) or an ignored subtree. Conservative: False sends the pair to DeepDiff."""
        if path in self.subtrees:
            return True
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(self.equal_under(a[k], b[k], (*path, k)) for k in a)
        if isinstance(a, list):
            if len(a) != len(b):
                return False
            if path in self.unordered and a != b:  # the same items in another order, or a job for DeepDiff
                return sorted(map(_canon, a)) == sorted(map(_canon, b))
            item = (*path, "*")
            return all(self.equal_under(x, y, item) for x, y in zip(a, b))
        return a == b or path in self.values or () in self.values

    def ignores(self, path: Path) -> bool:
        return any(path[: len(s)] == s for s in self.subtrees)

    def masks_value(self, path: Path) -> bool:
        return path in self.values or any(path[: len(v)] == v and v == () for v in self.values)


def _find_unordered(a: Any, b: Any, path: Path, found: set[Path]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() & b.keys():
            _find_unordered(a[key], b[key], (*path, key), found)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        if a != b and sorted(map(_canon, a)) == sorted(map(_canon, b)):
            found.add(generalise(path))
        elif a != b:
            for x, y in zip(a, b):
                _find_unordered(x, y, (*path, 0), found)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
