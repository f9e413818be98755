"""The engine on its own: no storage, no network; the demo institution behind CorePort, a FakeClock.

These cover the decisions (step-up timing, stale buttons, identity, clarifying, handoffs) where a
fake clock or a hand-made state says more than the real path; the conversation scripts over the
real path are in test_journeys_*.py.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from loket.channel.outgoing import ListMessage, ReplyButtons, Text
from loket.clock import FakeClock
from loket.conversation.engine import ConversationEngine
from loket.conversation.stepup import STEP_UP_EVENT, StepUpSettings
from loket.conversation.turn import MediaView, TenantView, Turn, TurnResult
from loket.core.demo.institution import DemoCore, StepUpClosed
from loket.core.demo.tenants import BANK_NUSANTARA
from loket.core.port import Customer, StepUpRequest, StepUpStatus
from loket.demo import tenant_spec

NOW = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
BANK = TenantView(
    "bank-nusantara",
    "Bank Nusantara",
    "bank",
    "1500123",
    legal_name=BANK_NUSANTARA.legal_name,
    official=tenant_spec(BANK_NUSANTARA).official_channels,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def core(clock: FakeClock) -> DemoCore:
    return DemoCore.generate(clock)


@pytest.fixture
async def customer(core: DemoCore) -> Customer:
    return next(c for c in await core.customers(BANK.tenant_id) if c.language == "id")


class Chat:
    """One customer's conversation with the engine, carrying the state from turn to turn."""

    def __init__(self, engine: ConversationEngine, clock: FakeClock, customer: Customer | None) -> None:
        self.engine, self.clock, self.customer = engine, clock, customer
        self.state: dict[str, Any] = {}
        self.language = "id"
        self.first = True

    async def send(self, text: str | None = None, **extra: Any) -> TurnResult:
        turn = Turn(
            tenant=extra.pop("tenant", BANK),
            customer=extra.pop("customer", self.customer),
            language=self.language,
            kind=extra.pop("kind", "text"),
            text=text,
            reply_id=extra.pop("reply_id", None),
            now=self.clock.now(),
            state=self.state,
            first_contact=self.first,
            **extra,
        )
        result = await self.engine.handle(turn)
        self.state, self.language, self.first = result.state, result.language or self.language, False
        return result

    async def tap(self, reply_id: str, kind: str = "interactive_button_reply") -> TurnResult:
        return await self.send(None, kind=kind, reply_id=reply_id)


def bodies(result: TurnResult) -> list[str]:
    out = []
    for reply in result.replies:
        payload = dict(reply.to_payload())
        out.append(payload["text"]["body"] if payload["type"] == "text" else payload["interactive"]["body"]["text"])
    return out


def button_ids(result: TurnResult) -> list[str]:
    return [b.id for r in result.replies if isinstance(r, ReplyButtons) for b in r.buttons]


@pytest.fixture
def chat(core: DemoCore, clock: FakeClock, customer: Customer) -> Chat:
    return Chat(ConversationEngine(core), clock, customer)


async def approve(core: DemoCore, customer: Customer) -> StepUpRequest:
    [pending] = await core.pending_step_ups(BANK.tenant_id, customer.customer_id)
    return await core.decide_step_up(BANK.tenant_id, pending.request_id, True)


async def test_balance_waits_for_the_app_and_resumes_when_approved(
    chat: Chat, core: DemoCore, customer: Customer
) -> None:
    asked = await chat.send("sldo brp ya")
    assert "buka aplikasi *Bank Nusantara*" in bodies(asked)[0] and "Rp" not in bodies(asked)[0]
    assert "act:step_up_check" in button_ids(asked)
    waiting = await chat.send("sudah")
    assert "masih menunggu" in bodies(waiting)[0]
    request = await approve(core, customer)
    assert request.action == "Lihat saldo rekening lewat WhatsApp"
    shown = await chat.send("sudah")
    assert bodies(shown)[0].startswith("💰 Saldo rekening Anda per")


async def test_the_watchers_event_resumes_without_the_customer_writing(
    chat: Chat, core: DemoCore, customer: Customer
) -> None:
    await chat.send("cek saldo")
    request_id = chat.state["step_up"]["request_id"]
    quiet = await chat.send(None, kind=STEP_UP_EVENT, event_ref=request_id)
    assert quiet.replies == []  # still pending: nothing to say
    await approve(core, customer)
    stale = await chat.send(None, kind=STEP_UP_EVENT, event_ref="SU-SOMETHING-ELSE")
    assert stale.replies == []
    resumed = await chat.send(None, kind=STEP_UP_EVENT, event_ref=request_id)
    assert bodies(resumed)[0].startswith("💰 Saldo rekening Anda per")


async def test_elevation_lasts_five_minutes(chat: Chat, core: DemoCore, customer: Customer, clock: FakeClock) -> None:
    await chat.send("saldo")
    await approve(core, customer)
    await chat.send("ok")
    clock.advance(299)
    again = await chat.send("cek saldo lagi")
    assert bodies(again)[0].startswith("💰")
    clock.advance(2)
    expired = await chat.send("saldo")
    assert "buka aplikasi" in bodies(expired)[0]


async def test_an_approval_after_expiry_is_refused(
    chat: Chat, core: DemoCore, customer: Customer, clock: FakeClock
) -> None:
    await chat.send("saldo")
    request_id = chat.state["step_up"]["request_id"]
    clock.advance(121)
    with pytest.raises(StepUpClosed, match="expired"):
        await core.decide_step_up(BANK.tenant_id, request_id, True)
    told = await chat.send("sudah saya setujui")
    assert "kedaluwarsa" in bodies(told)[0] and "Rp" not in " ".join(bodies(told))
    assert "act:step_up_retry" in button_ids(told)
    retried = await chat.tap("act:step_up_retry")
    assert "buka aplikasi" in bodies(retried)[0]


async def test_a_late_approval_the_core_accepts_is_still_refused(
    chat: Chat, core: DemoCore, customer: Customer
) -> None:
    """Defence in depth: Loket checks the decision time itself, whatever the core says."""
    await chat.send("saldo")
    request_id = chat.state["step_up"]["request_id"]
    original = core.get_step_up

    async def late(tenant_id: str, rid: str) -> StepUpRequest:
        request = await original(tenant_id, rid)
        return dataclasses.replace(
            request,
            status=StepUpStatus.APPROVED,
            decided_at=request.expires_at.replace(microsecond=0) + (request.expires_at - request.created_at),
        )

    core.get_step_up = late  # type: ignore[method-assign]
    told = await chat.send(None, kind=STEP_UP_EVENT, event_ref=request_id)
    assert "kedaluwarsa" in bodies(told)[0]


async def test_a_rejected_step_up_shows_nothing_and_records_a_signal(
    chat: Chat, core: DemoCore, customer: Customer
) -> None:
    await chat.send("mutasi bulan lalu")
    [pending] = await core.pending_step_ups(BANK.tenant_id, customer.customer_id)
    await core.decide_step_up(BANK.tenant_id, pending.request_id, False)
    told = await chat.send("sudah")
    assert "ditolak" in bodies(told)[0]
    assert [s.kind for s in told.signals] == ["step_up_rejected"]


async def test_block_card_needs_no_step_up(chat: Chat, core: DemoCore, customer: Customer) -> None:
    result = await chat.send("kartu atm sy ilang!!")
    body = " ".join(bodies(result))
    assert "Kartu sudah diblokir" in body and "BLK-" in body
    assert await core.pending_step_ups(BANK.tenant_id, customer.customer_id) == []


async def test_a_binding_to_someone_else_drops_the_elevation(chat: Chat, core: DemoCore, customer: Customer) -> None:
    await chat.send("saldo")
    await approve(core, customer)
    await chat.send("ok")
    other = next(c for c in await core.customers(BANK.tenant_id) if c.customer_id != customer.customer_id)
    asked = await chat.send("saldo", customer=other)
    assert "buka aplikasi" in bodies(asked)[0]


async def test_stale_journey_button_is_recognised(chat: Chat) -> None:
    topics = await chat.send("edukasi keuangan")
    [menu] = [r for r in topics.replies if isinstance(r, ListMessage)]
    old_row = menu.sections[0].rows[0].id
    await chat.send("batal")
    stale = await chat.tap(old_row, kind="interactive_list_reply")
    assert "menu lama" in bodies(stale)[0]
    assert isinstance(stale.replies[1], ListMessage)


async def test_timed_out_journey_buttons_are_stale(chat: Chat, clock: FakeClock) -> None:
    tip = await chat.send("tips menabung")
    next_id = next(i for i in button_ids(tip) if i.endswith(":next"))
    clock.advance(16 * 60)
    stale = await chat.tap(next_id)
    assert "menu lama" in bodies(stale)[0]


async def test_cancel_and_restart(chat: Chat) -> None:
    await chat.send("cek penipuan")
    assert chat.state["journey"]["name"] == "scam_check"
    cancelled = await chat.send("batal")
    assert "dibatalkan" in bodies(cancelled)[0] and "journey" not in chat.state
    nothing = await chat.send("cancel")
    assert "Tidak ada proses" in bodies(nothing)[0]
    again = await chat.send("cek penipuan")
    assert "teruskan" in bodies(again)[0].lower()


async def test_language_switch_is_remembered(chat: Chat) -> None:
    switched = await chat.send("english please")
    assert bodies(switched)[0] == "Sure, I'll reply in English from now on."
    assert chat.language == "en" and chat.state["lang_set"] is True
    help_text = await chat.send("bantuan")
    assert "Here's what I can help you with" in bodies(help_text)[0]
    back = await chat.send("bahasa indonesia")
    assert "Bahasa Indonesia" in bodies(back)[0] and chat.language == "id"


async def test_three_misses_hand_over_to_a_person(chat: Chat) -> None:
    chat.first = False
    for _ in range(2):
        missed = await chat.send("zzzz qqqq")
        assert isinstance(missed.replies[-1], ListMessage)
        assert missed.handoff is None
    third = await chat.send("zzzz qqqq")
    assert third.handoff is not None and third.handoff.reason == "not_understood"


async def test_angry_tone_hands_over_but_a_lost_card_is_blocked_first(chat: Chat) -> None:
    angry = await chat.send("bot goblok, kecewa berat sama pelayanannya")
    assert angry.handoff is not None and angry.handoff.reason == "angry"
    blocked = await chat.send(
        "goblok, kartu atm saya hilang blokir sekarang",
    )
    assert blocked.handoff is None or "Kartu sudah diblokir" in " ".join(bodies(blocked))


async def test_a_quiet_bot_while_a_person_has_the_conversation(chat: Chat) -> None:
    chat.state["handoff"] = 7
    assert (await chat.send("halo?", handoff_open=True)).replies == []
    back = await chat.send("halo", handoff_open=False)
    assert back.replies and "handoff" not in chat.state


async def test_secret_warning_names_the_kind_and_records_a_signal(chat: Chat) -> None:
    result = await chat.send("kode otp saya [OTP disembunyikan]", redactions=("otp",))
    assert len(result.replies) == 1
    assert "kode OTP" in bodies(result)[0] and "tidak pernah meminta" in bodies(result)[0]
    assert "act:block_card" in button_ids(result)
    assert [s.kind for s in result.signals] == ["secret_shared"]


async def test_non_customer_gets_public_services_only(core: DemoCore, clock: FakeClock) -> None:
    stranger = Chat(ConversationEngine(core), clock, None)
    result = await stranger.send("saldo saya berapa")
    assert "belum terdaftar" in bodies(result)[0] and "Rp" not in bodies(result)[0]
    menu = result.replies[-1]
    assert isinstance(menu, ListMessage)
    rows = [row.id for row in menu.sections[0].rows]
    assert "menu:balance" not in rows and "menu:security" in rows
    tapped = await stranger.tap("menu:balance", kind="interactive_list_reply")
    assert "belum terdaftar" in bodies(tapped)[0]
    assert await core.pending_step_ups(BANK.tenant_id) == []


async def test_non_customer_writing_english_gets_english(core: DemoCore, clock: FakeClock) -> None:
    stranger = Chat(ConversationEngine(core), clock, None)
    result = await stranger.send("is this really bank nusantara?")
    assert "Yes, you are chatting with the official WhatsApp number" in bodies(result)[0]


async def test_clarifying_question_offers_buttons(chat: Chat) -> None:
    chat.first = False
    result = await chat.send("gimana ya")
    assert isinstance(result.replies[0], ReplyButtons)
    assert button_ids(result) and all(i.startswith("act:intent:") for i in button_ids(result))
    chosen = await chat.tap(button_ids(result)[0])
    assert chosen.replies or chosen.handoff is not None


async def test_a_bare_kartu_never_blocks_without_a_tap(chat: Chat, core: DemoCore, customer: Customer) -> None:
    result = await chat.send("kartu")
    assert "Kartu mana yang ingin diblokir" in bodies(result)[0]
    assert all(card.status.value == "active" for card in await core.list_cards(BANK.tenant_id, customer.customer_id))
    card_button = button_ids(result)[0]
    blocked = await chat.tap(card_button)
    assert "Kartu sudah diblokir" in bodies(blocked)[0]


@pytest.mark.parametrize("kind", ["sticker", "video", "image", "document", "location"])
async def test_unsupported_media_explains_and_shows_menu(chat: Chat, kind: str) -> None:
    result = await chat.send(None, kind=kind)
    assert "belum bisa memproses" in bodies(result)[0]
    assert isinstance(result.replies[1], ListMessage)


async def test_voice_note_says_to_type(chat: Chat) -> None:
    result = await chat.send(None, kind="audio", media=MediaView(mime_type="audio/ogg", voice=True))
    assert "pesan suara" in bodies(result)[0]


async def test_an_apk_is_flagged_without_being_asked(chat: Chat) -> None:
    result = await chat.send(
        None,
        kind="document",
        media=MediaView(filename="Undangan Pernikahan.apk", mime_type="application/vnd.android.package-archive"),
    )
    assert "Undangan Pernikahan.apk" in bodies(result)[0] and "Jangan dipasang" in bodies(result)[0]


async def test_four_thousand_characters_are_answered(chat: Chat) -> None:
    result = await chat.send("mau tanya " + "x" * 3990)
    assert result.replies and isinstance(result.replies[-1], (ListMessage, ReplyButtons, Text))


async def test_emoji_only_gets_the_menu(chat: Chat) -> None:
    chat.first = False
    result = await chat.send("🙂🙂🙂")
    assert any(isinstance(r, ListMessage) for r in result.replies)


async def test_reaction_gets_no_reply(chat: Chat) -> None:
    assert (await chat.send(None, kind="reaction")).replies == []


async def test_step_up_request_ttl_is_configurable(core: DemoCore, clock: FakeClock, customer: Customer) -> None:
    chat = Chat(
        ConversationEngine(core, StepUpSettings(request_ttl_seconds=30, elevated_ttl_seconds=60)), clock, customer
    )
    await chat.send("saldo")
    [pending] = await core.pending_step_ups(BANK.tenant_id, customer.customer_id)
    assert (pending.expires_at - pending.created_at).total_seconds() == 30


async def test_a_forwarded_message_with_a_code_is_warned_about_and_still_checked(chat: Chat) -> None:
    result = await chat.send(
        "Kode OTP Anda [OTP disembunyikan]. Segera berikan ke petugas kami di 081299998888 agar hadiah cair",
        redactions=("otp",),
        forwarded=True,
    )
    texts = bodies(result)
    assert "kode OTP" in texts[0] and "Hati-hati" in texts[1]
