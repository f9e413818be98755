"""Closing with a CSAT question while the window is open, handing back to the bot, and the customer's
answer recorded through the inbox's tap hook."""

from __future__ import annotations

from datetime import timedelta

from conversation_harness import PNID, WA_ID, Desk, desk, page_text
from sqlalchemy import select

from loket.console.conversation_tables import CsatAnswer
from loket.console.csat import with_csat
from loket.conversation.engine import ConversationEngine
from loket.conversation.stepup import StepUpSettings
from loket.db.models import Conversation, InboundMessage, OutboxMessage
from loket.db.scope import SystemReason
from loket.dialogue.tables import Handoff
from loket.inbox.conversation_handler import ConversationHandler
from loket.staff.permissions import Role
from staff.staff_harness import TENANT_A, TENANT_B

__all__ = ["desk"]


async def rows(desk: Desk, model: type) -> list:  # type: ignore[type-arg]
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        return list((await session.execute(select(model))).scalars().all())


async def tap(desk: Desk, tenant: str, reply_id: str, index: int = 0) -> list[str]:
    """The customer taps a list row: the inbox's conversation handler, with the CSAT hook, handles it."""
    handler = ConversationHandler(
        dialect=desk.db.dialect,
        directory=desk.services.directory,
        core=desk.services.core,
        engine=ConversationEngine(desk.services.core, StepUpSettings()),
        clock=desk.clock,
        taps=with_csat(None, clock=desk.clock),
    )
    now = desk.clock.now()
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        conversation = (
            await session.execute(select(Conversation).where(Conversation.tenant_id == tenant))
        ).scalar_one()
        message = InboundMessage(
            wamid=f"wamid.tap.{tenant}.{index}",
            tenant_id=tenant,
            phone_number_id=PNID[tenant],
            wa_id=WA_ID[tenant],
            kind="interactive",
            text="5 · Sangat puas",
            reply_id=reply_id,
            payload={"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": reply_id}}},
            meta_timestamp=int(now.timestamp()),
            received_at=now,
            state="pending",
        )
        session.add(message)
        await session.flush()
        await handler.handle(session, conversation, message)
        replies = (
            await session.execute(
                select(OutboxMessage.payload).where(OutboxMessage.idempotency_key.like(f"reply:{message.wamid}:%"))
            )
        ).scalars()
        return [payload["text"]["body"] for payload in replies if payload.get("type") == "text"]


async def test_closing_inside_the_window_asks_for_a_rating_and_the_answer_is_recorded_once(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)
    await agent.form(f"/console/conversations/{conversation}/reply", {"text": "Sudah saya bantu, ya."})

    closed = await agent.form(f"/console/conversations/{conversation}/close", {})

    assert closed.status == 303 and "closed_csat" in (closed.header("location") or "")
    [handoff] = await rows(desk, Handoff)
    assert handoff.status == "closed" and handoff.closed_by is not None
    question = [row for row in await rows(desk, OutboxMessage) if row.kind == "interactive"]
    assert len(question) == 1
    list_rows = question[0].payload["interactive"]["action"]["sections"][0]["rows"]
    assert [r["id"] for r in list_rows] == [f"csat:{handoff.id}:{score}" for score in (5, 4, 3, 2, 1)]
    [asked] = await rows(desk, CsatAnswer)
    assert asked.score is None and asked.agent_id == handoff.assigned_to and asked.handoff_id == handoff.id

    thanks = await tap(desk, TENANT_A, f"csat:{handoff.id}:4")
    assert thanks and "Terima kasih atas penilaian Anda" in thanks[0]
    again = await tap(desk, TENANT_A, f"csat:{handoff.id}:1", index=1)
    assert again and "sudah kami terima" in again[0]
    [answered] = await rows(desk, CsatAnswer)
    assert answered.score == 4 and answered.answered_at == desk.clock.now()
    page = page_text(await agent.get(f"/console/conversations/{conversation}"))
    assert "Selesai" in page and 'action="/console/conversations/' + str(conversation) + '/close"' not in page


async def test_a_rating_from_someone_it_was_not_asked_of_is_not_recorded(desk: Desk) -> None:
    conversation = await desk.conversation()
    await desk.conversation(TENANT_B)
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)
    await agent.form(f"/console/conversations/{conversation}/close", {})
    [asked] = await rows(desk, CsatAnswer)

    answer = await tap(desk, TENANT_B, f"csat:{asked.handoff_id}:5")

    assert answer and "tidak dapat kami catat" in answer[0]
    assert (await rows(desk, CsatAnswer))[0].score is None


async def test_closing_after_the_window_sends_no_question(desk: Desk) -> None:
    conversation = await desk.conversation(last_inbound_ago=timedelta(hours=25))
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    closed = await agent.form(f"/console/conversations/{conversation}/close", {})

    assert closed.status == 303 and "closed_no_csat" in (closed.header("location") or "")
    assert await rows(desk, OutboxMessage) == [] and await rows(desk, CsatAnswer) == []
    entries = await desk.audit_entries(event_type="conversation.action")
    assert entries[-1].fields["action"] == "closed" and entries[-1].fields["detail"] == "csat_window_closed"


async def test_handing_back_tells_the_customer_and_the_bot_takes_over(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    back = await agent.form(f"/console/conversations/{conversation}/handback", {})

    assert back.status == 303
    [handoff] = await rows(desk, Handoff)
    assert handoff.status == "closed"
    [message] = await rows(desk, OutboxMessage)
    assert message.kind == "text" and message.origin and message.origin.startswith("agent:")
    assert await rows(desk, CsatAnswer) == []
    again = await agent.form(f"/console/conversations/{conversation}/handback", {})
    assert again.status == 422 and "tidak sedang dialihkan" in page_text(again)
