"""Each attack on the log is detected and the report names the index, on a live database and in a bundle."""

from __future__ import annotations

import base64
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from loket.audit.bundle import export_bundle, verify_bundle
from loket.audit.canonical import Entry
from loket.audit.checkpoints import cut_checkpoint
from loket.audit.events import EventType
from loket.audit.keys import KeyRing
from loket.audit.log import AuditEvent, AuditLog
from loket.audit.merkle import TreeBuilder
from loket.audit.note import Checkpoint, PublicKey, sign, ts
from loket.audit.tables import AuditCheckpoint, AuditEntry, AuditHead, AuditKey, AuditNode
from loket.audit.verify_db import verify_database
from loket.clock import FakeClock
from loket.db.engine import Database

T = "bank-nusantara"
START = FakeClock().now()  # entry i is timed START + (i + 1) minutes


async def fill(audit: AuditLog, keyring: KeyRing, clock: FakeClock, count: int = 40, every: int = 10) -> None:
    for i in range(count):
        clock.advance(60)
        await audit.record(
            EventType.PII_REVEALED,
            tenant=T,
            actor=f"staff:{i % 3}",
            fields={
                "staff": f"staff:{i % 3}",
                "customer": f"62812000{i:04d}",
                "field": "account",
                "reason": "complaint",
            },
        )
        if (i + 1) % every == 0:
            await cut_checkpoint(keyring, T)


async def pinned(keyring: KeyRing) -> list[PublicKey]:
    return await keyring.public_keys(T)


async def test_an_untouched_log_verifies(audit: AuditLog, keyring: KeyRing, clock: FakeClock, db: Database) -> None:
    await fill(audit, keyring, clock)
    report = await verify_database(db, T, keys=await pinned(keyring))
    assert report.ok, report.lines()
    assert report.end == 40 and report.checkpoints == 4 and report.tree_size == 40


async def test_changed_field_is_located(audit: AuditLog, keyring: KeyRing, clock: FakeClock, db: Database) -> None:
    await fill(audit, keyring, clock)
    keys = await pinned(keyring)
    async with db.transaction() as session:
        row = (await session.execute(select(AuditEntry).where(AuditEntry.seq == 17))).scalar_one()
        await session.execute(
            update(AuditEntry).where(AuditEntry.seq == 17).values(fields={**row.fields, "reason": "audit"})
        )
    report = await verify_database(db, T, keys=keys)
    assert report.first is not None and (report.first.index, report.first.kind) == (17, "altered")


async def test_changed_field_with_recomputed_leaf_hash_is_located(
    audit: AuditLog, keyring: KeyRing, clock: FakeClock, db: Database
) -> None:
    await fill(audit, keyring, clock)
    keys = await pinned(keyring)
    async with db.transaction() as session:
        row = (await session.execute(select(AuditEntry).where(AuditEntry.seq == 17))).scalar_one()
        forged = Entry(T, 17, row.event_type, row.occurred_at, row.actor, {**row.fields, "reason": "audit"})
        await session.execute(
            update(AuditEntry).where(AuditEntry.seq == 17).values(fields=forged.fields, leaf_hash=forged.leaf_hash())
        )
    report = await verify_database(db, T, keys=keys)
    # located to the interval between the last good checkpoint (10) and the next one (20)
    assert report.first is not None and (report.first.index, report.first.kind) == (10, "rewritten")
    assert "10..19" in report.first.message


async def test_deleted_entry_is_located(audit: AuditLog, keyring: KeyRing, clock: FakeClock, db: Database) -> None:
    await fill(audit, keyring, clock)
    keys = await pinned(keyring)
    async with db.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 23))
    report = await verify_database(db, T, keys=keys)
    assert report.first is not None and (report.first.index, report.first.kind) == (23, "missing")


async def test_swapped_entries_are_located(audit: AuditLog, keyring: KeyRing, clock: FakeClock, db: Database) -> None:
    await fill(audit, keyring, clock)
    keys = await pinned(keyring)
    async with db.transaction() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 5).values(seq=-1))
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 31).values(seq=5))
        await session.execute(update(AuditEntry).where(AuditEntry.seq == -1).values(seq=31))
    report = await verify_database(db, T, keys=keys)
    assert report.first is not None and (report.first.index, report.first.kind) == (5, "altered")
    assert {f.index for f in report.findings} >= {5, 31}


async def test_inserted_forged_entry_is_located(
    audit: AuditLog, keyring: KeyRing, clock: FakeClock, db: Database
) -> None:
    await fill(audit, keyring, clock)
    keys = await pinned(keyring)
    async with db.transaction() as session:
        for seq in range(39, 11, -1):  # make room at 12, top down to keep the key unique
            await session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq + 1))
        forged = Entry(T, 12, "staff.logout", START, "staff:0", {"staff": "staff:0"})
        await session.execute(
            AuditEntry.__table__.insert().values(
                tenant_id=T,
                seq=12,
                event_type=forged.type,
                occurred_at=forged.at,
                actor=forged.actor,
                fields=forged.fields,
                leaf_hash=forged.leaf_hash(),
            )
        )
        await session.execute(update(AuditHead).values(size=41))
    report = await verify_database(db, T, keys=keys)
    assert report.first is not None and (report.first.index, report.first.kind) == (12, "inserted")


async def rebuild_tree(db: Database, keep: int) -> None:
    """What a forger with database access does: cut the log to `keep` entries and recompute every hash."""
    async with db.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq >= keep))
        await session.execute(delete(AuditNode))
        leaves = (await session.execute(select(AuditEntry.leaf_hash).order_by(AuditEntry.seq))).scalars().all()
        builder = TreeBuilder()
        for leaf in leaves:
            for level, idx, value in builder.push(0, leaf):
                await session.execute(
                    AuditNode.__table__.insert().values(tenant_id=T, level=level, idx=idx, hash=value)
                )
        await session.execute(update(AuditHead).values(size=keep, frontier=builder.blob()))


async def _truncate_and_resign(db: Database, keyring: KeyRing, stolen_row: AuditKey, size: int, when: int) -> None:
    stolen = keyring._unseal(stolen_row)
    await rebuild_tree(db, size)
    async with db.transaction() as session:
        await session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.tree_size > size))
        root = (await session.execute(select(AuditHead))).scalar_one()
        builder = TreeBuilder.from_blob(root.size, root.frontier)
        note = sign(Checkpoint(keyring.origin(T), size, builder.root(), when), stolen.key.name, stolen.private)
        await session.execute(
            AuditCheckpoint.__table__.insert().values(
                tenant_id=T, tree_size=size, root_hash=builder.root(), signed_at=when, key_ref=stolen.ref, note=note
            )
        )


@pytest.mark.parametrize("backdated", [False, True])
async def test_truncation_resigned_with_a_stolen_retired_key(
    audit: AuditLog, keyring: KeyRing, clock: FakeClock, db: Database, backdated: bool
) -> None:
    await fill(audit, keyring, clock, count=25)
    async with db.sessions() as session:
        old_row = (await session.execute(select(AuditKey))).scalar_one()
    clock.advance(3600)
    await keyring.rotate(T)
    await cut_checkpoint(keyring, T)
    await fill(audit, keyring, clock, count=10)
    keys = await pinned(keyring)  # what the examiner pinned from the published key list
    clock.advance(3600)
    when = ts(clock.now()) if not backdated else int(old_row.valid_from) + 10
    await _truncate_and_resign(db, keyring, old_row, 18, when)
    report = await verify_database(db, T, keys=keys)
    assert report.first is not None and report.first.index == 18, report.lines()
    kinds = {f.kind for f in report.findings}
    assert ("checkpoint" in kinds and "retired" in report.first.message) if not backdated else "truncated" in kinds


async def test_checkpoint_from_a_forked_log(
    audit: AuditLog, keyring: KeyRing, clock: FakeClock, db: Database, tmp_path: Path
) -> None:
    await fill(audit, keyring, clock, count=30)
    keys = await pinned(keyring)
    async with db.sessions() as session:
        kept = (await session.execute(select(AuditCheckpoint.note).where(AuditCheckpoint.tree_size == 30))).scalar_one()
    # The operator rewrites history from index 22 on, recomputes everything and re-signs with the live key.
    await rebuild_tree(db, 22)
    async with db.transaction() as session:
        await session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.tree_size > 20))
    await audit.record_many([AuditEvent(EventType.STAFF_LOGOUT, T, {"staff": "staff:7"}) for _ in range(10)])
    await cut_checkpoint(keyring, T)
    own = await verify_database(db, T, keys=keys)
    assert own.ok, own.lines()  # self-consistent: only the examiner's kept checkpoint reveals the fork
    report = await verify_database(db, T, keys=keys, trusted=[kept])
    assert report.first is not None and (report.first.index, report.first.kind) == (20, "fork")
    # and the same through a bundle
    out = tmp_path / "fork.zip"
    await export_bundle(keyring, T, START, START + timedelta(days=30), out)
    report = verify_bundle(out, keys=keys, trusted=[kept])
    assert report.first is not None and report.first.kind == "fork" and report.first.index == 20


# --- the same attacks on an exported bundle ---------------------------------------------------------


async def bundle(audit: AuditLog, keyring: KeyRing, clock: FakeClock, tmp_path: Path) -> tuple[Path, list[PublicKey]]:
    await fill(audit, keyring, clock, count=40)
    await audit.record_many([AuditEvent(EventType.STAFF_LOGOUT, T, {"staff": "staff:1"}) for _ in range(5)])
    await cut_checkpoint(keyring, T)
    out = tmp_path / "evidence.zip"
    # the period covers entries 5..34 (one entry a minute from START + 1 minute)
    await export_bundle(keyring, T, START + timedelta(minutes=6), START + timedelta(minutes=36), out)
    return out, await pinned(keyring)


def rewrite(path: Path, edit: object) -> Path:
    out = path.with_name("tampered.zip")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "entries.jsonl":
                lines = [json.loads(line) for line in data.splitlines()]
                lines = edit(lines)  # type: ignore[operator]
                data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
            dst.writestr(name, data)
    return out


async def test_bundle_verifies_offline(audit: AuditLog, keyring: KeyRing, clock: FakeClock, tmp_path: Path) -> None:
    path, keys = await bundle(audit, keyring, clock, tmp_path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert set(zf.namelist()) >= {"README.txt", "entries.jsonl", "proofs.json", "keys.json", "checkpoints.json"}
    assert manifest["entries"] == [5, 35] and manifest["tree_size"] == 45
    report = verify_bundle(path, keys=keys)
    assert report.ok, report.lines()
    assert (report.start, report.end, report.tree_size) == (5, 35, 45)
    assert report.checkpoints >= 4


def _change_field(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    leaf = lines[12]["leaf"]
    assert isinstance(leaf, dict)
    leaf["actor"] = "staff:99"
    return lines


def _change_field_and_hash(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    _change_field(lines)
    entry = Entry.from_leaf(lines[12]["leaf"])  # type: ignore[arg-type]
    lines[12]["leaf_hash"] = base64.b64encode(entry.leaf_hash()).decode()
    return lines


def _change_early_field_and_hash(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    lines[1], lines[12] = lines[12], lines[1]
    _change_field_and_hash(lines)
    lines[1], lines[12] = lines[12], lines[1]
    return lines


def _forge(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    entry = Entry(T, 20, "staff.logout", START, "staff:0", {"staff": "staff:0"})
    forged = {"index": 20, "leaf": entry.leaf(), "leaf_hash": base64.b64encode(entry.leaf_hash()).decode()}
    return [*lines[:15], forged, *lines[15:]]


@pytest.mark.parametrize(
    ("edit", "index", "kind"),
    [
        (_change_field, 17, "altered"),
        (_change_field_and_hash, 10, "rewritten"),
        (_change_early_field_and_hash, 5, "rewritten"),
        (lambda lines: [*lines[:8], *lines[9:]], 13, "missing"),
        (lambda lines: [*lines[:3], lines[9], *lines[4:9], lines[3], *lines[10:]], 8, "missing"),
        (_forge, 20, "duplicate"),
    ],
    ids=["changed-field", "changed-field-and-hash", "before-first-checkpoint", "deleted", "swapped", "inserted"],
)
async def test_bundle_attacks_are_located(
    audit: AuditLog, keyring: KeyRing, clock: FakeClock, tmp_path: Path, edit: object, index: int, kind: str
) -> None:
    path, keys = await bundle(audit, keyring, clock, tmp_path)
    report = verify_bundle(rewrite(path, edit), keys=keys)
    assert report.first is not None, report.lines()
    assert (report.first.index, report.first.kind) == (index, kind), report.lines()
    assert any("manifest" in w for w in report.warnings)


async def test_corrupted_stored_subtree_hash_is_located(
    audit: AuditLog, keyring: KeyRing, clock: FakeClock, db: Database
) -> None:
    await fill(audit, keyring, clock)
    keys = await pinned(keyring)
    async with db.transaction() as session:
        await session.execute(
            update(AuditNode).where(AuditNode.level == 2, AuditNode.idx == 5).values(hash=b"\x00" * 32)
        )
    report = await verify_database(db, T, keys=keys)
    assert report.first is not None and (report.first.index, report.first.kind) == (20, "node")
