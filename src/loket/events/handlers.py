"""What each accepted event does, in the transaction that stores it.

Transaction, balance, card, notice, loan and claim events become alerts (queued in the outbox with
their approved template as fallback, or put in the daily digest, or skipped by the customer's
preferences); a confirmation request becomes a confirmation. Every outbox row's idempotency key is
the event's, so a replayed or concurrently duplicated event cannot queue a second message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from loket.alerts import compose
from loket.alerts.compose import Audience, Composed
from loket.alerts.preferences import AlertPreferences, Route, route
from loket.channel.errors import InvalidOutgoingMessage
from loket.clock import Clock, system_clock
from loket.db.upsert import insert_ignore
from loket.events.confirming import ConfirmationService, Recipient
from loket.events.customers import KnownCustomer
from loket.events.schemas import (
    AccountNotice,
    BalanceChanged,
    CardStatusChanged,
    ClaimStatusChanged,
    ConfirmationRequested,
    LoanStatusChanged,
    TransactionPosted,
)
from loket.events.tables import DigestItem
from loket.outbound.outbox import Purpose, outbox_row

AnyEvent = (
    TransactionPosted
    | BalanceChanged
    | ConfirmationRequested
    | CardStatusChanged
    | AccountNotice
    | LoanStatusChanged
    | ClaimStatusChanged
)
SECURITY_CARD_STATES = frozenset({"blocked", "frozen", "replaced"})


class EventRejected(Exception):
    """The event is well-formed but cannot be acted on; `code` and `field` go back to the sender."""

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.status = status


@dataclass(frozen=True, slots=True)
class Target:
    tenant_id: str
    phone_number_id: str
    customer: KnownCustomer
    audience: Audience
    prefs: AlertPreferences
    high_value: int


class EventHandlers:
    def __init__(self, dialect: str, confirmations: ConfirmationService, *, clock: Clock = system_clock) -> None:
        self._dialect = dialect
        self._confirmations = confirmations
        self._clock = clock

    async def handle(
        self, session: AsyncSession, target: Target, event: AnyEvent, outbox: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Acts on one event; alerts are appended to `outbox` (queued by the caller, many at once)."""
        if isinstance(event, ConfirmationRequested):
            return await self._confirmation(session, target, event)
        if isinstance(event, TransactionPosted):
            return await self._transaction(session, target, event, outbox)
        kind, text, purpose, status = self._update_text(target, event)
        if route(target.prefs, kind, status=status) is not Route.SEND:
            return {"action": "skipped", "reason": "customer_preferences"}
        return self._queue(outbox, target, event.id, compose.update_alert(target.audience, text), purpose)

    def _update_text(self, target: Target, event: AnyEvent) -> tuple[str, str, Purpose, str | None]:
        """(kind, text, purpose, status) of a status-update alert."""
        audience = target.audience
        if isinstance(event, CardStatusChanged):
            card_data = event.data
            card = f"•••• {card_data.last4}" if card_data.last4 else "••••"
            text = compose.card_text(
                audience, card=card, status=card_data.status, reason=card_data.reason, at=event.occurred_at
            )
            purpose = Purpose.SECURITY if card_data.status in SECURITY_CARD_STATES else Purpose.ALERT
            return "card", text, purpose, card_data.status
        if isinstance(event, BalanceChanged):
            balance = event.data
            account = self._account(target, balance.account_id)
            text = compose.balance_text(
                audience,
                account=account,
                balance=balance.balance,
                available=balance.available_balance,
                at=event.occurred_at,
            )
            return "balance", text, Purpose.ALERT, None
        if isinstance(event, AccountNotice):
            notice = event.data
            if notice.account_id is not None:
                self._account(target, notice.account_id)
            text = compose.notice_text(audience, title=notice.title, body=notice.body, effective_at=notice.effective_at)
            return "notice", text, Purpose.ALERT, None
        if isinstance(event, LoanStatusChanged):
            loan = event.data
            text = compose.loan_text(
                audience, loan=loan.loan_id, status=loan.status, amount=loan.amount, due=loan.due_date
            )
            return "loan", text, Purpose.ALERT, loan.status
        if isinstance(event, ClaimStatusChanged):
            claim = event.data
            text = compose.claim_text(audience, claim=claim.claim_id, status=claim.status, amount=claim.amount)
            return "claim", text, Purpose.ALERT, claim.status
        raise EventRejected("invalid_event", f"unhandled event type {event.type}")

    @staticmethod
    def _account(target: Target, account_id: str) -> str:
        label = target.customer.account_label(account_id)
        if label is None:
            raise EventRejected("unknown_account", "the account is not one of this customer's", "data.account_id")
        return label

    async def _transaction(
        self, session: AsyncSession, target: Target, event: TransactionPosted, outbox: list[dict[str, Any]]
    ) -> dict[str, Any]:
        data = event.data
        account = self._account(target, data.account_id)
        outcome: dict[str, Any] = {"transaction_id": data.transaction_id}
        decision = route(target.prefs, "transaction", amount=data.amount)
        if decision is Route.SKIP:
            return outcome | {"action": "skipped", "reason": "customer_preferences"}
        if decision is Route.DIGEST:
            signed = data.amount if data.direction == "credit" else -data.amount
            await session.execute(
                insert_ignore(self._dialect, DigestItem, "tenant_id", "event_id").values(
                    tenant_id=target.tenant_id,
                    customer_id=target.customer.customer_id,
                    wa_id=target.customer.wa_id,
                    phone_number_id=target.phone_number_id,
                    event_id=event.id,
                    created_at=self._clock.now(),
                    line={"at": event.occurred_at.isoformat(), "description": data.description, "amount": signed},
                )
            )
            return outcome | {"action": "digest"}
        composed = compose.transaction_alert(
            target.audience,
            event_id=event.id,
            direction=data.direction,
            amount=data.amount,
            account=account,
            description=data.description,
            counterparty=data.counterparty,
            balance_after=data.balance_after,
            posted_at=event.occurred_at,
        )
        return outcome | self._queue(outbox, target, event.id, composed, Purpose.ALERT)

    def _queue(
        self, outbox: list[dict[str, Any]], target: Target, event_id: str, composed: Composed, purpose: Purpose
    ) -> dict[str, Any]:
        try:
            payload = dict(composed.message.to_payload())
            fallback = dict(composed.template.to_payload()) if composed.template else None
        except InvalidOutgoingMessage as exc:
            raise EventRejected("invalid_event", f"the message would break a WhatsApp limit: {exc}") from None
        outbox.append(
            outbox_row(
                tenant_id=target.tenant_id,
                phone_number_id=target.phone_number_id,
                to_wa_id=target.customer.wa_id,
                payload=payload,
                purpose=purpose,
                idempotency_key=f"evt:{target.tenant_id}:{event_id}",
                now=self._clock.now(),
                fallback=fallback,
                origin=f"event:{event_id}",
            )
        )
        return {"action": "message_queued", "purpose": purpose.value}

    async def _confirmation(
        self, session: AsyncSession, target: Target, event: ConfirmationRequested
    ) -> dict[str, Any]:
        data = event.data
        now: datetime = self._clock.now()
        if data.expires_at <= now:
            raise EventRejected("invalid_event", "expires_at is in the past", "data.expires_at")
        if (data.expires_at - now).total_seconds() > 24 * 3600:
            raise EventRejected("invalid_event", "expires_at is more than 24 hours away", "data.expires_at")
        if data.account_id is not None:
            self._account(target, data.account_id)
        to = Recipient(
            target.tenant_id,
            target.phone_number_id,
            target.customer.wa_id,
            target.customer.customer_id,
            target.audience,
            target.high_value,
        )
        return await self._confirmations.create(
            session,
            to,
            event_id=event.id,
            amount=data.amount,
            payee=data.payee,
            channel=data.channel,
            expires_at=data.expires_at,
            risk=data.risk,
            account_id=data.account_id,
            card_id=data.card_id,
            transaction_ref=data.transaction_ref,
        )
