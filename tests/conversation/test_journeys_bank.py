"""Bank journeys as conversation scripts over the real path, in both languages: the customer says X,
the bot answers Y. Balance, mutations, e-statement, spending insight (behind step-up), block card,
official-channel check, scam check, education, product information, help."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader
from script_support import BANK, Script, body_of, buttons_of, scripted_stack
from sqlalchemy import select

from loket.config import Settings
from loket.core.port import Account, Card
from loket.db.engine import Database
from loket.dialogue.tables import OutgoingDocument, SecuritySignal
from loket.i18n.formatting import rupiah
from stack import Stack
from support import TEST_SCOPE


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with scripted_stack(settings) as running:
        yield running


async def bank_customer(
    stack: Stack, language: str, accounts: int = 1, want: Callable[[list[Card]], bool] | None = None
) -> dict[str, Any]:
    for customer in stack.summary["customers"]:
        if customer["tenant_id"] != BANK or customer["language"] != language:
            continue
        found = await stack.core.list_accounts(BANK, customer["customer_id"])
        cards = await stack.core.list_cards(BANK, customer["customer_id"])
        if len(found) == accounts and (want is None or want(cards)):
            return dict(customer)
    raise LookupError("no such demo customer")


async def rows(stack: Stack, model: type[Any]) -> list[Any]:
    db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            return list((await session.execute(select(model))).scalars().all())
    finally:
        await db.dispose()


async def test_balance_in_english_after_approval(stack: Stack) -> None:
    script = Script(stack, await bank_customer(stack, "en"))
    [asked] = await script.says("what's my balance?")
    assert "open the *Bank Nusantara* app" in body_of(asked) and "Rp" not in body_of(asked)
    decided = await script.approve_in_app()
    assert decided["action"] == "View account balances on WhatsApp"
    [shown] = await script.expect(1)
    assert body_of(shown).startswith("💰 Your account balances as of")
    # Elevated for five minutes: the next sensitive request needs no new approval.
    [again] = await script.says("show my last 3 transactions")
    assert "last 3 transactions" in body_of(again) and await script.pending_step_ups() == []


async def test_mutations_paginated_with_totals(stack: Stack) -> None:
    customer = await bank_customer(stack, "id")
    script = Script(stack, customer)
    await script.says("cek mutasi dong")
    await script.approve_in_app()
    [first] = await script.expect(1)
    assert "10 transaksi terakhir" in body_of(first)
    assert "Masuk:" in body_of(first) and "Keluar:" in body_of(first)
    [page, nav] = await script.says("mutasi bulan lalu", expect=2)
    account: Account = (await stack.core.list_accounts(BANK, customer["customer_id"]))[0]
    assert account.number[-4:] in body_of(page) and account.number not in body_of(page)
    assert "Halaman 1 dari" in body_of(nav)
    ids = {title: rid for rid, title in buttons_of(nav)}
    [_page2, nav2] = await script.taps(ids["Berikutnya"], expect=2)
    assert "Halaman 2 dari" in body_of(nav2)
    lines = [line for line in body_of(page).split("\n") if line.count(" · ") == 2]
    assert len(lines) == 10
    done = {title: rid for rid, title in buttons_of(nav2)}["Selesai"]
    [closed] = await script.taps(done)
    assert "menu" in body_of(closed)
    # The button of the finished journey is stale now.
    [stale, _menu] = await script.taps(ids["Berikutnya"], expect=2, message_id=nav["id"])
    assert "menu lama" in body_of(stale)


async def test_mutations_ask_which_account_when_there_are_two(stack: Stack) -> None:
    script = Script(stack, await bank_customer(stack, "id", accounts=2))
    await script.says("mutasi 5 transaksi terakhir")
    await script.approve_in_app()
    [question] = await script.expect(1)
    assert "rekening yang mana" in body_of(question)
    choices = buttons_of(question)
    assert [title.split()[0] for _, title in choices] == ["Tabungan", "Giro"]
    [shown] = await script.taps(choices[1][0])
    assert "5 transaksi terakhir" in body_of(shown) and "Giro" in body_of(shown)


@pytest.mark.parametrize(
    ("language", "ask", "sending", "how"),
    [
        ("id", "minta rekening koran bulan lalu", "sedang kami kirim sebagai file PDF", "*DDMMYYYY*"),
        ("en", "please send my e-statement for last month", "is on its way as a PDF file", "*DDMMYYYY*"),
    ],
)
async def test_e_statement_arrives_as_an_encrypted_document(
    stack: Stack, language: str, ask: str, sending: str, how: str
) -> None:
    customer = await bank_customer(stack, language)
    details = await stack.core.get_customer(BANK, customer["customer_id"])
    password = details.date_of_birth.strftime("%d%m%Y")
    script = Script(stack, customer)
    await script.says(ask)
    await script.approve_in_app()
    [told, document] = await script.expect(2, timeout=15)
    assert sending in body_of(told) and how in body_of(told)
    assert password not in body_of(told) and password not in body_of(document)
    assert document["payload"]["type"] == "document"
    media_id = document["payload"]["document"]["id"]
    assert document["payload"]["document"]["filename"].endswith(".pdf")
    async with stack.http.get(f"{stack.base}/sandbox/_sandbox/media/{media_id}") as resp:
        assert resp.status == 200
        pdf = await resp.read()
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(io.BytesIO(pdf))
    with pikepdf.open(io.BytesIO(pdf), password=password) as opened:
        assert opened.encryption.R == 6 and opened.encryption.stream_method.name.lower() == "aesv3"
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.is_encrypted and reader.decrypt(password)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Bank Nusantara" in text and details.full_name in text
    # The sealed content was dropped once uploaded; a signal records that a statement went out.
    [stored] = await rows(stack, OutgoingDocument)
    assert stored.status == "sent" and stored.content_enc is None and stored.media_id == media_id
    assert "statement_sent" in [signal.kind for signal in await rows(stack, SecuritySignal)]


async def test_spending_insight_by_category_against_last_month(stack: Stack) -> None:
    script = Script(stack, await bank_customer(stack, "id"))
    await script.says("pengeluaran saya bulan ini buat apa aja?")
    await script.approve_in_app()
    [insight] = await script.expect(1)
    body = body_of(insight)
    assert body.startswith("📊 *Pengeluaran Anda") and "bulan lalu" in body and "💡 *Tips:*" in body
    english = Script(stack, await bank_customer(stack, "en"))
    await english.says("where did my money go this month?")
    await english.approve_in_app()
    [insight_en] = await english.expect(1)
    assert body_of(insight_en).startswith("📊 *Your spending") and "💡 *Tip:*" in body_of(insight_en)


async def test_block_card_immediately_with_reference(stack: Stack) -> None:
    customer = await bank_customer(stack, "id", want=lambda cards: [c.kind.value for c in cards] == ["debit"])
    script = Script(stack, customer)
    [blocked] = await script.says("kartu atm sy ilang!!")
    body = body_of(blocked)
    assert "Kartu sudah diblokir" in body and "BLK-" in body and "kantor cabang" in body
    assert await script.pending_step_ups() == []  # protective: no step-up
    [card] = await stack.core.list_cards(BANK, customer["customer_id"])
    assert card.status.value == "blocked"


async def test_block_card_in_english_chooses_among_cards(stack: Stack) -> None:
    customer = await bank_customer(stack, "en", want=lambda cards: len(cards) == 2)
    script = Script(stack, customer)
    await script.says("menu")
    [question] = await script.taps("menu:block_card")
    assert "Which card should I block?" in body_of(question)
    titles = [title for _, title in buttons_of(question)]
    assert titles[0].startswith("Debit") and titles[1].startswith("Credit") and titles[2] == "All cards"
    [blocked] = await script.taps(buttons_of(question)[2][0])
    assert body_of(blocked).count("Reference: *BLK-") == 2


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "id",
            "apakah bank-nusantara-promo.com punya bank nusantara?",
            ["BUKAN situs Bank Nusantara", "meniru nama kami"],
        ),
        ("en", "is banknusantara.co.id.verify.me yours?", ["is NOT a Bank Nusantara website", "imitates our name"]),
        ("id", "nomor +62 811 1500 123 ini resmi ga?", ["adalah nomor WhatsApp resmi Bank Nusantara"]),
        ("en", "is 0812 9999 8888 really bank nusantara?", ["is not an official Bank Nusantara number"]),
        ("id", "akun ig @banknusantara_official asli ga", ["BUKAN akun resmi Bank Nusantara"]),
        ("en", "is ib.banknusantara.co.id safe?", ["is an official website of Bank Nusantara"]),
    ],
)
async def test_official_channel_check(stack: Stack, language: str, text: str, expected: list[str]) -> None:
    script = Script(stack, await bank_customer(stack, language))
    [answer] = await script.says(text)
    for part in expected:
        assert part in body_of(answer)


async def test_official_channel_check_asks_when_nothing_is_given(stack: Stack) -> None:
    script = Script(stack, await bank_customer(stack, "en"))
    [answer] = await script.says("is this really bank nusantara?")
    assert "Yes, you are chatting with the official WhatsApp number" in body_of(answer)
    [checked] = await script.says("bank-nusantara-promo.com")
    assert "is NOT a Bank Nusantara website" in body_of(checked)


async def test_scam_check_then_block_cards_when_a_code_was_shared(stack: Stack) -> None:
    customer = await bank_customer(stack, "id", want=lambda cards: len(cards) == 1)
    script = Script(stack, customer)
    [ask] = await script.says("tolong cek penipuan dong")
    assert "teruskan" in body_of(ask).lower()
    forwarded = (
        "Selamat! Anda memenangkan undian Bank Nusantara. Segera klaim dalam 24 jam di "
        "http://bank-nusantara-promo.com dan kirimkan kode OTP yang kami kirim ke 081299998888. "
        "Sudah terlanjur saya kasih OTP-nya"
    )
    [verdict, offer] = await script.says(forwarded, expect=2)
    body = body_of(verdict)
    for reason in ("mendapatkan kode OTP", "meniru nama Bank Nusantara", "bukan nomor resmi", "hadiah", "mendesak"):
        assert reason in body
    assert "157" in body and "iasc.ojk.go.id" in body
    assert [title for _, title in buttons_of(offer)] == ["Blokir kartu", "Bicara dengan CS"]
    [chooser] = await script.taps(buttons_of(offer)[0][0])
    assert "Kartu mana yang ingin diblokir" in body_of(chooser)
    [blocked] = await script.taps(buttons_of(chooser)[0][0])
    assert "Kartu sudah diblokir" in body_of(blocked)
    kinds = [signal.kind for signal in await rows(stack, SecuritySignal)]
    assert "scam_reported" in kinds and "compromise_reported" in kinds


async def test_scam_check_in_english_flags_an_apk(stack: Stack) -> None:
    script = Script(stack, await bank_customer(stack, "en"))
    [ask] = await script.says("can you check if this message is a scam")
    assert "forward the suspicious message" in body_of(ask)
    await script.webhook(
        {
            "type": "document",
            "document": {
                "id": "1234567890",
                "filename": "Wedding Invitation.apk",
                "mime_type": "application/vnd.android.package-archive",
            },
        }
    )
    [verdict] = await script.expect(1)
    assert "Wedding Invitation.apk" in body_of(verdict) and "Don't install it" in body_of(verdict)


async def test_education_one_tip_at_a_time(stack: Stack) -> None:
    script = Script(stack, await bank_customer(stack, "id"))
    [topics] = await script.says("mau belajar atur keuangan dong, ada edukasi?")
    if buttons_of(topics) and buttons_of(topics)[0][0].endswith(":next"):
        tip = topics
    else:
        rows_ = {title: rid for rid, title in buttons_of(topics)}
        assert "Menabung" in rows_ and "Mengenali penipuan" in rows_
        [tip] = await script.taps(rows_["Menabung"])
    assert "tips 1/4" in body_of(tip)
    [tip2] = await script.taps(buttons_of(tip)[0][0])
    assert "tips 2/4" in body_of(tip2)
    english = Script(stack, await bank_customer(stack, "en"))
    [tip_en] = await english.says("tips to avoid scams")
    assert "Spotting scams" in body_of(tip_en) and "tip 1/4" in body_of(tip_en)


async def test_product_information_riplay(stack: Stack) -> None:
    script = Script(stack, await bank_customer(stack, "id"))
    [riplay] = await script.says("bunga KTA berapa?")
    assert "RIPLAY umum: KTA Nusantara" in body_of(riplay) and "Rp1.073.333" in body_of(riplay)
    english = Script(stack, await bank_customer(stack, "en"))
    await english.says("menu")
    [products] = await english.taps("menu:products")
    titles = [title for _, title in buttons_of(products)]
    assert titles == ["Tabungan Nusantara", "KTA Nusantara", "Gold Credit Card"]
    [card] = await english.taps(buttons_of(products)[2][0])
    assert "Key facts (RIPLAY umum): Kartu Kredit Nusantara Gold" in body_of(card) and "1.75% a month" in body_of(card)


async def test_help_and_language_switch(stack: Stack) -> None:
    script = Script(stack, await bank_customer(stack, "id"))
    [help_id] = await script.says("bisa bantu apa aja?")
    assert "Ini yang bisa saya bantu" in body_of(help_id) and "rekening koran" in body_of(help_id)
    [switched, menu] = await script.says("english please", expect=2)
    assert body_of(switched) == "Sure, I'll reply in English from now on."
    assert body_of(menu) == "How can we help you today?"
    [help_en] = await script.says("bantuan")
    assert "Here's what I can help you with" in body_of(help_en)
    [back, _menu] = await script.says("bahasa indonesia", expect=2)
    assert "Bahasa Indonesia" in body_of(back)


def test_rupiah_format_is_what_the_scripts_expect() -> None:
    assert rupiah(1234567) == "Rp1.234.567"
