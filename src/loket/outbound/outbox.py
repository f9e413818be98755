"""The outbox: every outbound message is a row written in the transaction that caused it.

A row carries a purpose (its priority follows: security > confirmations > alerts > service replies >
marketing and collection), a not-before time, an idempotency key, a retry deadline, and optionally
the approved template to send instead when the 24-hour window has closed (`fallback`) and the
`origin` that asked for it (an institution event, a confirmation), so the institution can be told
when the message is refused or undeliverable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from loket.db.models import OutboxMessage
from loket.db.upsert import insert_ignore
from loket.outbound.policy_rules import Purpose

PRIORITY: Mapping[Purpose, int] = {
    Purpose.SECURITY: 0,
    Purpose.CONFIRMATION: 1,
    Purpose.ALERT: 2,
    Purpose.SERVICE: 3,
    Purpose.MARKETING: 4,
    Purpose.COLLECTION: 4,
}

# How long transient failures are retried before the row is dead-lettered with its reason.
DEADLINE: Mapping[Purpose, timedelta] = {
    Purpose.SECURITY: timedelta(hours=1),
    Purpose.CONFIRMATION: timedelta(minutes=30),
    Purpose.ALERT: timedelta(hours=6),
    Purpose.SERVICE: timedelta(hours=1),
    Purpose.MARKETING: timedelta(hours=24),
    Purpose.COLLECTION: timedelta(hours=24),
}

READ_RECEIPT = "read_receipt"

# Terminal states: nothing more happens to the row unless an operator retries it.
TERMINAL = frozenset({"sent", "failed", "dead", "refused", "undeliverable", "cancelled"})
STATES = ("queued", "sending", "unknown", *sorted(TERMINAL))


def outbox_row(
    *,
    tenant_id: str,
    phone_number_id: str,
    to_wa_id: str,
    payload: dict[str, Any],
    purpose: Purpose,
    idempotency_key: str,
    now: datetime,
    not_before: datetime | None = None,
    context_message_id: str | None = None,
    fallback: dict[str, Any] | None = None,
    origin: str | None = None,
    deadline: datetime | None = None,
) -> dict[str, Any]:
    """The column values of one queued message (for `enqueue`, or many at once with `enqueue_many`).

    `fallback` is the approved-template payload the dispatcher sends instead when the policy gate
    says the service window has closed (alerts and confirmations).
    """
    return {
        "tenant_id": tenant_id,
        "phone_number_id": phone_number_id,
        "to_wa_id": to_wa_id,
        "kind": str(payload.get("type", "unknown")),
        "payload": payload,
        "purpose": purpose.value,
        "priority": PRIORITY[purpose],
        "idempotency_key": idempotency_key,
        "context_message_id": context_message_id,
        "created_at": now,
        "not_before": not_before or now,
        "state": "queued",
        "attempts": 0,
        "fallback": fallback,
        "origin": origin,
        "deadline": deadline or (not_before or now) + DEADLINE[purpose],
    }


async def enqueue(session: AsyncSession, *, dialect: str, **row: Any) -> None:
    """Queue one message (see `outbox_row`); a second call with the same idempotency key is a no-op."""
    await session.execute(insert_ignore(dialect, OutboxMessage, "idempotency_key").values(outbox_row(**row)))


async def enqueue_many(session: AsyncSession, dialect: str, rows: list[dict[str, Any]]) -> None:
    """Queue many `outbox_row`s in one statement; keys already queued are skipped."""
    if rows:
        await session.execute(insert_ignore(dialect, OutboxMessage, "idempotency_key"), rows)


async def enqueue_read_receipt(
    session: AsyncSession,
    *,
    dialect: str,
    tenant_id: str,
    phone_number_id: str,
    to_wa_id: str,
    message_id: str,
    typing: bool,
    now: datetime,
) -> None:
    await enqueue(
        session,
        dialect=dialect,
        tenant_id=tenant_id,
        phone_number_id=phone_number_id,
        to_wa_id=to_wa_id,
        payload={"type": READ_RECEIPT, "message_id": message_id, "typing": typing},
        purpose=Purpose.SERVICE,
        idempotency_key=f"read:{message_id}",
        now=now,
    )


__all__ = [
    "DEADLINE",
    "PRIORITY",
    "READ_RECEIPT",
    "STATES",
    "TERMINAL",
    "Purpose",
    "enqueue",
    "enqueue_many",
    "enqueue_read_receipt",
    "outbox_row",
]
