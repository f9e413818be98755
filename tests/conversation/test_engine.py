"""The engine on its own: no storage, no network; the demo institution behind CorePort."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loket.channel.outgoing import ListMessage, Text
from loket.clock import FakeClock
from loket.conversation.engine import ConversationEngine
from loket.conversation.keywords import Intent, detect
from loket.conversation.turn import TenantView, Turn
from loket.core.demo.institution import DemoCore

BANK = TenantView("bank-nusantara", "Bank Nusantara", "bank", "1500123")
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def core() -> DemoCore:
    return DemoCore.generate(FakeClock(NOW))


def turn(
    text: str | None = None,
    *,
    reply_id: str | None = None,
    kind: str = "text",
    language: str = "id",
    customer: object = None,
    first: bool = False,
) -> Turn:
    return Turn(
        tenant=BANK,
        customer=customer,
        language=language,
        kind=kind,
        text=text,
        reply_id=reply_id,  # type: ignore[arg-type]
        now=NOW,
        first_contact=first,
    )


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("halo", Intent.GREETING),
        ("Selamat pagi kak", Intent.GREETING),
        ("sldo brp ya", Intent.BALANCE),
        ("cek SALDO dong 🙏", Intent.BALANCE),
        ("balance please", Intent.BALANCE),
        ("MENU", Intent.MENU),
        ("help", Intent.HELP),
        ("🙂🙂", Intent.UNKNOWN),
        ("", Intent.UNKNOWN),
        ("asdfgh", Intent.UNKNOWN),
    ],
)
def test_keywords(text: str, intent: Intent) -> None:
    assert detect(text) is intent


async def test_stale_menu_row_gets_current_menu(core: DemoCore) -> None:
    result = await ConversationEngine(core).handle(turn(reply_id="menu:old-feature", kind="interactive_list_reply"))
    assert isinstance(result.replies[0], Text) and "menu lama" in result.replies[0].body
    assert isinstance(result.replies[1], ListMessage)


async def test_balance_for_a_non_customer_reveals_nothing(core: DemoCore) -> None:
    result = await ConversationEngine(core).handle(turn("saldo"))
    assert len(result.replies) == 1
    body = result.replies[0].to_payload()["text"]["body"]  # type: ignore[index]
    assert "belum terdaftar" in body and "Rp" not in body


async def test_first_contact_with_unclear_text_is_greeted(core: DemoCore) -> None:
    result = await ConversationEngine(core).handle(turn("asdfgh", first=True))
    assert "Selamat datang" in result.replies[0].to_payload()["text"]["body"]  # type: ignore[index]


async def test_long_message_is_not_understood_but_answered(core: DemoCore) -> None:
    result = await ConversationEngine(core).handle(turn("x" * 4000))
    assert isinstance(result.replies[-1], ListMessage)


@pytest.mark.parametrize("kind", ["sticker", "audio", "video", "image", "document"])
async def test_unsupported_media_explains_and_shows_menu(core: DemoCore, kind: str) -> None:
    result = await ConversationEngine(core).handle(turn(kind=kind))
    assert "belum dapat memproses" in result.replies[0].to_payload()["text"]["body"]  # type: ignore[index]
    assert isinstance(result.replies[1], ListMessage)


async def test_reaction_gets_no_reply(core: DemoCore) -> None:
    result = await ConversationEngine(core).handle(turn(kind="reaction"))
    assert result.replies == []
