"""The outbox: every outbound message is a row written in the transaction that caused it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from loket.db.models import OutboxMessage
from loket.db.upsert import insert_ignore


class Purpose(enum.StrEnum):
    SECURITY = "security"
    CONFIRMATION = "confirmation"
    ALERT = "alert"
    SERVICE = "service"
    MARKETING = "marketing"


PRIORITY = {
    Purpose.SECURITY: 0,
    Purpose.CONFIRMATION: 1,
    Purpose.ALERT: 2,
    Purpose.SERVICE: 3,
    Purpose.MARKETING: 4,
}

READ_RECEIPT = "read_receipt"


async def enqueue(
    session: AsyncSession,
    *,
    dialect: str,
    tenant_id: str,
    phone_number_id: str,
    to_wa_id: str,
    payload: dict[str, Any],
    purpose: Purpose,
    idempotency_key: str,
    now: datetime,
    not_before: datetime | None = None,
    context_message_id: str | None = None,
) -> None:
    """Queue one message; a second call with the same idempotency key is a no-op."""
    kind = str(payload.get("type", "unknown"))
    await session.execute(
        insert_ignore(dialect, OutboxMessage, "idempotency_key").values(
            tenant_id=tenant_id,
            phone_number_id=phone_number_id,
            to_wa_id=to_wa_id,
            kind=kind,
            payload=payload,
            purpose=purpose.value,
            priority=PRIORITY[purpose],
            idempotency_key=idempotency_key,
            context_message_id=context_message_id,
            created_at=now,
            not_before=not_before or now,
            state="queued",
            attempts=0,
        )
    )


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
