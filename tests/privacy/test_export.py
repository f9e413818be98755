"""Access and copy (PDP-R2, PDP-R8): everything held about the person and nobody else, as JSON and
as a readable PDF with the JSON inside, encrypted for WhatsApp."""

from __future__ import annotations

import io
import json

import pikepdf
import pytest
from privacy_support import (
    BANK,
    BUDI,
    COMMENT,
    COMPLAINT_TEXT,
    INSURER,
    SECRET_WORDS,
    SITI,
    add_complaint,
    leave_traces,
)
from pypdf import PdfReader

from loket.audit.log import AuditLog
from loket.clock import FakeClock
from loket.db.engine import Database
from loket.privacy import export, export_pdf
from loket.security.secretbox import SecretBox


async def collect_for(
    db: Database, audit: AuditLog, box: SecretBox | None, wa_id: str, clock: FakeClock
) -> export.Export:
    async with db.sessions() as session:
        return await export.collect(
            session,
            tenant_id=BANK,
            wa_id=wa_id,
            customer_id="cust-siti",
            pseudonym=audit.pseudonymizer.pseudonym(BANK, wa_id),
            reference="PDP-TESTTEST00",
            now=clock.now(),
            box=box,
        )


async def test_the_export_holds_everything_about_the_person_and_nothing_about_others(
    seeded: Database, audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    await leave_traces(seeded, audit, box, tenant=BANK, wa_id=SITI, at=clock.now(), tag="siti")
    await leave_traces(seeded, audit, box, tenant=BANK, wa_id=BUDI, at=clock.now(), tag="budi")
    await leave_traces(seeded, audit, box, tenant=INSURER, wa_id=SITI, at=clock.now(), tag="other")
    made = await collect_for(seeded, audit, box, SITI, clock)
    data = json.loads(made.json_bytes())
    sections = data["data"]
    for table in (
        "conversations",
        "inbound_messages",
        "outbox",
        "outbound_recipients",
        "feedback_entries",
        "flow_sessions",
        "handoffs",
    ):
        assert table in sections, table
    texts = [m["text"] for m in sections["inbound_messages"]]
    assert texts == ["halo siti", f"{SECRET_WORDS} siti"]
    assert sections["feedback_entries"][0]["comment"] == COMMENT  # sealed at rest, opened for its owner
    assert sections["outbound_recipients"][0]["marketing_consent_at"] is not None
    assert [entry["type"] for entry in data["processing_record"]] == ["message.received"]
    flat = made.json_bytes().decode()
    assert "budi" not in flat and "other" not in flat and BUDI not in flat  # another customer, another tenant
    assert "token_sha256" not in flat and "idempotency_key" not in flat
    assert made.row_count() == sum(len(v) for v in sections.values()) + 1


async def test_without_the_box_sealed_columns_are_marked_never_dumped(
    seeded: Database, audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    await leave_traces(seeded, audit, box, tenant=BANK, wa_id=SITI, at=clock.now(), tag="siti")
    made = await collect_for(seeded, audit, None, SITI, clock)
    assert made.sections["feedback_entries"][0]["comment_enc"] == export.SEALED


async def test_the_pdf_is_readable_carries_the_json_and_travels_encrypted(
    seeded: Database, audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    await leave_traces(seeded, audit, box, tenant=BANK, wa_id=SITI, at=clock.now(), tag="siti")
    made = await collect_for(seeded, audit, box, SITI, clock)
    pdf = export_pdf.render(made, institution="Bank Nusantara", language="id")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Salinan data pribadi Anda - Bank Nusantara" in text and "PDP-TESTTEST00" in text
    assert "Pesan yang Anda kirim (2)" in text and "halo siti" in text
    assert "Catatan pemrosesan data" in text
    with pikepdf.open(io.BytesIO(pdf)) as document:
        attached = document.attachments["data.json"].get_file().read_bytes()
    assert attached == made.json_bytes()
    locked = export_pdf.protected(pdf, "01021990")
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(io.BytesIO(locked))
    with pikepdf.open(io.BytesIO(locked), password="01021990") as document:
        assert document.attachments["data.json"].get_file().read_bytes() == made.json_bytes()
    with pytest.raises(ValueError, match="only encrypted"):
        export_pdf.protected(pdf, None)


async def test_a_person_loket_knows_nothing_about_gets_an_empty_export(
    seeded: Database, audit: AuditLog, clock: FakeClock
) -> None:
    made = await collect_for(seeded, audit, None, "6281200000000", clock)
    assert made.sections == {} and made.audit == []
    pdf = export_pdf.render(made, institution="Bank Nusantara", language="en")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "We keep no data about you" in text


async def test_complaints_are_in_the_export_opened_for_their_owner(
    seeded: Database, audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    reference = await add_complaint(seeded, box, tenant=BANK, wa_id=SITI, at=clock.now())
    made = await collect_for(seeded, audit, box, SITI, clock)
    [complaint] = made.sections["complaints"]
    assert complaint["reference"] == reference and complaint["summary"] == COMPLAINT_TEXT
