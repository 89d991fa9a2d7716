"""Bodies too large to keep: size, sha256, the first bytes and a hash per 64 KiB block, built while the
answer streams in, so a 10 MB body never sits in memory and the first differing block is still known."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["BodyDigest", "Digester", "digest_of", "BLOCK", "HEAD"]

BLOCK = 65536
HEAD = 4096


@dataclass(frozen=True)
class BodyDigest:
    size: int
    sha256: str
    first_bytes: bytes
    blocks: tuple[str, ...]

    def first_difference(self, other: "BodyDigest") -> int:
        """The offset of the first differing byte (exact within the first 4 KiB, else its block's start)."""
        for i, (x, y) in enumerate(zip(self.first_bytes, other.first_bytes)):
            if x != y:
                return i
        for i, (x, y) in enumerate(zip(self.blocks, other.blocks)):
            if x != y:
                return max(i * BLOCK, min(HEAD, len(self.first_bytes)))
        return min(self.size, other.size)


class Digester:
    def __init__(self) -> None:
        self.size, self.sha = 0, hashlib.sha256()
        self.head, self.pending, self.blocks = bytearray(), bytearray(), []

    def update(self, data: bytes) -> None:
        self.size += len(data)
        self.sha.update(data)
        if len(self.head) < HEAD:
            self.head += data[: HEAD - len(self.head)]
        self.pending += data
        while len(self.pending) >= BLOCK:
            self.blocks.append(hashlib.sha1(self.pending[:BLOCK]).hexdigest())
            del self.pending[:BLOCK]

    def result(self) -> BodyDigest:
        tail = [hashlib.sha1(self.pending).hexdigest()] if self.pending else []
        return BodyDigest(self.size, self.sha.hexdigest(), bytes(self.head), (*self.blocks, *tail))


def digest_of(raw: bytes) -> BodyDigest:
    digester = Digester()
    digester.update(raw)
    return digester.result()
