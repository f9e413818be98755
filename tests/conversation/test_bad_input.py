"""The bad input the issue lists, over the real path: emoji only, stickers, voice notes and videos,
4,000 characters, other languages, bursts, stale menus, a step-up approved after it expired, an
unknown number asking for a balance, a pasted card number or OTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from script_support import BANK, Script, body_of, buttons_of, customer_of, scripted_stack
from sqlalchemy import select

from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import InboundMessage, OutboxMessage
from loket.dialogue.tables import SecuritySignal
from stack import Stack
from support import TEST_SCOPE

CARD = "4111 1111 1111 1111"


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with scripted_stack(settings) as running:
        yield running


async def opened(stack: Stack, language: str = "id", index: int = 0) -> Script:
    """A customer who has said hello (the 24-hour window is open), with the greeting read."""
    script = Script(stack, customer_of(stack, BANK, language, index))
    await script.says("halo", expect=2)
    return script


async def test_emoji_only_stickers_voice_and_video_get_an_explanation_and_the_menu(stack: Stack) -> None:
    script = await opened(stack)
    [_text, menu] = await script.says("😀😀😀", expect=2)
    assert buttons_of(menu) and buttons_of(menu)[0][0].startswith("menu:")
    await script.webhook({"type": "sticker", "sticker": {"id": "9001", "mime_type": "image/webp", "animated": False}})
    [sticker, _] = await script.expect(2)
    assert "stiker" in body_of(sticker)
    await script.webhook(
        {"type": "audio", "audio": {"id": "9002", "mime_type": "audio/ogg; codecs=opus", "voice": True}}
    )
    [voice, _] = await script.expect(2)
    assert "pesan suara" in body_of(voice) and "tuliskan pesan" in body_of(voice)
    await script.webhook({"type": "video", "video": {"id": "9003", "mime_type": "video/mp4"}})
    [video, _] = await script.expect(2)
    assert "video" in body_of(video) and "pesan teks" in body_of(video)


async def test_four_thousand_characters_and_other_languages(stack: Stack) -> None:
    script = await opened(stack, "en")
    long = ("tolong jelaskan cara menabung yang baik untuk keluarga " * 80)[:4000]
    [answer] = await script.says(long)
    assert "tip 1/4" in body_of(answer)  # the intent is in the first lines; the rest costs nothing
    other = await opened(stack, "id", index=1)
    [foreign, menu] = await other.says("你好，我想查一下我的账户余额", expect=2)
    assert "Bahasa Indonesia dan English" in body_of(foreign)
    assert buttons_of(menu)


async def test_a_burst_is_answered_in_order(stack: Stack) -> None:
    script = await opened(stack)
    for text in ("tips menabung", "bantuan", "is bank-nusantara-promo.com yours?", "bunga KTA berapa", "makasih"):
        await stack.say(script.customer, type="text", text=text)
    out = await script.expect(5, timeout=20)
    assert "tips 1/4" in body_of(out[0])
    assert "Ini yang bisa saya bantu" in body_of(out[1])
    assert "bank-nusantara-promo[.]com" in body_of(out[2])
    assert "KTA Nusantara" in body_of(out[3])
    assert "Sama-sama" in body_of(out[4])


async def test_a_row_from_an_expired_menu(stack: Stack) -> None:
    script = await opened(stack)
    await script.webhook(
        {
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": "menu:old-feature", "title": "Fitur lama"}},
        }
    )
    [stale, menu] = await script.expect(2)
    assert "menu lama" in body_of(stale) and buttons_of(menu)


async def test_a_step_up_approved_after_it_expired_is_refused(settings: Settings) -> None:
    async with scripted_stack(settings, step_up_request_ttl_seconds=2) as stack:
        script = await opened(stack)
        [asked] = await script.says("saldo")
        [pending] = await script.pending_step_ups()
        assert "berlaku 1 menit" in body_of(asked) or "berlaku" in body_of(asked)
        await asyncio.sleep(2.3)
        status, refused = await script.decide(pending["request_id"], approve=True)
        assert status == 409 and refused["error"]["code"] == "conflict"
        [expired] = await script.expect(1, timeout=10)  # the watcher tells the customer
        assert "kedaluwarsa" in body_of(expired) and "Rp" not in body_of(expired)
        assert [title for _, title in buttons_of(expired)] == ["Coba lagi", "Menu"]
        [again] = await script.taps(buttons_of(expired)[0][0])
        assert "setujui permintaan verifikasi" in body_of(again)


async def test_an_unknown_number_asking_for_a_balance_gets_public_services(stack: Stack) -> None:
    stranger = {"wa_id": "6289999000222", "phone_number_id": stack.pnid(BANK), "tenant_id": BANK, "customer_id": "-"}
    script = Script(stack, stranger)
    [refused, menu] = await script.says("what is my balance", expect=2)
    assert "is not registered" in body_of(refused) or "belum terdaftar" in body_of(refused)
    assert "Rp" not in body_of(refused)
    rows = [rid for rid, _ in buttons_of(menu)]
    assert "menu:balance" not in rows and "menu:security" in rows
    assert await stack.core.pending_step_ups(BANK) == []


async def test_a_pasted_card_number_and_otp_are_redacted_warned_and_signalled(stack: Stack) -> None:
    script = await opened(stack)
    [warning] = await script.says(f"ini nomor kartu saya {CARD} tolong dicek")
    assert "nomor kartu" in body_of(warning) and "tidak pernah meminta" in body_of(warning)
    assert [title for _, title in buttons_of(warning)] == ["Blokir kartu", "Bicara dengan CS"]
    [otp_warning] = await script.says("kode otp saya 482913 buat apa ya")
    assert "kode OTP" in body_of(otp_warning)
    db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            texts = [m.text or "" for m in (await session.execute(select(InboundMessage))).scalars()]
            payloads = [json.dumps(m.payload) for m in (await session.execute(select(OutboxMessage))).scalars()]
            signals = [s.kind for s in (await session.execute(select(SecuritySignal))).scalars()]
    finally:
        await db.dispose()
    assert not any(CARD in text or "4111111111111111" in text or "482913" in text for text in texts)
    assert not any("4111" in payload and "1111 1111" in payload for payload in payloads)
    assert signals.count("secret_shared") == 2
