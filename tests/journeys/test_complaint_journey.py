"""The complaint journeys through the conversation engine (no storage): the bot recognises the ways
people say they want to complain, asks product, cause, amount, date and what happened step by step,
and hands the inbox a ComplaintAsk (CMP-1); a status question with a reference number asks for that
complaint (CMP-4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from loket.channel.outgoing import ListMessage, ReplyButtons, Text
from loket.clock import FakeClock
from loket.complaints.model import find_reference
from loket.conversation.engine import ConversationEngine
from loket.conversation.journey import Given
from loket.conversation.turn import OutgoingMessage, TenantView, Turn, TurnResult
from loket.core.demo.institution import DemoCore
from loket.journeys.complaint import parse_amount, parse_date

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
BANK = TenantView("bank-nusantara", "Bank Nusantara", "bank", "1500123")


@pytest.fixture
def engine() -> ConversationEngine:
    return ConversationEngine(DemoCore.generate(FakeClock(NOW)))


class Chat:
    def __init__(self, engine: ConversationEngine, language: str = "id") -> None:
        self.engine, self.language, self.state = engine, language, {}  # type: ignore[var-annotated]

    async def send(self, text: str | None = None, *, reply_id: str | None = None) -> TurnResult:
        kind = "text" if reply_id is None else "interactive_list_reply"
        turn = Turn(BANK, None, self.language, kind, text, reply_id, NOW, state=dict(self.state))
        result = await self.engine.handle(turn)
        self.state = result.state
        return result


def body(message: OutgoingMessage) -> str:
    if isinstance(message, Text):
        return message.body
    assert isinstance(message, ListMessage | ReplyButtons)
    return message.body


def rows(message: OutgoingMessage) -> dict[str, str]:
    if isinstance(message, ListMessage):
        return {row.title: row.id for section in message.sections for row in section.rows}
    assert isinstance(message, ReplyButtons)
    return {button.title: button.id for button in message.buttons}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("mau komplain", "id"),
        ("saya mau mengadu", "id"),
        ("komplain", "id"),
        ("pengaduan", "id"),
        ("I want to complain", "en"),
    ],
)
async def test_the_ways_people_say_it_start_the_complaint(engine: ConversationEngine, text: str, language: str) -> None:
    result = await Chat(engine, language).send(text)
    assert result.handoff is None
    intro, products = result.replies
    assert "nomor pengaduan" in body(intro) or "complaint number" in body(intro)
    assert isinstance(products, ListMessage) and len(rows(products)) <= 10


async def test_step_by_step_to_a_complaint_ask(engine: ConversationEngine) -> None:
    chat = Chat(engine)
    _, products = (await chat.send("mau komplain")).replies
    [causes] = (await chat.send(reply_id=rows(products)["Kartu kredit"])).replies
    [amount] = (await chat.send(reply_id=rows(causes)["Transaksi tak dikenal"])).replies
    assert "Berapa nominal" in body(amount)
    [unclear] = (await chat.send("lumayan banyak")).replies
    assert "belum terbaca" in body(unclear)
    [_] = (await chat.send("Rp1.250.000")).replies
    [future] = (await chat.send("31/12/2026")).replies
    assert "masa depan" in body(future)
    [what] = (await chat.send("30/10/2026")).replies
    assert "Jangan tulis PIN" in body(what)
    # what happened is taken as it is, even when it sounds like another request (cek saldo)
    story = "cek saldo kok ada transaksi 1,25 juta di toko online yang bukan saya"
    result = await chat.send(story)
    assert result.replies == []
    [ask] = result.complaints
    assert (ask.action, ask.product, ask.cause, ask.amount, ask.incident_date) == (
        "file",
        "credit_card",
        "unrecognised_transaction",
        1_250_000,
        "2026-10-30",
    )
    assert ask.summary == story
    assert "what" not in str(chat.state)  # the story is not kept in the dialogue state
    assert story not in str(chat.state)


async def test_no_amount_button_and_cancel(engine: ConversationEngine) -> None:
    chat = Chat(engine)
    _, products = (await chat.send("mau komplain")).replies
    [causes] = (await chat.send(reply_id=rows(products)["Mobile banking"])).replies
    [amount] = (await chat.send(reply_id=rows(causes)["Pelayanan"])).replies
    [when] = (await chat.send(reply_id=rows(amount)["Tidak ada"])).replies
    assert "Kapan" in body(when)
    cancelled = await chat.send("batal")
    assert cancelled.complaints == [] and any("batal" in body(m).lower() for m in cancelled.replies)


async def test_status_with_and_without_the_reference(engine: ConversationEngine) -> None:
    result = await Chat(engine).send("status pengaduan PGD-2026-000123")
    assert [(a.action, a.reference) for a in result.complaints] == [("status", "PGD-2026-000123")]
    chat = Chat(engine)
    [ask] = (await chat.send("cek status pengaduan")).replies
    assert "PGD-2026-000123" in body(ask)
    result = await chat.send("pgd 2026 45")
    assert [a.reference for a in result.complaints] == ["PGD-2026-000045"]


def test_reference_and_answer_parsing() -> None:
    assert find_reference("status PGD-2026-000123 ya") == "PGD-2026-000123"
    assert find_reference("pgd2026000007") == "PGD-2026-000007"
    assert find_reference("CMP-2026-000123") is None
    given: Any = Given(text="tidak ada")
    assert parse_amount(given) is None
    assert parse_amount(Given(text="250.000")) == 250_000
    assert parse_amount(Given(text="banyak")) == ""
    assert parse_date(Given(text="29/02/2026"), NOW.date()) is None  # not a date
    assert parse_date(Given(text="01/11/2026"), NOW.date()) == datetime(2026, 11, 1).date()
