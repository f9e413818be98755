"""Transaction confirmations, stored: requests from the events API, the customer's taps, expiry and
step-up results, and what each decision does (machine.py says what, this module does it).

"Bukan saya" asks CorePort to hold the transaction and block the card (the one named in the request,
else the cards linked to the account), records a fraud signal, tells the customer and offers a person; the institution
gets a signed `confirmation.decided` callback with the evidence: Loket's and Meta's message ids,
when it was sent, delivered, read and answered, what was shown and its SHA-256.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.alerts.compose import Audience
from loket.channel.outgoing import ReplyButtons, Text
from loket.clock import Clock, system_clock
from loket.confirmations import machine
from loket.confirmations.compose import Facts, Request, reply, request_message, step_up_action
from loket.confirmations.machine import Effect, Reply, State, Step
from loket.core.port import CoreError, CorePort
from loket.db.engine import Database
from loket.db.models import MessageStatus, OutboxMessage
from loket.events.callbacks import queue_callback
from loket.events.tables import Confirmation, FraudSignal
from loket.outbound.outbox import Purpose, enqueue

log = logging.getLogger(__name__)

# How a worker job finds the audience (language, zone, institution) of a stored confirmation.
AudienceLookup = Callable[[AsyncSession, Confirmation], Awaitable[Audience]]

DEFAULT_HIGH_VALUE = 10_000_000  # rupiah; a tenant may set official_channels["confirmation_step_up_amount"]
STEP_UP_TTL = 300


def new_confirmation_id() -> str:
    return "cfm_" + secrets.token_hex(10)


@dataclass(frozen=True, slots=True)
class Recipient:
    tenant_id: str
    phone_number_id: str
    wa_id: str
    customer_id: str
    audience: Audience
    high_value: int = DEFAULT_HIGH_VALUE


class ConfirmationService:
    def __init__(self, dialect: str, core: CorePort, *, clock: Clock = system_clock) -> None:
        self._dialect = dialect
        self._core = core
        self._clock = clock

    async def create(
        self,
        session: AsyncSession,
        to: Recipient,
        *,
        event_id: str,
        amount: int,
        payee: str,
        channel: str,
        expires_at: datetime,
        risk: str,
        account_id: str | None,
        card_id: str | None,
        transaction_ref: str | None,
    ) -> dict[str, Any]:
        now = self._clock.now()
        existing = await session.scalar(
            select(Confirmation).where(Confirmation.tenant_id == to.tenant_id, Confirmation.event_id == event_id)
        )
        if existing is not None:
            return {"action": "confirmation_requested", "confirmation_id": existing.id}
        confirmation_id = new_confirmation_id()
        shown = request_message(to.audience, Request(confirmation_id, amount, payee, channel, now, expires_at))
        session.add(
            Confirmation(
                id=confirmation_id,
                tenant_id=to.tenant_id,
                event_id=event_id,
                customer_id=to.customer_id,
                wa_id=to.wa_id,
                phone_number_id=to.phone_number_id,
                language=to.audience.language,
                state=State.PENDING.value,
                risk=risk,
                needs_step_up=machine.needs_step_up(risk, amount, to.high_value),
                amount=amount,
                payee=payee,
                channel=channel,
                account_id=account_id,
                card_id=card_id,
                transaction_ref=transaction_ref,
                created_at=now,
                expires_at=expires_at,
                shown=shown.record,
                shown_sha256=shown.sha256,
            )
        )
        await enqueue(
            session,
            dialect=self._dialect,
            tenant_id=to.tenant_id,
            phone_number_id=to.phone_number_id,
            to_wa_id=to.wa_id,
            payload=dict(shown.message.to_payload()),
            purpose=Purpose.CONFIRMATION,
            idempotency_key=f"cfm:{confirmation_id}",
            now=now,
            fallback=dict(shown.template.to_payload()),
            origin=f"confirmation:{confirmation_id}",
            deadline=expires_at,
        )
        return {"action": "confirmation_requested", "confirmation_id": confirmation_id}

    # --- the customer's tap -----------------------------------------------------------------------

    async def on_tap(
        self,
        session: AsyncSession,
        *,
        tenant_id: str,
        wa_id: str,
        confirmation_id: str,
        answer: Reply,
        reply_wamid: str,
        audience: Audience,
    ) -> list[Text | ReplyButtons]:
        row = (
            await session.execute(select(Confirmation).where(Confirmation.id == confirmation_id).with_for_update())
        ).scalar_one_or_none()
        if row is None or row.tenant_id != tenant_id or row.wa_id != wa_id:
            return [Text(body=_unknown(audience))]
        now = self._clock.now()
        step = machine.answer(State(row.state), answer, now=now, expires_at=row.expires_at, step_up=row.needs_step_up)
        if row.state != step.state.value and answer is not Reply.AGENT:
            row.reply_wamid = reply_wamid  # the answer that moved it: evidence for the institution
        return await self.apply(session, row, step, audience)

    # --- what a step does -------------------------------------------------------------------------

    async def apply(
        self, session: AsyncSession, row: Confirmation, step: Step, audience: Audience
    ) -> list[Text | ReplyButtons]:
        now = self._clock.now()
        previous = row.state
        actions: dict[str, Any] = dict(row.actions or {})
        if Effect.REQUEST_STEP_UP in step.effects:
            step = await self._step_up(row, step, audience)
        if step.state.value != previous:
            row.state = step.state.value
            if step.decided:
                row.decided_at = now
        card = hold = None
        if Effect.HOLD_TRANSACTION in step.effects:
            hold = await self._hold(row, actions)
        if Effect.BLOCK_CARD in step.effects:
            card = await self._block_card(row, actions)
        if Effect.FRAUD_SIGNAL in step.effects:
            session.add(
                FraudSignal(
                    tenant_id=row.tenant_id,
                    customer_id=row.customer_id,
                    kind=f"confirmation.{row.state}",
                    ref=row.id,
                    known_at=now,
                    details={"event_id": row.event_id, "amount": row.amount, "risk": row.risk, "channel": row.channel},
                )
            )
        row.actions = actions
        if Effect.CALLBACK in step.effects:
            await queue_callback(
                session,
                self._dialect,
                tenant_id=row.tenant_id,
                kind="confirmation.decided",
                ref=row.id,
                data=await self.status(session, row),
                now=now,
            )
        if Effect.AGENT_REQUESTED in step.effects:
            await queue_callback(
                session,
                self._dialect,
                tenant_id=row.tenant_id,
                kind="customer.contact_requested",
                ref=f"{row.id}:agent",
                data={"confirmation_id": row.id, "customer_id": row.customer_id, "reason": "confirmation"},
                now=now,
            )
        facts = Facts(row.amount, row.payee, row.state, card, hold, STEP_UP_TTL // 60)
        messages = [reply(audience, effect, facts, row.id) for effect in step.effects]
        return [message for message in messages if message is not None]

    async def _step_up(self, row: Confirmation, step: Step, audience: Audience) -> Step:
        try:
            request = await self._core.request_step_up(
                row.tenant_id,
                row.customer_id,
                step_up_action(audience, Facts(row.amount, row.payee, row.state)),
                STEP_UP_TTL,
            )
        except CoreError as exc:
            log.warning("step-up for confirmation %s could not be requested: %s", row.id, type(exc).__name__)
            return Step(State.STEP_UP_FAILED, (Effect.CALLBACK, Effect.TELL_STEP_UP_FAILED))
        row.step_up_id = request.request_id
        return step

    async def _hold(self, row: Confirmation, actions: dict[str, Any]) -> str | None:
        """Asks the core to hold the transaction (its reference, else the institution's event id)."""
        ref = row.transaction_ref or row.event_id
        try:
            held = await self._core.hold_transaction(
                row.tenant_id, ref, f"customer denied confirmation {row.id}", account_id=row.account_id
            )
        except CoreError as exc:
            actions["transaction_hold_error"] = type(exc).__name__
            log.warning("transaction hold for confirmation %s failed: %s", row.id, type(exc).__name__)
            return None
        actions["transaction_hold"] = {
            "transaction_ref": held.transaction_ref,
            "reference": held.reference,
            "at": held.held_at.isoformat(),
        }
        return held.reference

    async def _block_card(self, row: Confirmation, actions: dict[str, Any]) -> str | None:
        try:
            cards = await self._core.list_cards(row.tenant_id, row.customer_id)
            masked = {c.card_id: c.masked_number for c in cards}
            if row.card_id:
                card_ids = [row.card_id]
            else:
                linked = [c for c in cards if row.account_id and c.linked_account_id == row.account_id]
                card_ids = [c.card_id for c in linked if c.status.value == "active"]
            blocks = []
            for card_id in card_ids:
                block = await self._core.block_card(row.tenant_id, card_id, f"customer denied confirmation {row.id}")
                blocks.append(
                    {"card_id": block.card_id, "reference": block.reference, "at": block.blocked_at.isoformat()}
                )
            actions["card_blocks"] = blocks
            return ", ".join(_last4(masked.get(b["card_id"], "")) for b in blocks) or None
        except CoreError as exc:
            actions["card_block_error"] = type(exc).__name__
            log.warning("card block for confirmation %s failed: %s", row.id, type(exc).__name__)
            return None

    async def status(self, session: AsyncSession, row: Confirmation) -> dict[str, Any]:
        """The pollable status and the callback body: the decision with its evidence."""
        message = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.idempotency_key == f"cfm:{row.id}"))
        ).scalar_one_or_none()
        statuses: dict[str, str] = {}
        if message is not None and message.wamid:
            for status, stamp in await session.execute(
                select(MessageStatus.status, MessageStatus.meta_timestamp).where(MessageStatus.wamid == message.wamid)
            ):
                statuses[f"{status}_at"] = datetime.fromtimestamp(stamp, tz=self._clock.now().tzinfo).isoformat()
        return {
            "confirmation_id": row.id,
            "event_id": row.event_id,
            "transaction_ref": row.transaction_ref,
            "customer_id": row.customer_id,
            "state": row.state,
            "decided_at": row.decided_at.isoformat() if row.decided_at else None,
            "expires_at": row.expires_at.isoformat(),
            "risk": row.risk,
            "step_up": {"required": row.needs_step_up, "request_id": row.step_up_id},
            "actions": row.actions or {},
            "evidence": {
                "loket_message_id": message.id if message else None,
                "meta_message_id": message.wamid if message else None,
                "sent_as": message.kind if message else None,
                "sent_at": message.sent_at.isoformat() if message and message.sent_at else None,
                **statuses,
                "reply_message_id": row.reply_wamid,
                "shown": row.shown,
                "shown_sha256": row.shown_sha256,
            },
        }

    # --- time passing (worker jobs) ---------------------------------------------------------------

    async def expire_due(self, db: Database, audience_of: AudienceLookup, *, batch: int = 100) -> int:
        now = self._clock.now()
        async with db.transaction() as session:
            rows = (
                await session.execute(
                    select(Confirmation)
                    .where(Confirmation.state.in_([s.value for s in machine.OPEN]), Confirmation.expires_at <= now)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).scalars()
            count = 0
            for row in rows:
                step = machine.expire(State(row.state), now, row.expires_at)
                if step is not None:
                    await self._tell(session, row, step, await audience_of(session, row))
                    count += 1
        return count

    async def poll_step_ups(self, db: Database, audience_of: AudienceLookup, *, batch: int = 50) -> int:
        async with db.transaction() as session:
            rows = (
                await session.execute(
                    select(Confirmation)
                    .where(Confirmation.state == State.STEP_UP_PENDING.value, Confirmation.step_up_id.is_not(None))
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).scalars()
            count = 0
            for row in rows:
                try:
                    request = await self._core.get_step_up(row.tenant_id, str(row.step_up_id))
                except CoreError:
                    continue
                step = machine.step_up_result(State(row.state), request.status.value)
                if step is not None:
                    await self._tell(session, row, step, await audience_of(session, row))
                    count += 1
        return count

    async def _tell(self, session: AsyncSession, row: Confirmation, step: Step, audience: Audience) -> None:
        messages = await self.apply(session, row, step, audience)
        for index, message in enumerate(messages):
            await enqueue(
                session,
                dialect=self._dialect,
                tenant_id=row.tenant_id,
                phone_number_id=row.phone_number_id,
                to_wa_id=row.wa_id,
                payload=dict(message.to_payload()),
                purpose=Purpose.CONFIRMATION,
                idempotency_key=f"cfm:{row.id}:{row.state}:{index}",
                now=self._clock.now(),
                origin=f"confirmation:{row.id}",
                deadline=self._clock.now() + timedelta(hours=1),
            )


def _last4(masked: str) -> str:
    digits = "".join(ch for ch in masked if ch.isdigit())
    return f"•••• {digits[-4:]}" if digits else "••••"


def _unknown(audience: Audience) -> str:
    from loket.i18n.catalog import t

    return t(audience.language, "alerts.confirm.unknown")
