"""record(): validation, pseudonyms, transactions, a dense sequence under concurrency, stored tree state."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from loket import audit as audit_pkg
from loket.audit import merkle
from loket.audit.checkpoints import consistency_proof, cut_checkpoint, inclusion_proof, maybe_checkpoint
from loket.audit.events import AuditEventError, EventType
from loket.audit.keys import KeyRing
from loket.audit.log import AuditEvent, AuditLog
from loket.audit.note import open_checkpoint
from loket.audit.store import head, stream_entries
from loket.audit.tables import AuditEntry
from loket.clock import FakeClock
from loket.db.engine import Database
from support import TEST_SCOPE

T = "bank-nusantara"
PHONE = "6281234567890"


def login(staff: str = "staff:1") -> AuditEvent:
    return AuditEvent(EventType.STAFF_LOGIN, T, {"staff": staff, "method": "password_totp"}, actor=staff)


async def test_record_pseudonymises_personal_fields(audit: AuditLog, db: Database) -> None:
    receipt = await audit.record(
        EventType.MESSAGE_RECEIVED,
        tenant=T,
        fields={"wamid": "wamid.1", "phone_number_id": "109", "customer": PHONE, "kind": "text", "body": "saldo"},
    )
    assert receipt.index == 0
    async with db.sessions() as session:
        entries = [e async for e, _ in stream_entries(session, T)]
    leaf = entries[0].leaf_bytes()
    assert PHONE.encode() not in leaf and b"saldo" not in leaf
    assert entries[0].fields["customer"].startswith("hmac1:")
    # the same person has the same pseudonym within a tenant, another one across tenants
    same = audit.pseudonymizer.pseudonym(T, PHONE)
    assert entries[0].fields["customer"] == same
    assert audit.pseudonymizer.pseudonym("other", PHONE) != same
    assert entries[0].leaf_hash() == receipt.leaf_hash


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"staff": "staff:1"}, "missing required field method"),
        ({"staff": "staff:1", "method": "pw", "name": "Siti"}, "undeclared field"),
        ({"staff": "staff:1", "method": "Password TOTP"}, "expected a code"),
        ({"staff": 7, "method": "pw"}, "expected an identifier"),
    ],
)
async def test_catalogue_rejects_bad_events(
    audit: AuditLog, db: Database, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(AuditEventError, match=message):
        await audit.record(EventType.STAFF_LOGIN, tenant=T, fields=fields)
    async with db.sessions() as session:
        assert (await head(session, T)).size == 0


async def test_entry_commits_and_rolls_back_with_the_callers_transaction(audit: AuditLog, db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await audit.record(EventType.STAFF_LOGOUT, tenant=T, fields={"staff": "staff:1"}, session=session)
            raise RuntimeError("business change failed")
    async with db.transaction() as session:
        await audit.record(EventType.STAFF_LOGOUT, tenant=T, fields={"staff": "staff:1"}, session=session)
    async with db.connect() as conn:
        await audit.record(EventType.STAFF_LOGOUT, tenant=T, fields={"staff": "staff:2"}, session=conn)
    async with db.sessions() as session:
        current = await head(session, T)
        count = (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    assert current.size == count == 2


async def test_module_level_record_uses_the_installed_log(audit: AuditLog) -> None:
    with pytest.raises(RuntimeError, match="no audit log installed"):
        await audit_pkg.record(EventType.STAFF_LOGOUT, tenant=T, fields={"staff": "staff:9"})
    audit_pkg.install(audit)
    try:
        receipt = await audit_pkg.record(EventType.STAFF_LOGOUT, tenant=T, fields={"staff": "staff:9"})
    finally:
        audit_pkg.install(None)
    assert receipt.index == 0


async def test_concurrent_writers_keep_a_dense_sequence(audit: AuditLog, db: Database) -> None:
    async def writer(n: int) -> None:
        for i in range(10):
            await audit.record_many([login(f"staff:{n}"), login(f"staff:{n}-{i}")])

    await asyncio.gather(*(writer(n) for n in range(8)))
    async with db.sessions() as session:
        seqs = [e.index async for e, _ in stream_entries(session, T)]
        current = await head(session, T)
    assert seqs == list(range(160))
    assert current.size == 160


async def test_two_processes_worth_of_engines_keep_a_dense_sequence(
    database_url: str, clock: FakeClock, audit: AuditLog
) -> None:
    other = Database(database_url, default_scope=TEST_SCOPE)
    try:
        second = AuditLog(other, audit.pseudonymizer, clock=clock)

        async def writer(log: AuditLog) -> None:
            for _ in range(15):
                await log.record_many([login(), login()])

        await asyncio.gather(writer(audit), writer(second), writer(audit), writer(second))
    finally:
        await other.dispose()
    async with audit.db.sessions() as session:
        seqs = [e.index async for e, _ in stream_entries(session, T)]
        root = (await head(session, T)).root()
        leaves = [e.leaf_hash() async for e, _ in stream_entries(session, T)]
    assert seqs == list(range(120))
    builder = merkle.TreeBuilder()
    for leaf in leaves:
        builder.push(0, leaf)
    assert builder.root() == root


async def test_proofs_from_the_database_verify(audit: AuditLog, keyring: KeyRing, db: Database) -> None:
    await audit.record_many([login(f"staff:{i}") for i in range(13)])
    first = await cut_checkpoint(keyring, T)
    await audit.record_many([login(f"staff:{i}") for i in range(20)])
    second = await cut_checkpoint(keyring, T)
    keys = await keyring.public_keys(T)
    assert open_checkpoint(second.text, keys, origin=keyring.origin(T)).checkpoint.size == 33
    async with db.sessions() as session:
        for index in (0, 12, 13, 32):
            leaf, proof = await inclusion_proof(session, T, index, 33)
            merkle.verify_inclusion(index, 33, leaf, proof, second.checkpoint.root)
        proof = await consistency_proof(session, T, 13, 33)
        merkle.verify_consistency(13, 33, first.checkpoint.root, second.checkpoint.root, proof)
        with pytest.raises(merkle.ProofError, match="larger than the log"):
            await inclusion_proof(session, T, 0, 34)


async def test_a_large_batch_takes_the_bulk_path_and_verifies(audit: AuditLog, keyring: KeyRing, db: Database) -> None:
    """150 entries in one append use the bulk insert on PostgreSQL, which must also work under
    row-level security (COPY does not)."""
    await audit.record_many([login(f"staff:{i}") for i in range(150)])
    checkpoint = await cut_checkpoint(keyring, T)
    assert checkpoint.checkpoint.size == 150
    async with db.sessions() as session:
        for index in (0, 63, 64, 149):
            leaf, proof = await inclusion_proof(session, T, index, 150)
            merkle.verify_inclusion(index, 150, leaf, proof, checkpoint.checkpoint.root)


async def test_maybe_checkpoint_by_count_and_by_age(audit: AuditLog, keyring: KeyRing, clock: FakeClock) -> None:
    await audit.record_many([login() for _ in range(3)])
    assert [c.checkpoint.size for c in await maybe_checkpoint(keyring, every_seconds=60, every_entries=5)] == [3]
    await audit.record_many([login() for _ in range(2)])
    assert await maybe_checkpoint(keyring, every_seconds=60, every_entries=5) == []
    clock.advance(61)
    assert [c.checkpoint.size for c in await maybe_checkpoint(keyring, every_seconds=60, every_entries=5)] == [5]
    await audit.record_many([login() for _ in range(5)])
    assert [c.checkpoint.size for c in await maybe_checkpoint(keyring, every_seconds=60, every_entries=5)] == [10]
    assert await maybe_checkpoint(keyring, every_seconds=60, every_entries=5) == []


async def test_entries_are_insert_only_rows(db: Database, audit: AuditLog) -> None:
    await audit.record_many([login() for _ in range(4)])
    async with db.connect() as conn:
        nodes = (await conn.execute(text("SELECT level, idx FROM audit_nodes ORDER BY level, idx"))).all()
    assert [tuple(n) for n in nodes] == [(1, 0), (1, 1), (2, 0)]
