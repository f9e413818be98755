"""Agent replies: the 24-hour window, approved templates with parameters, the policy gate's refusals
shown in the staff member's language, canned responses with variables, and sending once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conversation_harness import WABA, Desk, desk, page_text
from sqlalchemy import select

from loket.db.models import OutboxMessage, Tenant
from loket.db.scope import SystemReason
from loket.dialogue.tables import Handoff
from loket.outbound.tables import MessageTemplate
from loket.outbound.templates import DEFINITIONS
from loket.staff.permissions import Role
from staff.staff_harness import TENANT_A

__all__ = ["desk"]


async def outbox(desk: Desk) -> list[OutboxMessage]:
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all())


async def handoff_of(desk: Desk) -> Handoff:
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        return (await session.execute(select(Handoff))).scalar_one()


async def add_templates(desk: Desk) -> None:
    now = desk.clock.now()
    body = "Halo {{1}}, kami menindaklanjuti pertanyaan Anda tentang {{2}}. Balas pesan ini untuk melanjutkan."
    rows: list[dict[str, Any]] = [
        {"name": "service_followup", "category": "UTILITY", "status": "APPROVED"},
        {"name": "promo_kpr", "category": "MARKETING", "status": "APPROVED"},
        {"name": "service_pending", "category": "UTILITY", "status": "PENDING"},
        {"name": "service_reminder", "category": "UTILITY", "status": "APPROVED"},
        {"name": DEFINITIONS[0].name, "category": "UTILITY", "status": "APPROVED"},  # the alerts' own
    ]
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        for row in rows:
            session.add(
                MessageTemplate(
                    waba_id=WABA[TENANT_A],
                    language="id",
                    components=[{"type": "BODY", "text": body}],
                    updated_at=now,
                    **row,
                )
            )


async def test_a_reply_inside_the_window_is_queued_in_the_outbox_and_audited(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    sent = await agent.form(
        f"/console/conversations/{conversation}/reply", {"text": "Biaya administrasinya Rp12.500 per bulan."}
    )

    assert sent.status == 303 and sent.header("location") is not None
    [row] = await outbox(desk)
    assert row.payload == {
        "type": "text",
        "text": {"body": "Biaya administrasinya Rp12.500 per bulan.", "preview_url": False},
    }
    assert row.state == "queued" and row.purpose == "service" and row.origin and row.origin.startswith("agent:")
    handoff = await handoff_of(desk)
    assert handoff.status == "active" and handoff.assigned_to == row.origin.removeprefix("agent:")
    assert handoff.first_reply_at == desk.clock.now()
    actions = [e.fields["action"] for e in await desk.audit_entries(event_type="conversation.action")]
    assert actions == ["replied"]
    [taken] = await desk.audit_entries(event_type="conversation.assigned")
    assert taken.fields["action"] == "take"
    page = page_text(await agent.get(f"/console/conversations/{conversation}"))
    assert "Biaya administrasinya Rp12.500 per bulan." in page and "dalam antrean" in page


async def test_the_same_form_submitted_twice_sends_once(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)
    form = {"text": "Sebentar, saya cek dulu.", "client_ref": "a1b2c3"}

    for _ in range(2):
        assert (await agent.form(f"/console/conversations/{conversation}/reply", form)).status == 303

    assert len(await outbox(desk)) == 1


async def test_asking_for_an_otp_is_refused_with_the_reason_and_the_text_is_kept(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)
    text = "Mohon kirimkan kode OTP yang baru Anda terima agar saya bisa memproses."

    refused = await agent.form(f"/console/conversations/{conversation}/reply", {"text": text})

    assert refused.status == 422
    html = page_text(refused)
    assert "meminta PIN, OTP, kata sandi, CVV, atau nomor kartu" in html
    assert text in html  # nothing the agent typed is lost
    assert await outbox(desk) == []
    assert (await handoff_of(desk)).status == "waiting"


async def test_a_link_outside_the_allow_list_is_refused_and_an_official_one_goes(desk: Desk) -> None:
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        tenant = await session.get(Tenant, TENANT_A)
        assert tenant is not None
        tenant.official_channels = {"web_domains": ["bank-andalas.co.id"]}
    await desk.services.directory.refresh()
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)
    path = f"/console/conversations/{conversation}/reply"

    refused = await agent.form(path, {"text": "Silakan isi formulir di https://bank-andalas-promo.xyz/daftar"})
    assert refused.status == 422 and "domain yang tidak ada di daftar resmi" in page_text(refused)

    ok = await agent.form(path, {"text": "Informasi lengkap ada di https://www.bank-andalas.co.id/biaya"})
    assert ok.status == 303
    assert len(await outbox(desk)) == 1


async def test_refusals_are_in_english_for_english_speaking_staff(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agent@bank-a.test", Role.AGENT)
    agent.cookies["loket_console_lang"] = "en"

    refused = await agent.form(f"/console/conversations/{conversation}/reply", {"text": "Please send me your PIN"})

    assert refused.status == 422 and "asks for a PIN, OTP, password, CVV or card number" in page_text(refused)


async def test_outside_the_window_only_approved_utility_templates_can_be_sent(desk: Desk) -> None:
    await add_templates(desk)
    conversation = await desk.conversation(last_inbound_ago=timedelta(hours=26))
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    page = page_text(await agent.get(f"/console/conversations/{conversation}"))
    assert "service_followup" in page and "promo_kpr" not in page and "service_pending" not in page
    assert DEFINITIONS[0].name not in page
    assert 'name="p:service_followup:id:1"' in page and 'name="p:service_followup:id:2"' in page
    assert 'name="text"' not in page

    free = await agent.form(f"/console/conversations/{conversation}/reply", {"text": "Halo, masih ada pertanyaan?"})
    assert free.status == 422 and "Jendela layanan 24 jam sudah tertutup" in page_text(free)

    missing = await agent.form(
        f"/console/conversations/{conversation}/template",
        {"template": "service_followup:id", "p:service_followup:id:1": "Bapak Budi", "p:service_followup:id:2": ""},
    )
    assert missing.status == 422 and "Isi semua isian templat" in page_text(missing)
    assert "Bapak Budi" in page_text(missing)  # what was typed stays in the form

    marketing = await agent.form(
        f"/console/conversations/{conversation}/template",
        {"template": "promo_kpr:id", "p:promo_kpr:id:1": "a", "p:promo_kpr:id:2": "b"},
    )
    assert marketing.status == 422

    sent = await agent.form(
        f"/console/conversations/{conversation}/template",
        {
            "template": "service_followup:id",
            "p:service_followup:id:1": "Bapak Budi",
            "p:service_followup:id:2": "biaya administrasi",
            "p:service_reminder:id:1": "bukan yang ini",
            "p:service_reminder:id:2": "juga bukan",
        },
    )
    assert sent.status == 303
    [row] = await outbox(desk)
    assert row.payload == {
        "type": "template",
        "template": {
            "name": "service_followup",
            "language": {"code": "id"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Bapak Budi"},
                        {"type": "text", "text": "biaya administrasi"},
                    ],
                }
            ],
        },
    }
    actions = [e.fields["action"] for e in await desk.audit_entries(event_type="conversation.action")]
    assert "template_sent" in actions


async def test_a_canned_response_fills_its_variables_on_the_server(desk: Desk) -> None:
    supervisor = await desk.staff("spv@bank-a.test", Role.SUPERVISOR)
    saved = await supervisor.form(
        "/console/canned",
        {
            "shortcut": "salam",
            "title": "Salam pembuka",
            "language": "id",
            "body": "Selamat siang {{nama}}, saya {{agent}} dari {{institusi}}. Ada yang bisa saya bantu?",
        },
    )
    assert saved.status == 303
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)
    page = page_text(await agent.get(f"/console/conversations/{conversation}"))
    assert "/salam" in page and "Budi" not in page  # the picker shows the variables, not their values

    from loket.console.conversation_tables import CannedResponse

    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        canned_id = (await session.execute(select(CannedResponse.id))).scalar_one()
    sent = await agent.form(f"/console/conversations/{conversation}/reply", {"text": "", "canned_id": str(canned_id)})

    assert sent.status == 303
    [row] = await outbox(desk)
    assert row.payload["text"]["body"] == "Selamat siang Budi, saya agen dari Bank Andalas. Ada yang bisa saya bantu?"


async def test_an_unknown_variable_is_refused(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    refused = await agent.form(f"/console/conversations/{conversation}/reply", {"text": "Halo {{nomor_rekening}}"})

    assert refused.status == 422 and "variabel yang tidak dikenal" in page_text(refused)
    assert await outbox(desk) == []


async def test_a_compliance_officer_can_read_but_not_reply(desk: Desk) -> None:
    conversation = await desk.conversation()
    officer = await desk.staff("kepatuhan@bank-a.test", Role.COMPLIANCE_OFFICER)

    assert (await officer.get(f"/console/conversations/{conversation}")).status == 200
    assert (await officer.form(f"/console/conversations/{conversation}/reply", {"text": "Halo"})).status == 403
    assert await outbox(desk) == []


async def test_open_inboxes_hear_that_the_handoff_changed(desk: Desk) -> None:
    import asyncio

    from loket.console.app import console_bus

    heard: list[tuple[str, dict[str, object]]] = []
    console_bus(desk.world.app).add_listener(lambda tenant, item: heard.append((tenant, item)))
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    await agent.form(f"/console/conversations/{conversation}/reply", {"text": "Baik, saya bantu."})
    await agent.form(f"/console/conversations/{conversation}/close", {})
    updated = {"kind": "handoff.updated", "handoff_id": (await handoff_of(desk)).id}
    for _ in range(50):
        if sum(item == updated for _, item in heard) >= 2:
            break
        await asyncio.sleep(0.01)

    assert [(tenant, item) for tenant, item in heard if item == updated] == [(TENANT_A, updated)] * 2
    assert any(item.get("kind") == "handoff.assigned" for _, item in heard)  # the reply took the chat
