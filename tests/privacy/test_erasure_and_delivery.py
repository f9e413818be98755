"""Erasure (PDP-R4): crypto-shredding through the port, deletion where the law allows, minimal
non-personal records where it requires them, a legal hold stopping it; and delivery of an access
export over WhatsApp as an encrypted document through the outbox (PDP-R2)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pikepdf
from privacy_support import BANK, BUDI, SITI, add_complaint, count, leave_traces
from sqlalchemy import select

from loket.audit.log import AuditLog
from loket.audit.tables import AuditEntry
from loket.audit.verify_db import verify_database
from loket.clock import FakeClock
from loket.core.port import Customer
from loket.db.engine import Database
from loket.db.models import Conversation, FeedbackEntry, FlowSession, InboundMessage, OutboxMessage
from loket.dialogue.persist import open_document
from loket.dialogue.tables import Handoff, OutgoingDocument
from loket.outbound.tables import Recipient
from loket.privacy import holds, requests
from loket.privacy.erasure import erased_marker
from loket.privacy.model import Channel, Right, Status
from loket.privacy.service import PrivacyService
from loket.security.secretbox import SecretBox


@dataclass
class ShredReport:
    keys_destroyed: int
    tenant_id: str


class FakeShredder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, db: Database, tenant_id: str, wa_id: str) -> object:
        self.calls.append((tenant_id, wa_id))
        return ShredReport(1, tenant_id)


class FakeCore:
    async def get_customer(self, tenant_id: str, customer_id: str) -> Customer:
        return Customer(
            customer_id, tenant_id, "Siti Rahayu", "+" + SITI, "id", "DKI Jakarta", "Asia/Jakarta", date(1990, 2, 1)
        )


async def open_verified(
    db: Database, audit: AuditLog, clock: FakeClock, right: Right, wa_id: str = SITI, channel: Channel = Channel.CONSOLE
) -> str:
    async with db.transaction() as session:
        row = await requests.open_request(
            session,
            audit,
            requests.Subject(BANK, wa_id, "cust-siti"),
            right,
            channel=channel,
            actor="staff:officer",
            now=clock.now(),
            verification="staff_checked",
        )
        return row.reference


async def test_erasure_shreds_deletes_and_keeps_minimal_records(
    seeded: Database, audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    await leave_traces(seeded, audit, box, tenant=BANK, wa_id=SITI, at=clock.now(), tag="siti")
    await leave_traces(seeded, audit, box, tenant=BANK, wa_id=BUDI, at=clock.now(), tag="budi")
    complaint = await add_complaint(seeded, box, tenant=BANK, wa_id=SITI, at=clock.now())
    reference = await open_verified(seeded, audit, clock, Right.ERASURE)
    shredder = FakeShredder()
    service = PrivacyService(seeded, audit, box=box, shredder=shredder, clock=clock)
    assert await service.run_once() == 1  # the worker pass picks the verified erasure up
    assert shredder.calls == [(BANK, SITI)]
    for model, column in (
        (Conversation, Conversation.wa_id),
        (FlowSession, FlowSession.wa_id),
        (Recipient, Recipient.wa_id),
    ):
        assert await count(seeded, model, column == SITI) == 0, model
        assert await count(seeded, model, column == BUDI) == 1, model  # someone else's rows stay
    marker = erased_marker(audit.pseudonymizer.pseudonym(BANK, SITI))
    async with seeded.sessions() as session:
        kept = list((await session.execute(select(InboundMessage).where(InboundMessage.wa_id == marker))).scalars())
        sent = (await session.execute(select(OutboxMessage).where(OutboxMessage.to_wa_id == marker))).scalar_one()
        feedback = (
            await session.execute(select(FeedbackEntry).where(FeedbackEntry.customer_id == "cust-siti"))
        ).scalar_one()
        handoff = (await session.execute(select(Handoff).where(Handoff.wa_id == marker))).scalar_one()
        row = await requests.get(session, BANK, reference)
        leaves = [str(f) for f in (await session.execute(select(AuditEntry.fields))).scalars()]
    assert len(kept) == 2 and all(m.text is None and m.payload == {} and m.profile_name is None for m in kept)
    assert sent.payload == {} and sent.state == "sent"  # delivery evidence kept, body gone
    assert feedback.contact_wa_id is None and feedback.comment_enc is None and feedback.rating == 3
    assert handoff.summary == ""
    assert row.status == Status.COMPLETED and row.wa_id is None and row.subject_hash
    erased = row.evidence[-1]
    assert erased["step"] == "erased" and erased["detail"]["shredding"] == "done"
    assert erased["detail"]["keys_destroyed"] == 1 and erased["detail"]["deleted"]["conversations"] == 1
    assert SITI not in "".join(leaves)
    from loket.complaints.tables import Complaint

    async with seeded.sessions() as session:
        kept_complaint = (await session.execute(select(Complaint))).scalar_one()
    assert kept_complaint.reference == complaint and kept_complaint.wa_id == marker  # the record stays
    assert kept_complaint.contact_enc is None and kept_complaint.summary_enc is not None  # who to contact goes
    assert await count(seeded, InboundMessage, InboundMessage.wa_id == SITI) == 0
    assert (await verify_database(seeded, BANK)).ok  # the audit log is untouched and still verifies


async def test_a_legal_hold_stops_the_erasure(
    seeded: Database, audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    await leave_traces(seeded, audit, box, tenant=BANK, wa_id=SITI, at=clock.now(), tag="siti")
    async with seeded.transaction() as session:
        hold = await holds.set_hold(
            session,
            audit,
            tenant_id=BANK,
            wa_id=SITI,
            reason="litigation",
            case_ref="PN-JKT/2026/77",
            actor="staff:officer",
            now=clock.now(),
        )
    reference = await open_verified(seeded, audit, clock, Right.ERASURE)
    shredder = FakeShredder()
    service = PrivacyService(seeded, audit, box=box, shredder=shredder, clock=clock)
    assert await service.erase(BANK, reference) == Status.REJECTED
    assert shredder.calls == [] and await count(seeded, Conversation, Conversation.wa_id == SITI) == 1
    async with seeded.sessions() as session:
        assert (await requests.get(session, BANK, reference)).rejection_reason == "legal_hold"
    # Lifted, a new request goes through.
    async with seeded.transaction() as session:
        await holds.lift_hold(session, audit, tenant_id=BANK, hold_id=hold.id, actor="staff:officer", now=clock.now())
    again = await open_verified(seeded, audit, clock, Right.ERASURE)
    assert await service.erase(BANK, again) == Status.COMPLETED
    async with seeded.sessions() as session:
        changes = (
            await session.execute(
                select(AuditEntry.fields).where(AuditEntry.event_type == "legal_hold.changed").order_by(AuditEntry.seq)
            )
        ).scalars()
        assert [c["action"] for c in changes] == ["set", "lifted"]


async def test_access_is_delivered_as_an_encrypted_document_through_the_outbox(
    seeded: Database, audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    await leave_traces(seeded, audit, box, tenant=BANK, wa_id=SITI, at=clock.now(), tag="siti")
    reference = await open_verified(seeded, audit, clock, Right.ACCESS, channel=Channel.WHATSAPP)
    service = PrivacyService(seeded, audit, box=box, core=FakeCore(), clock=clock)  # type: ignore[arg-type]
    assert await service.run_once() == 1
    async with seeded.sessions() as session:
        document = (await session.execute(select(OutgoingDocument))).scalar_one()
        row = await requests.get(session, BANK, reference)
        exported = (
            await session.execute(select(AuditEntry.fields).where(AuditEntry.event_type == "export.created"))
        ).scalar_one()
    assert document.to_wa_id == SITI and document.status == "queued" and reference in document.caption
    assert "DDMMYYYY" in document.caption and "01021990" not in document.caption
    pdf = open_document(box, document.content_enc or b"", document.idempotency_key)
    with pikepdf.open(io.BytesIO(pdf), password="01021990") as opened:
        assert b"halo siti" in opened.attachments["data.json"].get_file().read_bytes()
    assert row.status == Status.COMPLETED and row.evidence[-1]["step"] == "export_delivered"
    assert exported["export"] == reference and exported["kind"] == "dsr_access"
    assert row.evidence[-2]["sha256"] == exported["sha256"]  # the export's hash is in the evidence
    assert await service.run_once() == 0  # delivered once
