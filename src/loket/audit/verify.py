"""The verifier: recompute every leaf and root, check every checkpoint, and locate the first bad index.

It works on a stream of entries (from a database or an evidence bundle) starting at any index, given
the hashes of the complete subtrees left of the first entry, and, for a bundle, those right of the
last entry up to the latest checkpoint. What it cannot locate to one entry (a forger who recomputed
every hash) it locates to the interval between two signed checkpoints.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loket.audit.canonical import Entry
from loket.audit.merkle import EMPTY_ROOT, ProofError, TreeBuilder, dyadic, verify_consistency
from loket.audit.note import NoteError, PublicKey, SignedCheckpoint, open_checkpoint, parse_body, split_note


@dataclass(frozen=True, order=True)
class Finding:
    index: int
    kind: str
    message: str


@dataclass
class VerifyReport:
    tenant: str
    start: int = 0
    end: int = 0
    tree_size: int | None = None
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return min(self.findings) if self.findings else None

    def lines(self) -> list[str]:
        out = [
            f"tenant {self.tenant}: entries {self.start}..{self.end - 1} checked, "
            f"{self.checkpoints} checkpoint(s) verified, latest tree size {self.tree_size}"
        ]
        first = self.first
        if first is None:
            out.append("OK: every leaf, root and checkpoint verifies")
        else:
            out.append(f"FAILED: first bad index {first.index}: {first.kind}: {first.message}")
            out.extend(f"  also index {f.index}: {f.kind}: {f.message}" for f in sorted(self.findings)[1:20])
        out.extend(f"warning: {w}" for w in self.warnings)
        return out

    def to_json(self) -> dict[str, Any]:
        first = self.first
        return {
            "tenant": self.tenant,
            "ok": self.ok,
            "entries": [self.start, self.end],
            "tree_size": self.tree_size,
            "checkpoints_verified": self.checkpoints,
            "first_bad_index": None if first is None else first.index,
            "findings": [{"index": f.index, "kind": f.kind, "message": f.message} for f in sorted(self.findings)],
            "warnings": self.warnings,
        }


class Verifier:
    def __init__(
        self,
        tenant: str,
        keys: Sequence[PublicKey],
        *,
        start: int = 0,
        left: Sequence[bytes] = (),
        keep_nodes: bool = False,
    ) -> None:
        self.report = VerifyReport(tenant, start=start, end=start)
        self._keys = [k for k in keys if k.tenant == tenant]
        self._builder = TreeBuilder()
        self._by_size: dict[int, list[tuple[SignedCheckpoint, bool]]] = defaultdict(list)
        self._good = start  # largest size whose root matched a checkpoint, or where the entries start
        self._broken: int | None = None
        self._all: list[SignedCheckpoint] = []
        # the subtree hashes recomputed from the entries, per level, in index order (database checks)
        self.nodes: dict[int, bytearray] | None = defaultdict(bytearray) if keep_nodes else None
        pieces = dyadic(0, start)
        if len(pieces) != len(left):
            self._find(start, "malformed", f"expected {len(pieces)} left subtree hashes, got {len(left)}")
            self._broken = start
        else:
            for (level, _), value in zip(pieces, left, strict=True):
                self._builder.push(level, value)
        if not self._keys:
            self.report.warnings.append(f"no public key known for tenant {tenant}")

    def root(self) -> bytes:
        return self._builder.root()

    def _find(self, index: int, kind: str, message: str) -> None:
        self.report.findings.append(Finding(index, kind, message))

    def add_checkpoint(self, text: str, *, trusted: bool = False) -> SignedCheckpoint | None:
        """Check signature, key validity and origin; keep it for the root checks."""
        try:
            signed = open_checkpoint(text, self._keys)
            if signed.checkpoint.origin != signed.key.name:
                raise NoteError(f"origin {signed.checkpoint.origin!r} does not match key name {signed.key.name!r}")
        except NoteError as exc:
            self._find(self._size_of(text), "checkpoint", f"checkpoint rejected: {exc}")
            return None
        self._by_size[signed.checkpoint.size].append((signed, trusted))
        self._all.append(signed)
        return signed

    def _size_of(self, text: str) -> int:
        try:
            return parse_body(split_note(text)[0]).size
        except NoteError:
            return self.report.start

    def feed(self, entry: Entry, recorded: bytes | None) -> None:
        position = self._builder.size
        self.report.end = position + 1 if self._broken is None else self.report.end + 1
        if self._broken is not None:
            return
        if entry.index != position:
            if entry.index > position:
                self._find(position, "missing", f"index {position} is missing: the entry here claims {entry.index}")
            else:
                self._find(entry.index, "duplicate", f"index {entry.index} appears again at position {position}")
            self._broken = position
            return
        digest = entry.leaf_hash()
        if recorded is not None and recorded != digest:
            if position and entry.at_index(position - 1).leaf_hash() == recorded:
                self._find(
                    position - 1, "inserted", f"entry {position} was recorded as {position - 1}: inserted before it"
                )
                self._broken = position
                return
            if entry.at_index(position + 1).leaf_hash() == recorded:
                self._find(position, "missing", f"entry {position} was recorded as {position + 1}: deleted before it")
                self._broken = position
                return
            self._find(position, "altered", f"{entry.type}: content does not match the recorded leaf hash")
        made = self._builder.push(0, digest)
        if self.nodes is not None:
            for level, _, value in made:
                self.nodes[level] += value
        if self._builder.size in self._by_size:
            self._check_root(self._builder.size)

    def _explained(self, lo: int, hi: int) -> bool:
        return any(lo <= f.index < hi for f in self.report.findings)

    def _check_root(self, size: int) -> None:
        root = self._builder.root()
        for signed, trusted in self._by_size.pop(size):
            if signed.checkpoint.root == root:
                self.report.checkpoints += 1
                self._good = max(self._good, size)
            elif not self._explained(self._good, size):
                kind = "fork" if trusted else "rewritten"
                whose = "your trusted checkpoint" if trusted else "the checkpoint"
                self._find(
                    self._good,
                    kind,
                    f"entries {self._good}..{size - 1} do not hash to the root in {whose} of size {size}"
                    " (history rewritten with recomputed hashes, or a forked log)",
                )

    def finish(
        self, *, right: Sequence[bytes] | None = None, consistency: Mapping[int, Sequence[bytes]] | None = None
    ) -> VerifyReport:
        """`right`: the subtree hashes from the last entry to the latest checkpoint (bundles); without
        it, the log must reach every checkpoint. `consistency`: proofs from each size to the latest."""
        report = self.report
        end = self._builder.size
        latest = max(self._all, key=lambda s: (s.checkpoint.size, s.checkpoint.time), default=None)
        report.tree_size = None if latest is None else latest.checkpoint.size
        self._check_times(latest)
        if self._broken is not None:
            report.warnings.append(f"the sequence breaks at {self._broken}: later checkpoints were not checked")
            return report
        if right is not None and latest is not None and latest.checkpoint.size > end:
            pieces = dyadic(end, latest.checkpoint.size)
            if len(pieces) != len(right):
                self._find(end, "malformed", f"expected {len(pieces)} right subtree hashes, got {len(right)}")
                return report
            for (level, _), value in zip(pieces, right, strict=True):
                self._builder.push(level, value)
            self._check_root(latest.checkpoint.size)
        for size in sorted(self._by_size):
            for signed, trusted in self._by_size[size]:
                self._check_other(signed, trusted, end, latest, right is not None, consistency or {})
        self._by_size.clear()
        covered = 0 if latest is None else latest.checkpoint.size
        if end > covered:
            report.warnings.append(f"entries {covered}..{end - 1} are not yet covered by a signed checkpoint")
        return report

    def _check_times(self, latest: SignedCheckpoint | None) -> None:
        if latest is None:
            return
        ordered = sorted(self._all, key=lambda s: (s.checkpoint.size, s.checkpoint.time))
        for before, after in itertools.pairwise(ordered):
            if after.checkpoint.time < before.checkpoint.time:
                self._find(
                    after.checkpoint.size,
                    "time",
                    f"checkpoint of size {after.checkpoint.size} is timed before the one of size "
                    f"{before.checkpoint.size} (back-dated)",
                )
        current = [k for k in self._keys if k.retired_at is None]
        newest = max((k.valid_from for k in current), default=None)
        if newest is not None and any(k.retired_at for k in self._keys) and latest.checkpoint.time < newest:
            cut = max(latest.checkpoint.size, self._builder.size)
            self._find(
                cut,
                "truncated",
                f"the latest checkpoint (size {latest.checkpoint.size}) predates the current signing key: "
                f"every rotation is followed by a checkpoint under the new key, so the log was cut back to {cut}",
            )

    def _check_other(
        self,
        signed: SignedCheckpoint,
        trusted: bool,
        end: int,
        latest: SignedCheckpoint | None,
        bundle: bool,
        consistency: Mapping[int, Sequence[bytes]],
    ) -> None:
        size = signed.checkpoint.size
        if size == 0:
            if signed.checkpoint.root != EMPTY_ROOT:
                self._find(0, "checkpoint", "a checkpoint of the empty log with a non-empty root")
            else:
                self.report.checkpoints += 1
            return
        if not bundle and size > end:
            self._find(end, "truncated", f"a checkpoint of size {size} exists but the log ends at index {end - 1}")
            return
        if latest is None or size > latest.checkpoint.size:
            return
        proof = consistency.get(size)
        if proof is None:
            self.report.warnings.append(f"no consistency proof for the checkpoint of size {size}: not checked")
            return
        try:
            verify_consistency(size, latest.checkpoint.size, signed.checkpoint.root, latest.checkpoint.root, proof)
        except ProofError as exc:
            kind = "fork" if trusted else "inconsistent"
            self._find(min(size, self._good), kind, f"checkpoint of size {size} is inconsistent with the latest: {exc}")
            return
        self.report.checkpoints += 1
