"""The complaint desk on the database: references, sealing, history, status changes, the clock's
pause and extension, customer notices through the outbox, audit milestones and the SLA pass."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from complaints_support import OTHER_TENANT, PNID, TENANT, WA_ID, new_complaint, wib
from sqlalchemy import select

from loket.audit.tables import AuditEntry
from loket.clock import FakeClock
from loket.complaints.desk import ComplaintDesk, ComplaintError
from loket.complaints.model import Channel, Document, Status, TransitionError
from loket.complaints.services import ComplaintServices, open_alerts
from loket.complaints.sla import Form
from loket.complaints.tables import Complaint, ComplaintAlert, ComplaintEvent
from loket.db.engine import Database
from loket.db.models import OutboxMessage

pytestmark = pytest.mark.usefixtures("tenants", "audit")
STAFF = "staff-7"


async def register(db: Database, desk: ComplaintDesk, **changes: object) -> Complaint:
    async with db.transaction() as session:
        row, _ = await desk.register(session, new_complaint(**changes), actor=STAFF)
        return row


async def test_references_are_sequential_per_tenant_and_year(db: Database, desk: ComplaintDesk) -> None:
    first = await register(db, desk)
    second = await register(db, desk)
    other = await register(db, desk, tenant_id=OTHER_TENANT)
    next_year = await register(db, desk, received_at=wib(2027, 1, 4))
    assert (first.reference, second.reference) == ("PGD-2026-000001", "PGD-2026-000002")
    assert other.reference == "PGD-2026-000001"
    assert next_year.reference == "PGD-2027-000001"


async def test_personal_text_is_sealed_and_read_back(db: Database, desk: ComplaintDesk) -> None:
    row = await register(db, desk, contact="Ibu Sari, 0812-1111-2222", representative="Budi (kuasa)")
    async with db.transaction() as session:
        stored = await desk.get(session, TENANT, row.reference)
        assert stored.summary_enc is not None and b"saldo" not in stored.summary_enc
        assert stored.contact_enc is not None and b"Sari" not in stored.contact_enc
        view = await desk.view(session, stored, wib(2026, 11, 3))
    assert view.summary == "Transfer Rp500.000 gagal tetapi saldo terpotong"
    assert view.contact == "Ibu Sari, 0812-1111-2222"
    # CMP-5: a representative without a power of attorney makes the documents incomplete
    assert {"name": "power_of_attorney", "received": False} in stored.documents
    assert stored.status == Status.AWAITING_DOCUMENTS and stored.due_date is None


async def test_bad_input_names_every_problem_and_stores_nothing(db: Database, desk: ComplaintDesk) -> None:
    with pytest.raises(ComplaintError) as caught:
        await register(db, desk, product="spaceship", cause="", summary=" ", amount=-5)
    assert len(caught.value.problems) == 4
    async with db.transaction() as session:
        assert (await session.execute(select(Complaint))).scalars().all() == []


async def test_same_source_or_appk_ticket_is_registered_once(db: Database, desk: ComplaintDesk) -> None:
    one = await register(db, desk, appk_ticket_id="APPK-1", channel=Channel.APPK)
    again = await register(db, desk, appk_ticket_id="APPK-1", channel=Channel.APPK)
    assert one.id == again.id


async def test_full_life_with_pause_extension_and_rejection(db: Database, desk: ComplaintDesk) -> None:
    row = await register(db, desk, wa_id=WA_ID, phone_number_id=PNID, channel=Channel.PHONE, form=Form.ORAL)
    assert row.due_date == date(2026, 11, 9)
    async with db.transaction() as session:
        row = await desk.get(session, TENANT, row.reference)
        await desk.start_work(session, row, actor=STAFF, now=wib(2026, 11, 2, 11))
        await desk.request_documents(session, row, ["rekening koran"], actor=STAFF, now=wib(2026, 11, 3))
        assert row.status == Status.AWAITING_DOCUMENTS and row.due_date is None
        with pytest.raises(TransitionError):
            await desk.record_extension(session, row, 5, actor=STAFF, now=wib(2026, 11, 3, 12))
        await desk.documents_received(session, row, actor=STAFF, now=wib(2026, 11, 5))
        # Tue 3 Nov used; Thu 5 Nov is day 0 again with 4 days left -> Wed 11 Nov
        assert row.due_date == date(2026, 11, 11)
        with pytest.raises(TransitionError, match="customer_not_notified"):
            await desk.record_extension(session, row, 5, actor=STAFF, now=wib(2026, 11, 6))
        await desk.send_extension_notice(session, row, actor=STAFF, now=wib(2026, 11, 6))
        await desk.record_extension(session, row, 5, actor=STAFF, now=wib(2026, 11, 6, 11))
        assert row.due_date == date(2026, 11, 18)
        with pytest.raises(TransitionError, match="already_extended"):
            await desk.record_extension(session, row, 1, actor=STAFF, now=wib(2026, 11, 6, 12))
        await desk.close(session, row, Status.REJECTED, "Transaksi sudah berhasil.", actor=STAFF, now=wib(2026, 11, 9))
        with pytest.raises(TransitionError):
            await desk.start_work(session, row, actor=STAFF, now=wib(2026, 11, 9, 12))
    async with db.transaction() as session:
        events = (await session.execute(select(ComplaintEvent).order_by(ComplaintEvent.id))).scalars().all()
        outbox = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        audit = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars().all()
    assert [e.kind for e in events] == [
        "registered",
        "in_progress",
        "documents_requested",
        "documents_completed",
        "extension_notice",
        "extended",
        "rejected",
    ]
    assert all("Transaksi" not in str(e.detail) for e in events)
    bodies = [m.payload["text"]["body"] for m in outbox]
    assert "PGD-2026-000001" in bodies[0] and "5 hari kerja" in bodies[0]
    assert "LAPS SJK" in bodies[-1] and "157" in bodies[-1] and "Transaksi sudah berhasil." in bodies[-1]
    assert any("diperpanjang" in body or "perpanjang" in body for body in bodies)
    # outside the 24-hour window the generic update template goes instead, with the status in one line
    fallback = outbox[-1].fallback
    assert fallback is not None and fallback["template"]["name"] == "loket_account_update"
    assert "PGD-2026-000001: ditolak" in str(fallback["template"]["components"])
    milestones = [e.fields["milestone"] for e in audit if e.event_type == "complaint.milestone"]
    assert milestones == [
        "registered",
        "in_progress",
        "documents_requested",
        "documents_completed",
        "extension_notice",
        "extended",
        "rejected",
    ]
    assert all(e.actor == STAFF for e in audit)


async def test_extension_notice_after_the_first_deadline_is_refused(db: Database, desk: ComplaintDesk) -> None:
    row = await register(db, desk, form=Form.ORAL)  # due Mon 9 Nov 17:00
    async with db.transaction() as session:
        row = await desk.get(session, TENANT, row.reference)
        await desk.send_extension_notice(session, row, actor=STAFF, now=wib(2026, 11, 9, 17, 30))
        with pytest.raises(TransitionError, match="notified_after_deadline"):
            await desk.record_extension(session, row, 3, actor=STAFF, now=wib(2026, 11, 9, 18))


async def test_resolve_needs_an_answer(db: Database, desk: ComplaintDesk) -> None:
    row = await register(db, desk)
    async with db.transaction() as session:
        row = await desk.get(session, TENANT, row.reference)
        with pytest.raises(ComplaintError):
            await desk.close(session, row, Status.RESOLVED, "  ", actor=STAFF, now=wib(2026, 11, 3))
        with pytest.raises(ComplaintError):
            await desk.close(session, row, Status.IN_PROGRESS, "jawaban", actor=STAFF, now=wib(2026, 11, 3))
        await desk.close(session, row, Status.RESOLVED, "Dana sudah dikembalikan.", actor=STAFF, now=wib(2026, 11, 3))
        assert row.closed_at is not None


async def test_sla_pass_makes_each_reminder_and_the_breach_once(
    db: Database, desk: ComplaintDesk, clock: FakeClock
) -> None:
    row = await register(db, desk, received_at=wib(2026, 11, 6, 18))  # deadline Mon 23 Nov
    done = await register(db, desk, documents=(Document("ktp", received=True),))
    async with db.transaction() as session:
        closed = await desk.get(session, TENANT, done.reference)
        await desk.close(session, closed, Status.RESOLVED, "Selesai.", actor=STAFF, now=wib(2026, 11, 3))
    services = ComplaintServices(db=db, desk=desk, clock=clock)
    clock.advance((wib(2026, 11, 17) - clock.now()).total_seconds())
    assert await services.run_once() == 0
    clock.advance(timedelta(days=1).total_seconds())  # Wed 18 Nov: day 7
    assert await services.run_once() == 1
    assert await services.run_once() == 0
    clock.advance((wib(2026, 11, 23, 17, 1) - clock.now()).total_seconds())
    assert await services.run_once() == 2  # the day-before reminder and the breach
    async with db.transaction() as session:
        alerts = (await session.execute(select(ComplaintAlert).order_by(ComplaintAlert.id))).scalars().all()
        assert [a.kind for a in alerts] == ["reminder", "reminder", "breach"]
        assert {a.complaint_id for a in alerts} == {row.id}
        assert await open_alerts(session, TENANT) == 3
        assert await open_alerts(session, OTHER_TENANT) == 0
        stored = await desk.get(session, TENANT, row.reference)
        assert stored.breached_at is not None
        audit = (await session.execute(select(AuditEntry))).scalars().all()
    assert sorted(e.fields["milestone"] for e in audit if e.fields.get("complaint") == row.reference) == [
        "breach",
        "registered",
        "reminder",
        "reminder",
    ]


async def test_console_panel_lists_the_customers_open_complaints(db: Database, desk: ComplaintDesk) -> None:
    from loket.complaints.panel import DeskComplaints

    mine = await register(db, desk, wa_id=WA_ID)
    by_customer = await register(db, desk, customer_id="cust-9")
    closed = await register(db, desk, wa_id=WA_ID)
    await register(db, desk, wa_id="6289999999999")
    async with db.transaction() as session:
        row = await desk.get(session, TENANT, closed.reference)
        await desk.close(session, row, Status.RESOLVED, "Selesai.", actor=STAFF, now=wib(2026, 11, 3))
    panel = DeskComplaints(db, desk)
    found = await panel.open_for(TENANT, WA_ID, "cust-9")
    assert panel.known and {c.reference for c in found} == {mine.reference, by_customer.reference}
    assert await panel.open_for(OTHER_TENANT, WA_ID, None) == []
