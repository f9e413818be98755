"""What staff do to a conversation besides replying: internal notes, handing it back to the bot, and
closing it with a CSAT question. Each is one transaction with its audit entry."""

from __future__ import annotations

from dataclasses import dataclass

from loket.channel.outgoing import Text
from loket.console.bus import publish_after_commit
from loket.console.conversation_access import find_conversation, record_action
from loket.console.conversation_services import ConversationServices
from loket.console.conversation_tables import ConsoleNote
from loket.console.csat import csat_question, record_asked
from loket.console.reply import Window
from loket.console.thread import seal_note
from loket.i18n.catalog import t
from loket.outbound.outbox import Purpose, enqueue

NOTE_MAX = 4000


class NoteInvalid(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Closed:
    handoff_id: int
    csat_sent: bool  # False when the window had closed: no question can be sent then


async def add_note(services: ConversationServices, *, tenant_id: str, handoff_id: int, staff_id: str, text: str) -> int:
    body = text.strip()
    if not body or len(body) > NOTE_MAX:
        raise NoteInvalid("a note has 1 to 4000 characters")
    now = services.clock.now()
    async with services.db.tenant_session(tenant_id) as session:
        ref = await find_conversation(session, tenant_id, handoff_id)
        note = ConsoleNote(
            tenant_id=tenant_id,
            conversation_id=ref.id,
            handoff_id=ref.key,
            author_id=staff_id,
            body_enc=seal_note(services.box, body, tenant_id=tenant_id, conversation_id=ref.id),
            created_at=now,
        )
        session.add(note)
        await session.flush()
        note_id = note.id
        await record_action(session, ref, staff_id=staff_id, action="note_added", at=now, target=f"note:{note_id}")
    return note_id


async def hand_back(services: ConversationServices, *, tenant_id: str, handoff_id: int, staff_id: str) -> int:
    """The bot takes over again and tells the customer so."""
    now = services.clock.now()
    async with services.db.tenant_session(tenant_id) as session:
        ref = await find_conversation(session, tenant_id, handoff_id, for_update=True)
        handoff = ref.open_handoff()
        handoff.status, handoff.closed_at, handoff.closed_by = "closed", now, staff_id
        await enqueue(
            session,
            dialect=services.db.dialect,
            tenant_id=tenant_id,
            phone_number_id=ref.phone_number_id,
            to_wa_id=ref.wa_id,
            payload=dict(Text(body=t(handoff.language, "handoff.back")).to_payload()),
            purpose=Purpose.SERVICE,
            idempotency_key=f"agent:{handoff.id}:handback",
            now=now,
            origin=f"agent:{staff_id}",
        )
        await record_action(session, ref, staff_id=staff_id, action="handed_back", at=now)
        publish_after_commit(session, tenant_id, {"kind": "handoff.updated", "handoff_id": handoff.id})
        return handoff.id


async def close_with_csat(services: ConversationServices, *, tenant_id: str, handoff_id: int, staff_id: str) -> Closed:
    """Resolve the conversation; while the window is open, ask the customer to rate the service."""
    now = services.clock.now()
    async with services.db.tenant_session(tenant_id) as session:
        ref = await find_conversation(session, tenant_id, handoff_id, for_update=True)
        handoff = ref.open_handoff()
        handoff.status, handoff.closed_at, handoff.closed_by = "closed", now, staff_id
        ask = Window.of(ref.last_inbound_at, now).open
        if ask:
            await enqueue(
                session,
                dialect=services.db.dialect,
                tenant_id=tenant_id,
                phone_number_id=ref.phone_number_id,
                to_wa_id=ref.wa_id,
                payload=dict(csat_question(handoff.language, handoff.id).to_payload()),
                purpose=Purpose.SERVICE,
                idempotency_key=f"agent:{handoff.id}:csat",
                now=now,
                origin=f"agent:{staff_id}",
            )
            await record_asked(
                session,
                tenant_id=tenant_id,
                handoff_id=handoff.id,
                conversation_id=ref.id,
                wa_id=ref.wa_id,
                agent_id=handoff.assigned_to,
                asked_by=staff_id,
                now=now,
            )
        detail = "csat_asked" if ask else "csat_window_closed"
        await record_action(session, ref, staff_id=staff_id, action="closed", at=now, detail=detail)
        publish_after_commit(session, tenant_id, {"kind": "handoff.updated", "handoff_id": handoff.id})
        return Closed(handoff.id, ask)
