"""Data-subject requests over WhatsApp, on the real path (simulator -> webhook -> Loket -> sandbox):
recorded with a reference and the 3x24-hour clock (PDP-R9), identity through the step-up in the
institution's app before a copy is sent or data erased (PDP-R2, PDP-R4), a marketing stop acting at
once (PDP-R7), an objection to an automated decision going to a person (PDP-R5)."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pikepdf
import pytest
from sqlalchemy import select

from conversation.script_support import BANK, Script, body_of, buttons_of, customer_of, scripted_stack
from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import Conversation
from loket.outbound.tables import Recipient
from loket.privacy.tables import PrivacyRequest
from stack import Stack
from support import TEST_SCOPE

REFERENCE = re.compile(r"PDP-[0-9A-Z]{10}")


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with scripted_stack(settings) as running:
        yield running


async def stored(stack: Stack, model: type[Any], *where: Any) -> list[Any]:
    db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            return list((await session.execute(select(model).where(*where))).scalars().all())
    finally:
        await db.dispose()


async def request_of(stack: Stack, reference: str, status: str | None = None, timeout: float = 15) -> PrivacyRequest:
    deadline = time.monotonic() + timeout
    while True:
        [row] = await stored(stack, PrivacyRequest, PrivacyRequest.reference == reference)
        if status is None or row.status == status or time.monotonic() > deadline:
            return row
        await asyncio.sleep(0.2)


def reference_in(message: dict[str, Any]) -> str:
    found = REFERENCE.search(body_of(message))
    assert found, body_of(message)
    return found.group(0)


async def verify_in_app(script: Script, asked: dict[str, Any]) -> list[dict[str, Any]]:
    verify = [reply_id for reply_id, title in buttons_of(asked) if title in ("Verifikasi", "Verify")]
    assert verify, buttons_of(asked)
    [ask] = await script.taps(verify[0])
    assert "aplikasi" in body_of(ask) or "app" in body_of(ask)
    await script.approve_in_app()
    return await script.expect(1)


async def test_erasure_is_recorded_verified_in_the_app_and_carried_out(stack: Stack) -> None:
    script = Script(stack, customer_of(stack, BANK, "id"))
    [asked] = await script.says("hapus data saya")
    assert "penghapusan data pribadi" in body_of(asked) and "3x24 jam" in body_of(asked)
    reference = reference_in(asked)
    row = await request_of(stack, reference)
    assert row.right == "erasure" and row.status == "verifying" and row.channel == "whatsapp"
    assert (row.due_at - row.received_at).total_seconds() == 72 * 3600
    [verified] = await verify_in_app(script, asked)
    assert "terverifikasi" in body_of(verified)
    done = await request_of(stack, reference, "completed")
    assert done.status == "completed" and done.verification == "step_up" and done.wa_id is None
    assert [e["step"] for e in done.evidence][:2] == ["received", "verified"] and done.evidence[-1]["step"] == "erased"
    erased = done.evidence[-1]["detail"]
    assert erased["shredding"] == "done" and erased["key_ids"] and erased["messages"] >= 1  # crypto-shredded
    assert await stored(stack, Conversation, Conversation.wa_id == script.customer["wa_id"]) == []


async def test_access_sends_the_copy_as_an_encrypted_document(stack: Stack) -> None:
    customer = customer_of(stack, BANK, "en")
    details = await stack.core.get_customer(BANK, customer["customer_id"])
    password = details.date_of_birth.strftime("%d%m%Y")
    script = Script(stack, customer)
    [asked] = await script.says("send me a copy of my personal data")
    assert "copy of your personal data" in body_of(asked)
    reference = reference_in(asked)
    [verified] = await verify_in_app(script, asked)
    assert "identity is verified" in body_of(verified)
    [document] = await script.expect(1, timeout=20)
    assert document["payload"]["type"] == "document" and reference in body_of(document)
    assert password not in body_of(document)
    media_id = document["payload"]["document"]["id"]
    async with stack.http.get(f"{stack.base}/sandbox/_sandbox/media/{media_id}") as resp:
        pdf = await resp.read()
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(io.BytesIO(pdf))
    with pikepdf.open(io.BytesIO(pdf), password=password) as opened:
        attached = opened.attachments["data.json"].get_file().read_bytes()
    assert b"send me a copy of my personal data" in attached and reference.encode() in attached
    assert (await request_of(stack, reference)).status == "completed"


async def test_stop_promotions_acts_at_once(stack: Stack) -> None:
    script = Script(stack, customer_of(stack, BANK, "id"))
    [done] = await script.says("berhenti kirim promo")
    assert "tidak akan lagi menerima pesan promosi" in body_of(done)
    row = await request_of(stack, reference_in(done))
    assert row.status == "completed" and row.right == "consent_withdrawal" and row.purpose == "marketing"
    [recipient] = await stored(stack, Recipient, Recipient.wa_id == script.customer["wa_id"])
    assert recipient.marketing_opt_out_at is not None


async def test_objection_to_an_automated_decision_goes_to_a_person(stack: Stack) -> None:
    script = Script(stack, customer_of(stack, BANK, "id"))
    [recorded, queued] = await script.says("saya keberatan dengan keputusan otomatis", expect=2)
    assert "ditinjau oleh petugas" in body_of(recorded) and "petugas" in body_of(queued)
    row = await request_of(stack, reference_in(recorded))
    assert row.right == "objection" and row.status == "in_progress"


async def test_a_number_without_a_customer_is_verified_by_staff(stack: Stack) -> None:
    stranger = {**customer_of(stack, BANK, "id"), "wa_id": "6281311112222", "customer_id": None}
    script = Script(stack, stranger)
    replies = await script.says("hapus data saya", expect=2)
    assert "belum terdaftar" in body_of(replies[0]) and buttons_of(replies[0]) == []
    row = await request_of(stack, reference_in(replies[0]))
    assert row.status == "verifying" and row.customer_id is None
