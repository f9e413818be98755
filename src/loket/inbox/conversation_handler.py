"""Adapter between the inbox and the conversation engine: loads context, persists the outcome.

For each inbound message: bind the wa_id to a customer through CorePort (by registered phone
number), run the engine, queue a read receipt and the replies in the same transaction, and
remember the state, the language and when the customer last wrote (the 24-hour window).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from loket.clock import Clock, system_clock
from loket.conversation.engine import ConversationEngine
from loket.conversation.turn import TenantView, Turn
from loket.core.port import CoreError, CorePort, Customer
from loket.db.models import Conversation, InboundMessage
from loket.i18n.catalog import normalise_language
from loket.outbound.outbox import Purpose, enqueue, enqueue_read_receipt
from loket.tenancy.directory import PhoneDirectory, TenantInfo

NO_READ_RECEIPT = frozenset({"reaction", "system", "unknown"})


def tenant_view(info: TenantInfo) -> TenantView:
    call_centres = info.official_channels.get("call_centre_numbers") or [""]
    return TenantView(
        tenant_id=info.tenant_id,
        display_name=info.display_name,
        kind=info.kind,
        call_centre=str(call_centres[0]),
        default_language=info.default_language,
    )


class ConversationHandler:
    def __init__(
        self,
        *,
        dialect: str,
        directory: PhoneDirectory,
        core: CorePort,
        engine: ConversationEngine,
        clock: Clock = system_clock,
    ) -> None:
        self._dialect = dialect
        self._directory = directory
        self._core = core
        self._engine = engine
        self._clock = clock

    async def _customer(self, conversation: Conversation) -> Customer | None:
        tenant_id = conversation.tenant_id
        if conversation.customer_id is not None:
            return await self._core.get_customer(tenant_id, conversation.customer_id)
        customer = await self._core.find_customer_by_phone(tenant_id, "+" + conversation.wa_id)
        if customer is not None:
            conversation.customer_id = customer.customer_id
        return customer

    async def handle(self, session: AsyncSession, conversation: Conversation, message: InboundMessage) -> None:
        now = self._clock.now()
        info = await self._directory.tenant(conversation.tenant_id)
        if info is None:
            raise LookupError(f"tenant {conversation.tenant_id} vanished")
        tenant = tenant_view(info)
        try:
            customer = await self._customer(conversation)
        except CoreError:
            customer = None  # public services only while the core is unreachable
        language = normalise_language(
            conversation.language or (customer.language if customer else None) or tenant.default_language
        )
        first_contact = conversation.last_inbound_at is None
        turn = Turn(
            tenant=tenant,
            customer=customer,
            language=language,
            kind=message.kind,
            text=message.text,
            reply_id=message.reply_id,
            now=now,
            state=dict(conversation.state or {}),
            first_contact=first_contact,
        )
        result = await self._engine.handle(turn)
        common: dict[str, Any] = {
            "dialect": self._dialect,
            "tenant_id": conversation.tenant_id,
            "phone_number_id": message.phone_number_id,
            "to_wa_id": conversation.wa_id,
            "now": now,
        }
        if message.kind not in NO_READ_RECEIPT:
            await enqueue_read_receipt(session, message_id=message.wamid, typing=bool(result.replies), **common)
        for index, reply in enumerate(result.replies):
            await enqueue(
                session,
                payload=dict(reply.to_payload()),
                purpose=Purpose.SERVICE,
                idempotency_key=f"reply:{message.wamid}:{index}",
                **common,
            )
        conversation.state = result.state
        conversation.language = result.language or language
        conversation.last_inbound_at = max(filter(None, (conversation.last_inbound_at, message.received_at)))
        conversation.updated_at = now
