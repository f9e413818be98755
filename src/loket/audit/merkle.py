"""RFC 6962 / RFC 9162 Merkle tree hashing, written from the RFC definitions.

Stored tree state follows one rule: every complete, aligned subtree (level L, index i) covering
leaves [i * 2**L, (i + 1) * 2**L) gets its hash written once and never changes. Any tree size's
root, inclusion proof or consistency proof is a fold over O(log n) of those stored hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Coord = tuple[int, int]  # (level, index) of a complete aligned subtree


class ProofError(Exception):
    """A proof does not verify, or was asked for sizes that make no sense."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def dyadic(lo: int, hi: int) -> list[Coord]:
    """The maximal aligned complete subtrees covering leaves [lo, hi), left to right."""
    out: list[Coord] = []
    while lo < hi:
        level = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length() - 1
        while (1 << level) > hi - lo:
            level -= 1
        out.append((level, lo >> level))
        lo += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """Root of a range from its dyadic pieces (descending sizes): fold from the right."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


class TreeBuilder:
    """Append-only builder holding the right edge ("frontier") of the tree.

    `push` takes a complete subtree aligned at the current size (a leaf is level 0) and returns the
    stored nodes (level >= 1) it completes, each exactly once over the life of the log.
    """

    __slots__ = ("_stack", "size")

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        levels = [bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]
        if len(levels) != len(frontier):
            raise ValueError(f"a frontier for size {size} has {len(levels)} hashes, got {len(frontier)}")
        self.size = size
        self._stack: list[tuple[int, bytes]] = list(zip(levels, frontier, strict=True))

    @classmethod
    def from_blob(cls, size: int, blob: bytes) -> TreeBuilder:
        return cls(size, [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)])

    def blob(self) -> bytes:
        return b"".join(h for _, h in self._stack)

    def push(self, level: int, value: bytes) -> list[tuple[int, int, bytes]]:
        if self.size & ((1 << level) - 1):
            raise ValueError(f"a level-{level} subtree cannot start at leaf {self.size}")
        index = self.size >> level
        self.size += 1 << level
        made: list[tuple[int, int, bytes]] = []
        stack = self._stack
        while stack and stack[-1][0] == level:
            value = node_hash(stack.pop()[1], value)
            level += 1
            index >>= 1
            made.append((level, index, value))
        stack.append((level, value))
        return made

    def root(self) -> bytes:
        return fold([h for _, h in self._stack])


def range_hash(lo: int, hi: int, stored: Mapping[Coord, bytes]) -> bytes:
    return fold([stored[c] for c in dyadic(lo, hi)])


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.3.1 PATH(m, D[n]) as leaf ranges, leaf to root."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, n, m = 0, size, index
    while n > 1:
        k = split_point(n)
        if m < k:
            out.append((lo + k, lo + n))
            n = k
        else:
            out.append((lo, lo + k))
            lo, m, n = lo + k, m - k, n - k
    out.reverse()
    return out


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.4.1 PROOF(m, D[n]) as leaf ranges."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    out: list[tuple[int, int]] = []
    lo, m, n, complete = 0, first, second, True
    while m != n:
        k = split_point(n)
        if m <= k:
            out.append((lo + k, lo + n))
            n = k
        else:
            out.append((lo, lo + k))
            lo, m, n, complete = lo + k, m - k, n - k, False
    if not complete:
        out.append((lo, lo + m))
    out.reverse()
    return out


def coords_for(ranges: Sequence[tuple[int, int]]) -> set[Coord]:
    return {c for lo, hi in ranges for c in dyadic(lo, hi)}


def build_proof(ranges: Sequence[tuple[int, int]], get: Callable[[Coord], bytes]) -> list[bytes]:
    return [fold([get(c) for c in dyadic(lo, hi)]) for lo, hi in ranges]


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 2.1.3.2."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError(f"leaf {index} is not in the tree of size {size} with that root")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 2.1.4.2."""
    if not 0 <= first <= second:
        raise ProofError(f"size {first} cannot be a prefix of size {second}")
    if first == second or first == 0:
        if proof:
            raise ProofError("a consistency proof for these sizes must be empty")
        if first == second and first_root != second_root:
            raise ProofError(f"two different roots for the same tree size {first}")
        return
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        raise ProofError("empty consistency proof")
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != first_root or sr != second_root:
        raise ProofError(f"the tree of size {second} does not extend the tree of size {first}")
