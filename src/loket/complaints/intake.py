"""The inbox side of the WhatsApp complaint journeys: register a complaint or answer its status, in the
transaction of the turn, and give the replies that carry the reference number and the deadline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from loket.channel.outgoing import Text
from loket.complaints import notices
from loket.complaints.desk import ComplaintDesk, NewComplaint
from loket.complaints.model import CAUSES, PRODUCTS, Channel, Kind
from loket.complaints.sla import Form
from loket.conversation.turn import ComplaintAsk, OutgoingMessage
from loket.i18n.catalog import t


class ComplaintIntake:
    def __init__(self, desk: ComplaintDesk) -> None:
        self.desk = desk

    async def apply(
        self,
        session: AsyncSession,
        asks: Sequence[ComplaintAsk],
        *,
        tenant_id: str,
        phone_number_id: str,
        wa_id: str,
        customer_id: str | None,
        language: str,
        zone: str,
        wamid: str,
        now: datetime,
    ) -> list[OutgoingMessage]:
        replies: list[OutgoingMessage] = []
        for index, ask in enumerate(asks):
            if ask.action == "file":
                new = NewComplaint(
                    tenant_id=tenant_id,
                    # A sum of money in question makes it a dispute (it may go to LAPS SJK); staff can
                    # reclassify. Without one it is a breach-type complaint.
                    kind=Kind.DISPUTE if ask.amount else Kind.BREACH,
                    product=ask.product if ask.product in PRODUCTS else "other",
                    cause=ask.cause if ask.cause in CAUSES else "other",
                    channel=Channel.WHATSAPP,
                    form=Form.WRITTEN,  # a chat is a written complaint (CMP-1)
                    summary=ask.summary,
                    received_at=now,
                    language=language,
                    zone=zone,
                    amount=ask.amount,
                    incident_date=date.fromisoformat(ask.incident_date) if ask.incident_date else None,
                    customer_id=customer_id,
                    wa_id=wa_id,
                    phone_number_id=phone_number_id,
                    source_key=f"wa:{wamid}:{index}",
                )
                row, _ = await self.desk.register(session, new, now=now)
                replies.append(notices.registered(row, self.desk.reading(row, now), self.desk.policy))
            elif ask.action == "status":
                found = await self.desk.find(session, tenant_id, ask.reference)
                # Only the person who filed it (same number, or the same customer) hears about it.
                mine = found is not None and (
                    found.wa_id == wa_id or (customer_id is not None and found.customer_id == customer_id)
                )
                if found is None or not mine:
                    replies.append(Text(body=t(language, "complaint.not_found", reference=ask.reference)))
                    continue
                final = self.desk.open_text(found, "final_answer_enc")
                reading = self.desk.reading(found, now)
                replies.append(notices.status_reply(found, reading, self.desk.policy, final, language))
        return replies
