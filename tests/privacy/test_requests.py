"""Recorded requests (PDP-R9): clock, statuses, evidence and the audit trail; overdue alerts; consent
withdrawal per purpose acting at once (PDP-R7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from privacy_support import BANK, BUDI, SITI, count, leave_traces
from sqlalchemy import select

from loket.audit.log import AuditLog
from loket.audit.tables import AuditEntry
from loket.audit.verify_db import verify_database
from loket.clock import FakeClock
from loket.conversation.turn import PrivacyAsk
from loket.db.engine import Database
from loket.db.models import FeedbackEntry
from loket.outbound.tables import Recipient
from loket.privacy import requests
from loket.privacy.intake import record_turn
from loket.privacy.model import Channel, Purpose, Right, Status, TransitionError, new_reference
from loket.privacy.service import PrivacyService
from loket.privacy.tables import PrivacyRequest
from loket.security.secretbox import SecretBox


async def audit_types(db: Database, tenant: str = BANK) -> list[str]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(AuditEntry.event_type).where(AuditEntry.tenant_id == tenant).order_by(AuditEntry.seq)
        )
        return list(rows.scalars())


async def test_a_request_is_recorded_with_its_clock_and_every_step_audited(
    seeded: Database, audit: AuditLog, clock: FakeClock
) -> None:
    received = clock.now()
    async with seeded.transaction() as session:
        row = await requests.open_request(
            session,
            audit,
            requests.Subject(BANK, SITI, "cust-1"),
            Right.ACCESS,
            channel=Channel.CONSOLE,
            actor="staff:officer",
            now=received,
        )
        reference = row.reference
    assert row.status == Status.VERIFYING and row.due_at == received + timedelta(hours=72)
    assert row.subject_hash == audit.pseudonymizer.pseudonym(BANK, SITI) and row.subject_hash != SITI
    clock.advance(600)
    async with seeded.transaction() as session:
        row = await requests.get(session, BANK, reference, lock=True)
        with pytest.raises(TransitionError, match="identity verified first"):
            await requests.advance(session, audit, row, Status.IN_PROGRESS, actor="staff:officer", now=clock.now())
        await requests.verify(session, audit, row, method="staff_checked", actor="staff:officer", now=clock.now())
        await requests.advance(session, audit, row, Status.COMPLETED, actor="staff:officer", now=clock.now())
    async with seeded.sessions() as session:
        row = await requests.get(session, BANK, reference)
    assert row.status == Status.COMPLETED and row.completed_at == clock.now()
    assert [e["step"] for e in row.evidence] == ["received", "verified", "completed"]
    assert all(isinstance(e["audit_index"], int) for e in row.evidence)
    assert await audit_types(seeded) == ["dsr.received", "dsr.step", "dsr.step", "dsr.step", "dsr.completed"]
    async with seeded.sessions() as session:
        leaves = (await session.execute(select(AuditEntry.fields).where(AuditEntry.tenant_id == BANK))).scalars()
        assert SITI not in str(list(leaves))  # the person appears by pseudonym only
    assert (await verify_database(seeded, BANK)).ok


async def test_rejection_needs_a_known_reason_and_closes_the_clock(
    seeded: Database, audit: AuditLog, clock: FakeClock
) -> None:
    async with seeded.transaction() as session:
        row = await requests.open_request(
            session,
            audit,
            requests.Subject(BANK, SITI),
            Right.ERASURE,
            channel=Channel.CLI,
            actor="cli:x",
            now=clock.now(),
        )
        with pytest.raises(TransitionError, match="unknown rejection reason"):
            await requests.advance(session, audit, row, Status.REJECTED, actor="cli:x", now=clock.now(), reason="meh")
        await requests.advance(
            session, audit, row, Status.REJECTED, actor="cli:x", now=clock.now(), reason="identity_not_verified"
        )
        assert row.rejection_reason == "identity_not_verified" and row.completed_at == clock.now()
        with pytest.raises(TransitionError):
            await requests.advance(session, audit, row, Status.IN_PROGRESS, actor="cli:x", now=clock.now())


async def test_whatsapp_turn_records_then_step_up_verifies(seeded: Database, audit: AuditLog, clock: FakeClock) -> None:
    access, erasure = new_reference(), new_reference()
    async with seeded.transaction() as session:
        await record_turn(
            session,
            [PrivacyAsk("open", "access", access), PrivacyAsk("open", "erasure", erasure)],
            dialect=seeded.dialect,
            tenant_id=BANK,
            wa_id=SITI,
            customer_id="cust-1",
            language="id",
            now=clock.now(),
            audit_log=audit,
        )
    async with seeded.sessions() as session:
        rows = {r.reference: r for r in await requests.find(session, BANK)}
    assert {rows[access].status, rows[erasure].status} == {Status.VERIFYING}
    assert rows[access].channel == "whatsapp" and rows[access].created_by == "customer:whatsapp"
    clock.advance(30)
    async with seeded.transaction() as session:
        touched = await record_turn(
            session,
            [PrivacyAsk("verified")],
            dialect=seeded.dialect,
            tenant_id=BANK,
            wa_id=SITI,
            customer_id="cust-1",
            language="id",
            now=clock.now(),
            audit_log=audit,
        )
    assert sorted(touched) == sorted([access, erasure])
    async with seeded.sessions() as session:
        for reference in (access, erasure):
            row = await requests.get(session, BANK, reference)
            assert row.status == Status.IN_PROGRESS and row.verification == "step_up"
            assert row.verified_at == clock.now()


async def test_stopping_promotions_is_a_completed_consent_withdrawal(
    seeded: Database, audit: AuditLog, clock: FakeClock, box: SecretBox
) -> None:
    await leave_traces(seeded, audit, box, tenant=BANK, wa_id=SITI, at=clock.now(), tag="siti")
    clock.advance(60)
    reference = new_reference()
    async with seeded.transaction() as session:
        await record_turn(
            session,
            [PrivacyAsk("open", "consent_withdrawal", reference, "marketing")],
            dialect=seeded.dialect,
            tenant_id=BANK,
            wa_id=SITI,
            customer_id="cust-siti",
            language="id",
            now=clock.now(),
            audit_log=audit,
        )
    async with seeded.sessions() as session:
        row = await requests.get(session, BANK, reference)
        recipient = await session.get(Recipient, (BANK, SITI))
    assert row.status == Status.COMPLETED and row.purpose == "marketing"
    assert recipient is not None and recipient.marketing_opt_out_at == clock.now()
    assert "consent.changed" in await audit_types(seeded)
    # Another purpose, from the console: the feedback entry forgets the number it may be contacted on.
    async with seeded.transaction() as session:
        from loket.privacy import consent

        changed = await consent.withdraw(
            session,
            audit,
            dialect=seeded.dialect,
            tenant_id=BANK,
            wa_id=SITI,
            purpose=Purpose.FEEDBACK_CONTACT,
            channel="console",
            actor="staff:o",
            now=clock.now(),
        )
    assert changed == 1
    assert await count(seeded, FeedbackEntry, FeedbackEntry.contact_wa_id == SITI) == 0


async def test_a_withdrawal_names_its_purpose(seeded: Database, audit: AuditLog, clock: FakeClock) -> None:
    async with seeded.transaction() as session:
        with pytest.raises(TransitionError, match="names the purpose"):
            await requests.open_request(
                session,
                audit,
                requests.Subject(BANK, SITI),
                Right.CONSENT_WITHDRAWAL,
                channel=Channel.CONSOLE,
                actor="staff:o",
                now=clock.now(),
            )
    assert await count(seeded, PrivacyRequest) == 0  # nothing half-written


async def test_overdue_requests_are_flagged_once_audited_and_counted(
    seeded: Database, audit: AuditLog, clock: FakeClock
) -> None:
    async with seeded.transaction() as session:
        late = await requests.open_request(
            session,
            audit,
            requests.Subject(BANK, SITI),
            Right.CORRECTION,
            channel=Channel.CONSOLE,
            actor="staff:o",
            now=clock.now(),
        )
        done = await requests.open_request(
            session,
            audit,
            requests.Subject(BANK, BUDI),
            Right.OBJECTION,
            channel=Channel.CONSOLE,
            actor="staff:o",
            now=clock.now(),
        )
        await requests.advance(session, audit, done, Status.COMPLETED, actor="staff:o", now=clock.now())
    service = PrivacyService(seeded, audit, clock=clock)
    clock.advance(72 * 3600 - 1)
    assert await service.flag_overdue() == 0
    clock.advance(1)
    assert await service.flag_overdue() == 1
    assert await service.flag_overdue() == 0  # flagged once
    async with seeded.sessions() as session:
        row = await requests.get(session, BANK, late.reference)
        listed = await requests.find(session, BANK, overdue_at=clock.now())
    assert row.overdue_at == clock.now() and [r.reference for r in listed] == [late.reference]
    assert requests.request_json(row, clock.now())["overdue"] is True
    assert (await audit_types(seeded)).count("dsr.overdue") == 1
