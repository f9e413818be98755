"""A complaint over the real path (simulator -> signed webhook -> Loket -> sandbox phone): the customer
files it step by step and gets the reference number and the deadline at once, asks for its status by
number, and hears about the rejection with the escalation path (LAPS SJK, OJK 157, APPK)."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conversation"))
from script_support import BANK, Script, body_of, buttons_of, customer_of, scripted_stack

from loket.audit.log import current as audit_current
from loket.complaints.desk import ComplaintDesk
from loket.complaints.model import Status
from loket.config import Settings
from loket.db.engine import Database
from loket.security.secretbox import SecretBox
from stack import Stack
from support import TEST_SCOPE


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with scripted_stack(settings) as running:
        yield running


def row_id(message: dict[str, object], title: str) -> str:
    return next(i for i, t in buttons_of(message) if t == title)  # type: ignore[arg-type]


async def test_complaint_from_whatsapp_to_the_final_answer(stack: Stack) -> None:
    customer = customer_of(stack, BANK, "id")
    script = Script(stack, customer)
    intro, products = await script.says("min, saya mau mengadu", expect=2)
    assert "nomor pengaduan" in body_of(intro)
    [causes] = await script.taps(row_id(products, "Transfer"))
    [ask_amount] = await script.taps(row_id(causes, "Transaksi gagal"))
    assert "Berapa nominal" in body_of(ask_amount)
    [ask_date] = await script.says("500000")
    assert "Kapan" in body_of(ask_date)
    [ask_what] = await script.says("kemarin")
    assert "Ceritakan" in body_of(ask_what)
    [registered] = await script.says("Transfer ke rekening adik gagal tapi saldo saya sudah terpotong.")
    text = body_of(registered)
    match = re.search(r"PGD-\d{4}-\d{6}", text)
    assert match is not None, text
    reference = match.group(0)
    assert "10 hari kerja" in text and re.search(r"\d{1,2} \w{3} \d{4} \d{2}\.\d{2} WI(B|TA|T)", text)

    [status] = await script.says(f"status pengaduan {reference}")
    assert reference in body_of(status) and "sudah diterima" in body_of(status)
    [nothing] = await script.says("status pengaduan PGD-2026-999999")
    assert "tidak kami temukan" in body_of(nothing)

    db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
    desk = ComplaintDesk(dialect=db.dialect, box=SecretBox(stack.settings.master_key_bytes))
    try:
        async with db.transaction() as session:
            row = await desk.get(session, customer["tenant_id"], reference)
            assert row.channel == "whatsapp" and row.form == "written" and row.amount == 500_000
            assert row.wa_id == customer["wa_id"] and row.product == "transfer"
            view = await desk.view(session, row, row.received_at)
            assert view.summary == "Transfer ke rekening adik gagal tapi saldo saya sudah terpotong."
            assert audit_current() is not None
            answer = "Dana tertahan di bank penerima dan sudah dikembalikan ke rekening Anda."
            await desk.close(session, row, Status.UNRESOLVED, answer, actor="staff-1", now=row.received_at)
    finally:
        await db.dispose()
    [final] = await script.expect(1, timeout=15)
    body = body_of(final)
    assert reference in body and answer in body
    assert "LAPS SJK" in body and "157" in body and "kontak157.ojk.go.id" in body
