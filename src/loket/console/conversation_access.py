"""Finding a conversation for a staff member, by the handoff the inbox lists (the console's unit of
work): only in the tenant their session is bound to (another tenant's id is "not found", never
"forbidden"). Every staff action on a conversation is audited through here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loket import audit
from loket.audit import EventType
from loket.db.models import Conversation
from loket.dialogue.persist import OPEN_HANDOFF
from loket.dialogue.tables import Handoff


class ConversationNotFound(LookupError):
    pass


class NotHandedOver(RuntimeError):
    """The bot is in charge: no handoff is waiting or active, so staff cannot act as the institution."""


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """One handoff (the console's unit of work, `key` in its URLs) and the customer's conversation."""

    key: int  # handoffs.id: /console/conversations/{key}, as the inbox links
    id: int  # conversations.id: the customer's thread, notes and CSAT span every handoff
    tenant_id: str
    wa_id: str
    customer_id: str | None
    language: str
    last_inbound_at: datetime | None
    phone_number_id: str
    handoff: Handoff
    newer: int | None  # a later handoff of the same customer, if this one is an old one

    @property
    def handed_over(self) -> bool:
        return self.handoff.status in OPEN_HANDOFF

    def open_handoff(self) -> Handoff:
        if self.handoff.status not in OPEN_HANDOFF:
            raise NotHandedOver(f"handoff {self.key} is closed")
        return self.handoff


async def find_conversation(
    session: AsyncSession, tenant_id: str, handoff_id: int, *, for_update: bool = False
) -> ConversationRef:
    """The handoff `handoff_id` of this tenant and its conversation; ConversationNotFound otherwise."""
    query = select(Handoff).where(Handoff.id == handoff_id, Handoff.tenant_id == tenant_id)
    if for_update:
        query = query.with_for_update()
    handoff = (await session.execute(query)).scalar_one_or_none()
    if handoff is None:
        raise ConversationNotFound(handoff_id)
    row = (
        await session.execute(
            select(Conversation).where(Conversation.tenant_id == tenant_id, Conversation.wa_id == handoff.wa_id)
        )
    ).scalar_one_or_none()
    if row is None:
        raise ConversationNotFound(handoff_id)
    newer = (
        await session.execute(
            select(func.max(Handoff.id)).where(
                Handoff.tenant_id == tenant_id, Handoff.wa_id == handoff.wa_id, Handoff.id > handoff.id
            )
        )
    ).scalar_one_or_none()
    return ConversationRef(
        key=handoff.id,
        id=row.id,
        tenant_id=row.tenant_id,
        wa_id=row.wa_id,
        customer_id=row.customer_id or handoff.customer_id,
        language=row.language or handoff.language or "id",
        last_inbound_at=row.last_inbound_at,
        phone_number_id=handoff.phone_number_id,
        handoff=handoff,
        newer=int(newer) if newer is not None else None,
    )


async def record_action(
    session: AsyncSession,
    ref: ConversationRef,
    *,
    staff_id: str,
    action: str,
    at: datetime,
    target: str | None = None,
    detail: str | None = None,
) -> None:
    """One `conversation.action` audit entry, in the caller's transaction."""
    fields: dict[str, object] = {
        "staff": f"staff:{staff_id}",
        "conversation": f"conversation:{ref.id}",
        "action": action,
        "customer": ref.wa_id,
    }
    fields["handoff"] = f"handoff:{ref.key}"
    if target is not None:
        fields["ref"] = target
    if detail is not None:
        fields["detail"] = detail
    await audit.record(
        EventType.CONVERSATION_ACTION,
        tenant=ref.tenant_id,
        actor=f"staff:{staff_id}",
        at=at,
        fields=fields,
        session=session,
    )
