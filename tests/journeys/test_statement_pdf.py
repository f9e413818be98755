"""The e-statement PDF: opens with the customer's date of birth (DDMMYYYY) only, AES-256, and its
contents match the core's transactions and totals."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader

from loket.clock import FakeClock
from loket.conversation.journey import Context, Given
from loket.conversation.turn import TenantView, Turn
from loket.core.demo.institution import DemoCore
from loket.core.demo.tenants import BANK_NUSANTARA
from loket.demo import tenant_spec
from loket.i18n.formatting import rupiah
from loket.journeys.e_statement import JOURNEY
from loket.journeys.statement_pdf import Statement, encrypt, latin1, password_for, render
from loket.understanding import extract

NOW = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
BANK = TenantView(
    "bank-nusantara",
    "Bank Nusantara",
    "bank",
    "1500123",
    legal_name=BANK_NUSANTARA.legal_name,
    official=tenant_spec(BANK_NUSANTARA).official_channels,
)


async def statement_for(language: str, text: str) -> tuple[Any, bytes, str]:
    core = DemoCore.generate(FakeClock(NOW))
    single = [
        c
        for c in await core.customers(BANK.tenant_id)
        if len(await core.list_accounts(BANK.tenant_id, c.customer_id)) == 1
    ]
    customer = single[0]
    turn = Turn(tenant=BANK, customer=customer, language=language, kind="text", text=text, reply_id=None, now=NOW)
    given = Given(text=text, entities=extract(text, NOW, customer.timezone))
    outcome = await JOURNEY.start(Context(core, turn, "abc123", "e_statement"), given)
    [document] = outcome.documents
    return (core, customer), document.data, password_for(customer.date_of_birth)


def text_of(pdf: bytes, password: str) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.decrypt(password)
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_opens_with_the_right_password_only() -> None:
    (_, customer), pdf, password = await statement_for("id", "rekening koran oktober")
    assert password == customer.date_of_birth.strftime("%d%m%Y") and len(password) == 8
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(io.BytesIO(pdf))
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(io.BytesIO(pdf), password="01011970")
    with pikepdf.open(io.BytesIO(pdf), password=password) as document:
        assert document.is_encrypted and document.encryption.bits == 256 and document.encryption.R == 6
    assert not PdfReader(io.BytesIO(pdf)).decrypt("12345678")


@pytest.mark.parametrize("language", ["id", "en"])
async def test_contents_match_transactions_and_totals(language: str) -> None:
    (core, customer), pdf, password = await statement_for(language, "rekening koran oktober 2026")
    [account] = await core.list_accounts(BANK.tenant_id, customer.customer_id)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(customer.timezone)
    found = await core.list_transactions(
        BANK.tenant_id, account.account_id, datetime(2026, 10, 1, tzinfo=zone), datetime(2026, 11, 1, tzinfo=zone)
    )
    assert found and start
    text = text_of(pdf, password)
    assert "Bank Nusantara" in text and latin1(customer.full_name) in text
    assert account.number not in text and account.number[-4:] in text
    money_in = sum(t.amount for t in found if t.amount > 0)
    money_out = -sum(t.amount for t in found if t.amount < 0)
    opening, closing = found[0].balance_after - found[0].amount, found[-1].balance_after
    for figure in (rupiah(money_in), rupiah(money_out), rupiah(opening), rupiah(closing)):
        assert figure in text
    # Every transaction is there, with its amount and running balance, in order.
    lines = [line for line in text.splitlines() if re.match(r"\d\d/\d\d \d\d:\d\d", line)]
    assert len(lines) == len(found)
    for line, item in zip(lines, found, strict=True):
        assert rupiah(item.amount) in line and line.endswith(rupiah(item.balance_after))
    assert str(len(found)) in text


def test_latin1_keeps_what_it_can() -> None:
    assert latin1("Café •••• 1234 – ok") == "Café **** 1234 - ok"
    assert latin1("Toko 日本") == "Toko ?" or latin1("Toko 日本").startswith("Toko")


def test_an_empty_month_still_renders() -> None:
    statement = Statement(
        tenant_id="bank-nusantara",
        institution="Bank Nusantara",
        legal_name="PT Bank Nusantara Tbk",
        customer_name="Siti",
        product="Tabungan",
        account_masked="•••• 1234",
        period_label="Oktober 2026",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        opening=1000,
        closing=1000,
        transactions=(),
        language="id",
        zone="Asia/Jakarta",
        generated_at=NOW,
    )
    pdf = encrypt(render(statement), "01021990")
    assert "Tidak ada transaksi" in text_of(pdf, "01021990")
