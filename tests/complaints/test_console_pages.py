"""The complaint pages of the staff console, end to end in-process: register from a branch, the list
with its SLA clock, the detail's actions (pause, extension only after a notice, final answer with the
escalation path), the APPK import with per-row errors, and the report download for compliance."""

from __future__ import annotations

import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))
from console_harness import TENANT_A, TENANT_B, Client, ConsoleWorld, Reply, console_world

from loket.audit.tables import AuditEntry
from loket.complaints.desk import ComplaintDesk
from loket.complaints.tables import Complaint
from loket.db.models import OutboxMessage, PhoneNumber
from loket.security.secretbox import SecretBox
from loket.staff.permissions import Role

__all__ = ["console_world"]
MASTER = bytes(range(32))
PNID = "109876543210001"


@pytest.fixture
async def world(console_world: ConsoleWorld) -> AsyncIterator[ConsoleWorld]:
    console_world.app.state.complaint_desk = ComplaintDesk(dialect=console_world.db.dialect, box=SecretBox(MASTER))
    async with console_world.db.transaction() as session:  # the number customers are told from
        session.add(
            PhoneNumber(
                phone_number_id=PNID,
                tenant_id=TENANT_A,
                display_number="+62 21 5000 100",
                waba_id="2000001",
                access_token_enc=b"sealed",
                created_at=console_world.clock.now(),
            )
        )
    yield console_world


def location(reply: Reply) -> str:
    assert reply.status == 303, (reply.status, reply.body[:500])
    value = reply.header("location")
    assert value is not None
    return value


async def post_file(client: Client, path: str, name: str, data: bytes) -> Reply:
    """A multipart upload through the harness's ASGI call (the CSRF token goes in the header)."""
    boundary = "loketboundary7"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return await client.request("POST", path, raw=(body, f"multipart/form-data; boundary={boundary}"))


FORM = {
    "channel": "branch",
    "form": "written",
    "kind": "dispute",
    "product": "credit_card",
    "cause": "unrecognised_transaction",
    "amount": "1.250.000",
    "incident_date": "2026-10-30",
    "summary": "Ada tagihan kartu kredit yang tidak saya lakukan di toko daring.",
    "contact": "Ibu Ratna, 0812-3456-7890",
    "wa_id": "6281234567001",
    "language": "id",
}


async def test_branch_complaint_life_in_the_console(world: ConsoleWorld) -> None:
    agent_id, agent = await world.member("agen@bank-a.test", Role.AGENT)
    reply = await agent.request("POST", "/console/complaints/new", form=FORM)
    detail = location(reply)
    assert detail == "/console/complaints/PGD-2026-000001"

    page = (await agent.get("/console/complaints")).body.decode()
    assert "PGD-2026-000001" in page and "sisa 10 hari kerja (tenggat 2026-11-16)" in page
    assert "sla-ok" in page

    shown = await agent.get(detail)
    assert shown.status == 200
    text = shown.body.decode()
    assert "Ada tagihan kartu kredit" in text and "Rp1.250.000" in text

    # an extension without a notice is refused and says why; after the notice it is recorded
    reply = await agent.request("POST", f"{detail}/extend", form={"days": "5"})
    assert "error=customer_not_notified" in location(reply)
    assert "nasabah belum diberi tahu" in (await agent.get(location(reply))).body.decode()
    location(await agent.request("POST", f"{detail}/extension-notice", form={}))
    location(await agent.request("POST", f"{detail}/extend", form={"days": "5"}))
    reclassified = {"kind": "breach", "product": "debit_card", "cause": "fraud_or_scam"}
    location(await agent.request("POST", f"{detail}/reclassify", form=reclassified))
    bad = await agent.request("POST", f"{detail}/reclassify", form={**reclassified, "product": "rocket"})
    assert "error=invalid" in location(bad)
    location(await agent.request("POST", f"{detail}/request-documents", form={"documents": "bukti transaksi"}))
    page = (await agent.get("/console/complaints")).body.decode()
    assert "menunggu dokumen" in page
    location(await agent.request("POST", f"{detail}/documents-received", form={}))
    answer = "Transaksi sah dengan verifikasi 3D Secure."
    location(await agent.request("POST", f"{detail}/close", form={"outcome": "rejected", "answer": answer}))
    text = (await agent.get(detail)).body.decode()
    assert answer in text and "Ditolak" in text

    async with world.db.transaction() as session:
        row = (await session.execute(select(Complaint))).scalar_one()
        outbox = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        audit = (await session.execute(select(AuditEntry).where(AuditEntry.tenant_id == TENANT_A))).scalars().all()
    assert row.tenant_id == TENANT_A and row.channel == "branch" and row.amount == 1_250_000
    assert (row.kind, row.product, row.cause) == ("breach", "debit_card", "fraud_or_scam")
    assert row.created_by == agent_id
    assert "LAPS SJK" in outbox[-1].payload["text"]["body"]
    milestones = [e.fields.get("milestone") for e in audit if e.event_type == "complaint.milestone"]
    assert milestones[:2] == ["registered", "viewed"] and "rejected" in milestones and "extended" in milestones
    assert "reclassified" in milestones


async def test_bad_form_lists_the_fields_and_keeps_the_input(world: ConsoleWorld) -> None:
    _, agent = await world.member("agen@bank-a.test", Role.AGENT)
    reply = await agent.request("POST", "/console/complaints/new", form={**FORM, "amount": "sejuta", "summary": ""})
    assert reply.status == 422
    text = reply.body.decode()
    assert 'href="#f-amount"' in text and 'href="#f-summary"' in text and 'href="#f-channel"' not in text
    assert "0812-3456-7890" in text  # nothing the person typed is lost
    async with world.db.transaction() as session:
        assert (await session.execute(select(Complaint))).scalars().all() == []


async def test_other_tenants_complaints_are_not_found(world: ConsoleWorld) -> None:
    _, agent_a = await world.member("agen@bank-a.test", Role.AGENT)
    _, agent_b = await world.member("agen@bank-b.test", Role.AGENT, tenant=TENANT_B)
    location(await agent_a.request("POST", "/console/complaints/new", form=FORM))
    assert (await agent_b.get("/console/complaints/PGD-2026-000001")).status == 404
    assert "PGD-2026-000001" not in (await agent_b.get("/console/complaints")).body.decode()


CSV = (
    b"ticket_id,received_at,kind,product,cause,description,amount,form,consumer_name\n"
    b"APPK-2026-0001,2026-10-29 09:15,sengketa,savings,failed_transaction,Saldo terpotong dua kali,"
    b"Rp750.000,tertulis,Andi\n"
    b"APPK-2026-0002,29/10/2026 14:00,pelanggaran,loan,collection_conduct,Ditagih pukul 22.00 malam,,lisan,Budi\n"
    b"APPK-2026-0003,kemarin,dispute,savings,other,Teks,abc,written,\n"
    b",2026-10-29 10:00,dispute,rocket,other,Teks,,written,\n"
)


async def test_appk_import_reports_bad_rows_and_is_idempotent(world: ConsoleWorld) -> None:
    _, agent = await world.member("agen@bank-a.test", Role.AGENT)
    reply = await post_file(agent, "/console/complaints/import", "appk.csv", CSV)
    assert reply.status == 200, reply.body[:400]
    text = reply.body.decode()
    assert "2 diimpor, 0 sudah ada, 2 baris bermasalah" in text
    assert "received_at" in text and "amount" in text and "ticket_id: required" in text and "product" in text
    again = (await post_file(agent, "/console/complaints/import", "appk.csv", CSV)).body.decode()
    assert "0 diimpor, 2 sudah ada, 2 baris bermasalah" in again
    bad = await post_file(agent, "/console/complaints/import", "x.csv", b"nama,alamat\nA,B\n")
    assert bad.status == 422 and "missing columns" in bad.body.decode()
    async with world.db.transaction() as session:
        rows = (await session.execute(select(Complaint).order_by(Complaint.id))).scalars().all()
    assert [(r.appk_ticket_id, r.channel, r.form) for r in rows] == [
        ("APPK-2026-0001", "appk", "written"),
        ("APPK-2026-0002", "appk", "oral"),
    ]


async def test_report_download_for_compliance_only(world: ConsoleWorld) -> None:
    _, agent = await world.member("agen@bank-a.test", Role.AGENT)
    _, officer = await world.member("kepatuhan@bank-a.test", Role.COMPLIANCE_OFFICER)
    location(await agent.request("POST", "/console/complaints/new", form=FORM))
    location(await agent.request("POST", "/console/complaints/new", form={**FORM, "product": "savings"}))
    query = "start=2026-11-01&end=2026-11-30"
    assert (await agent.get(f"/console/complaints/reports/download?{query}&fmt=csv")).status == 403
    csv_reply = await officer.get(f"/console/complaints/reports/download?{query}&fmt=csv")
    assert csv_reply.status == 200 and str(csv_reply.header("content-type")).startswith("text/csv")
    lines = csv_reply.body.decode().splitlines()
    assert "total,all,2,0,0,0,2,0,0,2,0" in lines
    assert "product,credit_card,1,0,0,0,1,0,0,1,0" in lines
    xlsx = await officer.get(f"/console/complaints/reports/download?{query}&fmt=xlsx")
    book = load_workbook(io.BytesIO(xlsx.body), read_only=True)
    register = [list(r) for r in book["Register"].iter_rows(values_only=True)]
    assert register[0][0] == "reference" and {r[0] for r in register[1:]} == {"PGD-2026-000001", "PGD-2026-000002"}
    pdf = await officer.get(f"/console/complaints/reports/download?{query}&fmt=pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.body)).pages)
    assert "PGD-2026-000002" in text and "Complaint report" in text and "Ibu Ratna" not in text
    assert (await officer.get("/console/complaints/reports/download?start=x&end=y&fmt=csv")).status == 422
    kinds = await world.audit_kinds()
    assert kinds.count("export.created") == 3
