"""Crypto-shredding: one customer's content becomes unreadable everywhere; the audit log still verifies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest
from crypto_support import BANK, BUDI, MASTER, SITI, ingest_for, key_store, read_body, read_text, seed, send_text
from sqlalchemy import select, update

from loket.audit.canonical import Pseudonymizer
from loket.audit.events import EventType
from loket.audit.log import AuditLog, install
from loket.audit.log import current as audit_current
from loket.audit.store import stream_entries
from loket.audit.verify_db import verify_database
from loket.db.engine import Database
from loket.db.models import Conversation, FeedbackEntry, InboundMessage, OutboxMessage
from loket.inbox.sealing import ERASED_TEXT
from loket.outbound.outbox import Purpose, enqueue
from loket.security.keystore import install_keystore
from loket.security.shredding import shred_customer
from loket.security.tables import CustomerKey
from support import BANK_PNID, text_envelope


@pytest.fixture(autouse=True)
def _no_leftover_audit_log() -> Iterator[None]:
    """Another test's runtime may have installed a process-wide audit log on a database now gone."""
    previous = audit_current()
    install(None)
    yield
    install(previous)


@pytest.fixture
def audit(db: Database) -> Iterator[AuditLog]:
    log = AuditLog(db, Pseudonymizer(MASTER))
    install(log)
    yield log
    install(None)


async def test_shredding_makes_one_customers_content_unreadable(db: Database, audit: AuditLog) -> None:
    await seed(db)
    keys = key_store(db)
    ingest = ingest_for(db, keys)
    await send_text(ingest, "wamid.S1", "nomor rekening saya 1234567890")
    await send_text(ingest, "wamid.S2", "tolong blokir kartu")
    await send_text(ingest, "wamid.B1", "halo", wa_id=BUDI)
    received = {"wamid": "wamid.S1", "phone_number_id": BANK_PNID, "customer": SITI, "kind": "text", "body": "x"}
    await audit.record(EventType.MESSAGE_RECEIVED, tenant=BANK, fields=received)

    report = await shred_customer(db, BANK, SITI, keys=keys)

    assert report.shredded and len(report.key_ids) == 1
    assert (report.messages, report.envelopes) == (2, 2)
    # The process that shredded, and any other process, see the marker, never an exception.
    for reader in (keys, key_store(db)):
        assert await read_text(db, reader, "wamid.S1") == ERASED_TEXT
        assert await read_text(db, reader, "wamid.S2") == ERASED_TEXT
        assert await read_body(db, reader, "wamid.S1") is None
    assert await read_text(db, key_store(db), "wamid.B1") == "halo"  # another customer is untouched
    async with db.sessions() as session:
        key = (await session.execute(select(CustomerKey).where(CustomerKey.id == report.key_ids[0]))).scalar_one()
        rows = (await session.execute(select(InboundMessage).where(InboundMessage.wa_id == SITI))).scalars().all()
    assert key.wrapped_dek is None and key.shredded_at is not None and key.subject.startswith("erased:")
    # The rows keep their non-personal form: ids, kinds, times.
    assert sorted(r.wamid for r in rows) == ["wamid.S1", "wamid.S2"] and all(r.kind == "text" for r in rows)
    assert all(r.text is None and r.profile_name is None and r.payload == {} for r in rows)
    # The audit log records the destruction and still verifies end to end.
    report_log = await verify_database(db, BANK)
    assert report_log.ok, report_log.findings
    async with db.sessions() as session:
        entries = [entry async for entry, _ in stream_entries(session, BANK)]
    assert entries[-1].type == EventType.KEY_SHREDDED.value
    assert entries[-1].fields["keys"] == 1 and SITI not in orjson.dumps(entries[-1].fields).decode()


async def test_a_backup_taken_before_shredding_is_unreadable_too(db: Database) -> None:
    await seed(db)
    keys = key_store(db)
    await send_text(ingest_for(db, keys), "wamid.S1", "rahasia saya")
    async with db.sessions() as session:  # what a dump taken now holds: the rows, sealed
        backup = (await session.execute(select(InboundMessage.sealed))).scalar_one()
    assert backup is not None and b"rahasia" not in backup
    await shred_customer(db, BANK, SITI, keys=keys)
    # Restoring the backup's rows next to the live key table (an attacker's best case) gives nothing,
    # and the key itself was never anywhere but wrapped in the row that is now empty.
    async with db.transaction() as session:
        await session.execute(update(InboundMessage).where(InboundMessage.wamid == "wamid.S1").values(sealed=backup))
    assert await read_text(db, key_store(db), "wamid.S1") == ERASED_TEXT


async def test_shredding_is_idempotent_and_the_customer_can_come_back(db: Database) -> None:
    await seed(db)
    keys = key_store(db)
    install_keystore(keys)
    ingest = ingest_for(db, keys)
    await send_text(ingest, "wamid.S1", "halo")
    first = await shred_customer(db, BANK, SITI)  # the process's key store, as H6's erasure calls it
    again = await shred_customer(db, BANK, SITI)
    assert first.shredded and not again.shredded and again.key_ids == ()
    # Writing to the customer afterwards gets a new key: the new message is readable, the old one is not.
    await send_text(ingest, "wamid.S2", "saya kembali")
    assert await read_text(db, key_store(db), "wamid.S2") == "saya kembali"
    assert await read_text(db, key_store(db), "wamid.S1") == ERASED_TEXT


async def test_pending_messages_of_a_shredded_customer_are_settled(db: Database) -> None:
    await seed(db)
    keys = key_store(db)
    await send_text(ingest_for(db, keys), "wamid.S1", "halo")
    await shred_customer(db, BANK, SITI, keys=keys)
    async with db.sessions() as session:
        row = (await session.execute(select(InboundMessage))).scalar_one()
    assert (row.state, row.error) == ("done", "erased")


async def test_an_envelope_shared_with_another_customer_loses_its_body(db: Database) -> None:
    await seed(db)
    keys = key_store(db)
    envelope = text_envelope("wamid.S1", "halo dari siti")
    other = text_envelope("wamid.B1", "halo dari budi", wa_id=BUDI)["entry"][0]["changes"][0]["value"]
    envelope["entry"][0]["changes"][0]["value"]["messages"].extend(other["messages"])
    await ingest_for(db, keys).ingest(orjson.dumps(envelope))
    assert b"halo dari budi" in (await read_body(db, keys, "wamid.B1") or b"")  # sealed under the tenant key
    report = await shred_customer(db, BANK, SITI, keys=keys)
    assert report.envelopes == 1
    assert await read_body(db, key_store(db), "wamid.B1") is None
    assert await read_text(db, key_store(db), "wamid.B1") == "halo dari budi"  # Budi's own row is his


async def test_settled_outgoing_messages_lose_their_content_queued_ones_stay(db: Database) -> None:
    await seed(db)
    keys = key_store(db)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        for key, state in (("sent", "sent"), ("queued", "queued")):
            await enqueue(
                session,
                dialect=db.dialect,
                tenant_id=BANK,
                phone_number_id=BANK_PNID,
                to_wa_id=SITI,
                payload={"type": "text", "text": {"body": f"saldo Anda Rp1.234.567 ({key})"}},
                purpose=Purpose.SERVICE,
                idempotency_key=f"shred-test-{key}",
                now=now,
            )
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.idempotency_key == f"shred-test-{key}").values(state=state)
            )
    report = await shred_customer(db, BANK, SITI, keys=keys)
    assert report.outbox == 1
    async with db.sessions() as session:
        rows = {r.state: r.payload for r in (await session.execute(select(OutboxMessage))).scalars()}
    assert rows["sent"] == {"erased": True}
    assert "queued" in orjson.dumps(rows["queued"]).decode()


async def test_feedback_comments_of_the_customer_are_deleted(db: Database) -> None:
    await seed(db)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        session.add(
            Conversation(tenant_id=BANK, wa_id=SITI, customer_id="CIF-1", state={}, created_at=now, updated_at=now)
        )
        for ref, contact, customer in (("FB-1", SITI, None), ("FB-2", None, "CIF-1"), ("FB-3", None, "CIF-2")):
            session.add(
                FeedbackEntry(
                    reference=ref,
                    tenant_id=BANK,
                    customer_id=customer,
                    contact_wa_id=contact,
                    topic="service",
                    rating=4,
                    comment_enc=b"sealed comment",
                    contact_consent=contact is not None,
                    language="id",
                    created_at=now,
                )
            )
    report = await shred_customer(db, BANK, SITI, keys=key_store(db))
    assert report.feedback == 2
    async with db.sessions() as session:
        kept = {r.reference: r.comment_enc for r in (await session.execute(select(FeedbackEntry))).scalars()}
    assert kept == {"FB-1": None, "FB-2": None, "FB-3": b"sealed comment"}
