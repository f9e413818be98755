"""Button taps that belong to the outbound engine, routed here before the conversation engine:

- `cfm:<confirmation id>:yes|no|agent`: the answer to a transaction confirmation;
- `alr:<event id>`: "Bukan saya" under a transaction alert: a fraud signal, a callback to the
  institution, and advice for the customer.

A tap only counts from the customer the message went to.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.alerts.compose import ALERT_PREFIX, Audience
from loket.channel.outgoing import ReplyButtons, Text
from loket.clock import Clock, system_clock
from loket.confirmations.compose import CONFIRM_PREFIX, parse_button
from loket.events.callbacks import queue_callback
from loket.events.confirming import ConfirmationService
from loket.events.tables import FraudSignal, InstitutionEvent
from loket.i18n.catalog import t
from loket.outbound.tables import Recipient

PREFIXES = (CONFIRM_PREFIX, ALERT_PREFIX)


class TapHandler:
    def __init__(self, dialect: str, confirmations: ConfirmationService, *, clock: Clock = system_clock) -> None:
        self._dialect = dialect
        self._confirmations = confirmations
        self._clock = clock

    @staticmethod
    def claims(reply_id: str | None) -> bool:
        return bool(reply_id) and str(reply_id).startswith(PREFIXES)

    async def handle(
        self,
        session: AsyncSession,
        *,
        tenant_id: str,
        wa_id: str,
        reply_id: str,
        reply_wamid: str,
        language: str,
        institution: str,
        call_centre: str,
    ) -> list[Text | ReplyButtons]:
        recipient = await session.get(Recipient, (tenant_id, wa_id))
        audience = Audience(language, recipient.zone if recipient else None, institution, call_centre)
        if reply_id.startswith(CONFIRM_PREFIX):
            parsed = parse_button(reply_id)
            if parsed is None:
                return [Text(body=t(language, "alerts.confirm.unknown"))]
            confirmation_id, answer = parsed
            return await self._confirmations.on_tap(
                session,
                tenant_id=tenant_id,
                wa_id=wa_id,
                confirmation_id=confirmation_id,
                answer=answer,
                reply_wamid=reply_wamid,
                audience=audience,
            )
        return await self._not_me(session, audience, tenant_id, recipient, reply_id[len(ALERT_PREFIX) :], reply_wamid)

    async def _not_me(
        self,
        session: AsyncSession,
        audience: Audience,
        tenant_id: str,
        recipient: Recipient | None,
        event_id: str,
        reply_wamid: str,
    ) -> list[Text | ReplyButtons]:
        reported = Text(
            body=t(
                audience.language,
                "alerts.transaction.reported",
                institution=audience.institution,
                call_centre=audience.call_centre,
            )
        )
        event = await session.scalar(
            select(InstitutionEvent).where(
                InstitutionEvent.tenant_id == tenant_id, InstitutionEvent.event_id == event_id
            )
        )
        if event is None or recipient is None or recipient.customer_id != event.customer_id:
            return [Text(body=t(audience.language, "alerts.confirm.unknown"))]
        already = await session.scalar(
            select(FraudSignal.id).where(
                FraudSignal.tenant_id == tenant_id,
                FraudSignal.kind == "transaction.not_me",
                FraudSignal.ref == event_id,
            )
        )
        if already is not None:
            return [reported]
        now = self._clock.now()
        outcome = (event.result or {}).get("outcome") or {}
        session.add(
            FraudSignal(
                tenant_id=tenant_id,
                customer_id=event.customer_id or "",
                kind="transaction.not_me",
                ref=event_id,
                known_at=now,
                details={"transaction_id": outcome.get("transaction_id"), "reply_message_id": reply_wamid},
            )
        )
        await queue_callback(
            session,
            self._dialect,
            tenant_id=tenant_id,
            kind="transaction.reported",
            ref=event_id,
            data={
                "event_id": event_id,
                "transaction_id": outcome.get("transaction_id"),
                "customer_id": event.customer_id,
                "reported_at": now.isoformat(),
                "reply_message_id": reply_wamid,
            },
            now=now,
        )
        return [reported]
