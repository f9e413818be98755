"""Files: the type comes from the bytes, dangerous files are never opened (only a quarantined download
for fraud analysts), and an agent's file is uploaded through the channel port and queued in the outbox."""

from __future__ import annotations

import io
import zipfile

import pytest
from conversation_harness import PNID, Desk, desk, page_text
from sqlalchemy import select

from loket.console.files_sniff import sniff
from loket.db.models import OutboxMessage
from loket.db.scope import SystemReason
from loket.staff.permissions import Role
from staff.staff_harness import TENANT_A

__all__ = ["desk"]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n"


def zipped(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"x")
    return buffer.getvalue()


APK = zipped(["AndroidManifest.xml", "classes.dex", "res/icon.png"])
DOCX = zipped(["[Content_Types].xml", "word/document.xml"])


@pytest.mark.parametrize(
    ("data", "name", "detected", "dangerous"),
    [
        (PNG, "foto.png", "png", False),
        (b"\xff\xd8\xff\xe0" + bytes(20), "ktp.jpg", "jpeg", False),
        (PDF, "surat.pdf", "pdf", False),
        (DOCX, "surat.docx", "docx", False),
        (b"Nomor rekening saya 123\n", "catatan.txt", "text", False),
        (APK, "Undangan Pernikahan.pdf", "apk", True),  # an APK named as a PDF
        (b"MZ\x90\x00" + bytes(60), "invoice.pdf", "exe", True),
        (b"\x7fELF\x02\x01\x01" + bytes(20), "foto.jpg", "elf", True),
        (b"#!/bin/sh\nrm -rf /\n", "baca.txt", "script", True),
        (b"<html><script>steal()</script></html>", "cek.txt", "script", True),
        (zipped(["a.txt"]), "arsip.zip", "archive", True),
        (PDF, "surat.pdf.apk", "pdf", True),  # the bytes look fine, the name is a trap
        (zipped(["[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"]), "x.docx", "office_macro", True),
    ],
)
def test_the_type_comes_from_the_bytes(data: bytes, name: str, detected: str, dangerous: bool) -> None:
    verdict = sniff(data, name)
    assert (verdict.detected, verdict.dangerous) == (detected, dangerous)
    if dangerous:
        assert not verdict.previewable and verdict.sendable_as is None


def media_message(media_id: str, kind: str, filename: str | None, mime: str) -> dict[str, object]:
    media: dict[str, object] = {"id": media_id, "mime_type": mime}
    if filename:
        media["filename"] = filename
    return {"kind": kind, "media": media}


async def test_a_disguised_apk_is_flagged_never_served_and_quarantined_for_fraud_analysts(desk: Desk) -> None:
    desk.channel.files["m-apk"] = APK
    conversation = await desk.conversation(
        messages=[media_message("m-apk", "document", "Undangan Pernikahan.pdf", "application/pdf")]
    )
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)
    path = f"/console/conversations/{conversation}/media/m-apk"

    blocked = await agent.get(path)

    assert blocked.status == 403
    assert "Berkas berbahaya" in page_text(blocked) and APK not in blocked.body
    assert "/quarantine" not in page_text(blocked)
    thread = page_text(await agent.get(f"/console/conversations/{conversation}"))
    assert "Berkas berbahaya" in thread and "apk" in thread
    assert (await agent.get(path + "/quarantine")).status == 403

    analyst = await desk.staff("fraud@bank-a.test", Role.FRAUD_ANALYST)
    assert "/quarantine" in page_text(await analyst.get(f"/console/conversations/{conversation}"))
    download = await analyst.get(path + "/quarantine")
    assert download.status == 200 and download.body == APK
    assert download.header("content-type") == "application/octet-stream"
    assert (download.header("content-disposition") or "").startswith("attachment;")
    assert ".quarantine" in (download.header("content-disposition") or "")
    assert download.header("x-content-type-options") == "nosniff"
    actions = [e.fields["action"] for e in await desk.audit_entries(event_type="conversation.action")]
    assert "file_blocked" in actions and "file_quarantine_download" in actions


async def test_an_image_is_shown_inline_with_its_real_type(desk: Desk) -> None:
    desk.channel.files["m-img"] = PNG
    conversation = await desk.conversation(messages=[media_message("m-img", "image", None, "image/jpeg")])
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    image = await agent.get(f"/console/conversations/{conversation}/media/m-img")

    assert image.status == 200 and image.body == PNG
    assert image.header("content-type") == "image/png"  # from the bytes, not the declared image/jpeg
    assert image.header("content-disposition") == "inline"
    page = page_text(await agent.get(f"/console/conversations/{conversation}"))
    assert f'<img src="/console/conversations/{conversation}/media/m-img"' in page


async def test_a_document_is_offered_as_a_download_and_unknown_ids_are_not_found(desk: Desk) -> None:
    desk.channel.files["m-pdf"] = PDF
    desk.channel.files["m-other"] = PDF
    conversation = await desk.conversation(
        messages=[media_message("m-pdf", "document", "surat.pdf", "application/pdf")]
    )
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    pdf = await agent.get(f"/console/conversations/{conversation}/media/m-pdf")
    assert pdf.status == 200 and pdf.header("content-type") == "application/pdf"
    assert pdf.header("content-disposition") == 'attachment; filename="surat.pdf"'
    # A media id that is not in this conversation is not fetched for anyone.
    assert (await agent.get(f"/console/conversations/{conversation}/media/m-other")).status == 404


async def test_an_agent_sends_an_image_through_the_channel_and_the_outbox(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    sent = await agent.multipart(
        f"/console/conversations/{conversation}/files",
        {"csrf_token": agent.csrf or "", "caption": "Contoh pengisian formulir"},
        {"file": ("contoh.png", PNG, "application/octet-stream")},
    )

    assert sent.status == 303, sent.body[:300]
    [upload] = desk.channel.uploads
    assert upload["mime"] == "image/png" and upload["pnid"] == PNID[TENANT_A] and upload["data"] == PNG
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        row = (await session.execute(select(OutboxMessage))).scalar_one()
    assert row.payload == {"type": "image", "image": {"id": "media-up-1", "caption": "Contoh pengisian formulir"}}
    assert row.origin and row.origin.startswith("agent:")


@pytest.mark.parametrize(
    ("name", "data", "caption", "expected"),
    [
        ("aplikasi.apk", APK, "", "Jenis berkas ini tidak dapat dikirim"),
        ("surat.pdf", PDF, "Mohon kirimkan kode OTP yang Anda terima", "meminta PIN, OTP"),
        ("kosong.pdf", b"", "", "Pilih berkas"),
    ],
)
async def test_a_refused_file_is_never_uploaded(
    desk: Desk, name: str, data: bytes, caption: str, expected: str
) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    refused = await agent.multipart(
        f"/console/conversations/{conversation}/files",
        {"csrf_token": agent.csrf or "", "caption": caption},
        {"file": (name, data, "application/pdf")},
    )

    assert refused.status == 422 and expected in page_text(refused)
    assert desk.channel.uploads == []
