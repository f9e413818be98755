"""The conversation page: thread, handoff summary, ticks, masked customer panel, notes, tenant isolation."""

from __future__ import annotations

from datetime import timedelta

from conversation_harness import ACCOUNT_NUMBER, PNID, WA_ID, Desk, desk, page_text
from sqlalchemy import select

from loket.console.conversation_tables import ConsoleNote
from loket.db.models import OutboxMessage
from loket.db.scope import SystemReason
from loket.outbound.outbox import Purpose, enqueue
from loket.staff.permissions import Role
from staff.staff_harness import TENANT_A, TENANT_B

__all__ = ["desk"]


async def test_the_page_shows_the_thread_summary_window_and_a_masked_customer(desk: Desk) -> None:
    conversation = await desk.conversation()
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        await enqueue(
            session,
            dialect=desk.db.dialect,
            tenant_id=TENANT_A,
            phone_number_id=PNID[TENANT_A],
            to_wa_id=WA_ID[TENANT_A],
            payload={"type": "text", "text": {"body": "Baik, saya hubungkan dengan petugas."}},
            purpose=Purpose.SERVICE,
            idempotency_key="bot-1",
            now=desk.clock.now(),
        )
        row = (await session.execute(select(OutboxMessage))).scalar_one()
        row.state, row.delivery_status = "sent", "read"
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    reply = await agent.get(f"/console/conversations/{conversation}")

    assert reply.status == 200, reply.body[:500]
    html = page_text(reply)
    assert "saya mau bicara dengan petugas" in html
    assert "Baik, saya hubungkan dengan petugas." in html
    assert "dibaca" in html  # the read tick of the bot's message
    assert "Nasabah menanyakan biaya administrasi bulanan." in html  # the bot's handoff summary
    assert "Jendela layanan terbuka" in html
    # Personal data masked: partial name, phone as +62 812-****-7890, account last four only.
    assert "B*** S******" in html and "Budi Santoso" not in html
    assert "+62 812-****-7890" in html and WA_ID[TENANT_A] not in html
    assert "**** 4321" in html and ACCOUNT_NUMBER not in html
    # An agent may not reveal (customers.pii.reveal is for supervisors and up).
    assert "/reveal" not in html
    viewed = await desk.audit_entries(event_type="conversation.action")
    assert [entry.fields["action"] for entry in viewed] == ["viewed"]
    assert WA_ID[TENANT_A] not in str(viewed[0].fields)  # the customer is a keyed hash in the log


async def test_another_tenants_conversation_is_not_found(desk: Desk) -> None:
    theirs = await desk.conversation(TENANT_B)
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    for path in ("", "/thread", "/media/m1"):
        assert (await agent.get(f"/console/conversations/{theirs}{path}")).status == 404, path
    for path in ("/notes", "/reply", "/template", "/handback", "/close", "/reveal"):
        reply = await agent.form(f"/console/conversations/{theirs}{path}", {"text": "halo", "note": "x"})
        assert reply.status == (403 if path == "/reveal" else 404), path
    assert await desk.audit_entries(TENANT_B, "conversation.action") == []


async def test_an_old_handoff_points_to_the_newer_one_and_cannot_be_acted_on(desk: Desk) -> None:
    old = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)
    await agent.form(f"/console/conversations/{old}/notes", {"note": "Catatan dari pengalihan pertama."})
    new = await desk.another_handoff()

    page = page_text(await agent.get(f"/console/conversations/{old}"))
    assert f'href="/console/conversations/{new}"' in page
    assert "Catatan dari pengalihan pertama." in page  # notes belong to the customer's conversation
    refused = await agent.form(f"/console/conversations/{old}/reply", {"text": "Halo"})
    assert refused.status == 422 and "tidak sedang dialihkan" in page_text(refused)
    assert "Catatan dari pengalihan pertama." in page_text(await agent.get(f"/console/conversations/{new}"))


async def test_a_note_is_sealed_at_rest_shown_to_staff_and_audited(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    saved = await agent.form(f"/console/conversations/{conversation}/notes", {"note": "Nasabah minta ditelepon sore."})

    assert saved.status == 303
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        note = (await session.execute(select(ConsoleNote))).scalar_one()
    assert b"ditelepon" not in note.body_enc
    page = page_text(await agent.get(f"/console/conversations/{conversation}"))
    assert "Nasabah minta ditelepon sore." in page and "Catatan internal" in page
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        assert (await session.execute(select(OutboxMessage))).first() is None  # never sent to the customer
    actions = [e.fields["action"] for e in await desk.audit_entries(event_type="conversation.action")]
    assert "note_added" in actions


async def test_an_empty_note_is_refused_and_the_page_says_why(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    refused = await agent.form(f"/console/conversations/{conversation}/notes", {"note": "   "})

    assert refused.status == 422
    assert "Catatan harus berisi 1 sampai 4.000 karakter." in page_text(refused)


async def test_the_window_closed_state_and_a_conversation_with_the_bot(desk: Desk) -> None:
    conversation = await desk.conversation(handoff="closed", last_inbound_ago=timedelta(hours=30))
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    html = page_text(await agent.get(f"/console/conversations/{conversation}"))

    assert "Jendela layanan 24 jam tertutup" in html
    assert "sedang dilayani bot" in html
    refused = await agent.form(f"/console/conversations/{conversation}/reply", {"text": "Halo"})
    assert refused.status == 422 and "tidak sedang dialihkan ke petugas" in page_text(refused)


async def test_the_page_is_in_english_for_staff_who_chose_english(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agent@bank-a.test", Role.AGENT)
    agent.cookies["loket_console_lang"] = "en"

    html = page_text(await agent.get(f"/console/conversations/{conversation}"))

    assert "Service window open" in html and "Internal note" in html


async def test_the_thread_fragment_refreshes_without_an_audit_entry(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    fragment = await agent.get(f"/console/conversations/{conversation}/thread")

    assert fragment.status == 200 and "saya mau bicara dengan petugas" in page_text(fragment)
    assert "<html" not in page_text(fragment)
    assert await desk.audit_entries(event_type="conversation.action") == []


async def test_without_a_session_the_page_sends_to_the_login(desk: Desk) -> None:
    conversation = await desk.conversation()
    from conversation_harness import ConsoleClient

    anonymous = ConsoleClient(desk.world.app)
    reply = await anonymous.get(f"/console/conversations/{conversation}", headers={"accept": "text/html"})
    assert reply.status == 303 and "/console/login" in (reply.header("location") or "")


async def test_open_complaints_come_from_the_complaints_port(desk: Desk) -> None:
    from datetime import date

    from loket.console.complaints_port import ComplaintSummary

    asked: list[tuple[str, str, str | None]] = []

    class Complaints:
        known = True

        async def open_for(self, tenant_id: str, wa_id: str, customer_id: str | None) -> list[ComplaintSummary]:
            asked.append((tenant_id, wa_id, customer_id))
            return [ComplaintSummary("ADU-2026-000123", "in_progress", "tabungan", date(2026, 12, 7))]

    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)
    unwired = page_text(await agent.get(f"/console/conversations/{conversation}"))
    assert "Data pengaduan belum terhubung" in unwired

    desk.services.complaints = Complaints()
    html = page_text(await agent.get(f"/console/conversations/{conversation}"))

    assert "ADU-2026-000123" in html and "2026-12-07" in html
    assert asked == [(TENANT_A, WA_ID[TENANT_A], "cust-a-1")]
