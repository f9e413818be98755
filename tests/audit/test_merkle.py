"""The Merkle code against a direct, recursive transcription of RFC 6962 section 2.1."""

from __future__ import annotations

import hashlib

import pytest

from loket.audit import merkle
from loket.audit.merkle import ProofError, TreeBuilder


def mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


LEAVES = [f"entry {i}".encode() for i in range(40)]


def stored_tree(count: int) -> tuple[TreeBuilder, dict[merkle.Coord, bytes]]:
    builder = TreeBuilder()
    stored: dict[merkle.Coord, bytes] = {}
    for i, data in enumerate(LEAVES[:count]):
        h = merkle.leaf_hash(data)
        stored[(0, i)] = h
        for level, index, value in builder.push(0, h):
            stored[(level, index)] = value
    return builder, stored


def test_known_vectors() -> None:
    # Computed by hand from the definitions: the empty tree, one leaf, and two leaves.
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    one = hashlib.sha256(b"\x00" + b"a").digest()
    two = hashlib.sha256(b"\x00" + b"b").digest()
    assert mth([b"a"]) == one
    assert mth([b"a", b"b"]) == hashlib.sha256(b"\x01" + one + two).digest()


@pytest.mark.parametrize("size", range(41))
def test_builder_root_matches_definition(size: int) -> None:
    builder, stored = stored_tree(size)
    assert builder.root() == mth(LEAVES[:size])
    assert TreeBuilder.from_blob(size, builder.blob()).root() == builder.root()
    # every complete aligned subtree is stored exactly once
    for level in range(1, 7):
        for index in range(size >> level):
            lo = index << level
            assert stored[(level, index)] == mth(LEAVES[lo : lo + (1 << level)])
    for sub in range(size + 1):
        assert merkle.range_hash(0, sub, stored) == mth(LEAVES[:sub])


def test_inclusion_proofs_match_definition_and_verify() -> None:
    _, stored = stored_tree(40)
    for n in range(1, 41):
        root = mth(LEAVES[:n])
        for m in range(n):
            proof = merkle.build_proof(merkle.inclusion_ranges(m, n), stored.__getitem__)
            assert proof == path(m, LEAVES[:n])
            merkle.verify_inclusion(m, n, merkle.leaf_hash(LEAVES[m]), proof, root)
            with pytest.raises(ProofError):
                merkle.verify_inclusion(m, n, merkle.leaf_hash(b"forged"), proof, root)
            if proof:
                with pytest.raises(ProofError):
                    merkle.verify_inclusion(m, n, merkle.leaf_hash(LEAVES[m]), proof[:-1], root)


def test_consistency_proofs_match_definition_and_verify() -> None:
    _, stored = stored_tree(40)
    for n in range(1, 41):
        second = mth(LEAVES[:n])
        for m in range(n + 1):
            proof = merkle.build_proof(merkle.consistency_ranges(m, n), stored.__getitem__)
            expected = [] if m in (0, n) else subproof(m, LEAVES[:n], True)
            assert proof == expected
            merkle.verify_consistency(m, n, mth(LEAVES[:m]), second, proof)
            if 0 < m < n:
                forked = [*LEAVES[: m - 1], b"fork", *LEAVES[m:n]]
                with pytest.raises(ProofError):
                    merkle.verify_consistency(m, n, mth(LEAVES[:m]), mth(forked), proof)
                with pytest.raises(ProofError):
                    merkle.verify_consistency(m, n, mth(forked[:m]), second, proof)


def test_dyadic_pieces_are_aligned_and_cover() -> None:
    for lo in range(0, 33):
        for hi in range(lo, 40):
            covered = []
            for level, index in merkle.dyadic(lo, hi):
                covered.extend(range(index << level, (index + 1) << level))
            assert covered == list(range(lo, hi))


def test_builder_rejects_misaligned_subtrees() -> None:
    builder = TreeBuilder()
    builder.push(0, merkle.leaf_hash(b"x"))
    with pytest.raises(ValueError, match="cannot start"):
        builder.push(1, merkle.leaf_hash(b"y"))
