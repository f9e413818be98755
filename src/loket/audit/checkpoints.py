"""Cutting signed checkpoints, and the inclusion and consistency proofs served against them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from loket.audit.keys import KeyRing
from loket.audit.log import AuditLog
from loket.audit.merkle import (
    EMPTY_ROOT,
    ProofError,
    TreeBuilder,
    build_proof,
    consistency_ranges,
    coords_for,
    dyadic,
    inclusion_ranges,
)
from loket.audit.note import Checkpoint, PublicKey, SignedCheckpoint, sign, ts
from loket.audit.store import Executor, head, heads, lock_head, stored_hashes
from loket.audit.tables import AuditCheckpoint, AuditKey
from loket.clock import Clock, system_clock
from loket.db.upsert import insert_ignore


@dataclass(frozen=True)
class StoredCheckpoint:
    tenant: str
    size: int
    root: bytes
    time: int
    note: str


def _stored(row: AuditCheckpoint) -> StoredCheckpoint:
    return StoredCheckpoint(row.tenant_id, int(row.tree_size), bytes(row.root_hash), int(row.signed_at), row.note)


async def cut_checkpoint(keyring: KeyRing, tenant: str) -> SignedCheckpoint:
    """Sign the tenant's current tree head (also when nothing changed, e.g. right after a key rotation)."""
    async with keyring.db.transaction() as session:
        # holding the head lock: the signed head is the current one, and concurrent cutters in other
        # processes cannot both create a first key for the tenant
        size, frontier = await lock_head(session, tenant, keyring.clock.now())
        root = TreeBuilder.from_blob(size, frontier).root() if size else EMPTY_ROOT
        signer = await keyring.signer(session, tenant)
        checkpoint = Checkpoint(keyring.origin(tenant), size, root, ts(keyring.clock.now()))
        text = sign(checkpoint, signer.key.name, signer.private)
        values = {
            "tenant_id": tenant,
            "tree_size": size,
            "root_hash": root,
            "signed_at": checkpoint.time,
            "key_ref": signer.ref,
            "note": text,
        }
        statement = insert_ignore(keyring.db.dialect, AuditCheckpoint, "tenant_id", "tree_size", "key_ref")
        await session.execute(statement.values(**values))
        return SignedCheckpoint(checkpoint, signer.key, text)


async def rotate_key(
    keyring: KeyRing, tenant: str, *, by: str | None = None, log: AuditLog | None = None
) -> tuple[PublicKey | None, PublicKey, SignedCheckpoint]:
    """Rotate the tenant's signing key and sign a checkpoint with the new key at once: verifiers rely
    on every rotation being followed by such a checkpoint to detect a log cut back past it."""
    old, new = await keyring.rotate(tenant, by=by, log=log)
    return old, new, await cut_checkpoint(keyring, tenant)


async def maybe_checkpoint(
    keyring: KeyRing, *, every_seconds: float = 300.0, every_entries: int = 10_000, clock: Clock | None = None
) -> list[SignedCheckpoint]:
    """Cut a checkpoint for each tenant whose log grew by `every_entries`, or grew at all and whose last
    checkpoint is older than `every_seconds`. The worker calls this periodically; safe to run in several
    processes at once (a duplicate cut of the same size and key is ignored)."""
    now = ts((clock or keyring.clock or system_clock).now())
    cut: list[SignedCheckpoint] = []
    async with keyring.db.sessions() as session:
        tenants = await heads(session)
        latest = {c.tenant: c for c in [await latest_checkpoint(session, h.tenant) for h in tenants] if c}
    for current in tenants:
        last = latest.get(current.tenant)
        grown = current.size - (last.size if last else 0)
        if last is None or grown >= every_entries or (grown > 0 and now - last.time >= every_seconds):
            cut.append(await cut_checkpoint(keyring, current.tenant))
    return cut


async def latest_checkpoint(ex: Executor, tenant: str) -> StoredCheckpoint | None:
    query = (
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tenant_id == tenant)
        .order_by(AuditCheckpoint.tree_size.desc(), AuditCheckpoint.signed_at.desc(), AuditCheckpoint.id.desc())
        .limit(1)
    )
    row = (await ex.execute(query)).scalars().first()
    return None if row is None else _stored(row)


async def checkpoints(ex: Executor, tenant: str) -> list[StoredCheckpoint]:
    query = (
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tenant_id == tenant)
        .order_by(AuditCheckpoint.tree_size, AuditCheckpoint.signed_at, AuditCheckpoint.id)
    )
    return [_stored(row) for row in (await ex.execute(query)).scalars()]


async def keys_of(ex: Executor, tenant: str) -> list[PublicKey]:
    rows = (await ex.execute(select(AuditKey).where(AuditKey.tenant_id == tenant))).scalars()
    return [PublicKey(r.tenant_id, r.name, bytes(r.public_key), int(r.valid_from), r.retired_at) for r in rows]


async def _check_size(ex: Executor, tenant: str, size: int) -> None:
    current = (await head(ex, tenant)).size
    if size > current:
        raise ProofError(f"tree size {size} is larger than the log of {tenant} ({current} entries)")


async def inclusion_proof(ex: Executor, tenant: str, index: int, size: int) -> tuple[bytes, list[bytes]]:
    """The leaf hash of entry `index` and its audit path in the tree of `size` leaves."""
    await _check_size(ex, tenant, size)
    ranges = inclusion_ranges(index, size)
    hashes = await stored_hashes(ex, tenant, coords_for(ranges) | {(0, index)})
    return hashes[(0, index)], build_proof(ranges, hashes.__getitem__)


async def consistency_proof(ex: Executor, tenant: str, first: int, second: int) -> list[bytes]:
    await _check_size(ex, tenant, second)
    ranges = consistency_ranges(first, second)
    hashes = await stored_hashes(ex, tenant, coords_for(ranges))
    return build_proof(ranges, hashes.__getitem__)


async def range_hashes(ex: Executor, tenant: str, lo: int, hi: int) -> list[bytes]:
    """Hashes of the dyadic pieces of [lo, hi): what a bundle needs beside its own entries."""
    pieces = dyadic(lo, hi)
    stored = await stored_hashes(ex, tenant, pieces)
    return [stored[c] for c in pieces]
