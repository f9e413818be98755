"""Applying delivery statuses to outbox rows: monotonic, whatever order Meta delivers them in.

A status is matched to its outbox row by biz_opaque_callback_data (the outbox id we sent) first,
then by wamid. A row whose send outcome was unknown learns its wamid this way: the reconciliation
path for a request that timed out after leaving.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.channel.inbound_models import merge_status
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import MessageStatus, OutboxMessage

UNMATCHED_GIVE_UP = timedelta(hours=1)


class StatusApplier:
    def __init__(self, db: Database, *, clock: Clock = system_clock, batch: int = 500) -> None:
        self._db = db
        self._clock = clock
        self._batch = batch

    async def run_once(self) -> int:
        now = self._clock.now()
        applied = 0
        async with self._db.transaction() as session:
            statuses = (
                (
                    await session.execute(
                        select(MessageStatus)
                        .where(MessageStatus.applied.is_(False))
                        .order_by(MessageStatus.id)
                        .limit(self._batch)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            for status in statuses:
                row = await self._find(session, status)
                if row is None:
                    if now - status.received_at > UNMATCHED_GIVE_UP:
                        status.applied = True  # not ours (another system on the number) or long gone
                    continue
                merged = merge_status(row.delivery_status, status.status)
                values: dict[str, object] = {}
                if merged != row.delivery_status:
                    values.update(delivery_status=merged, delivery_status_at=now)
                if row.wamid is None:
                    values["wamid"] = status.wamid
                if row.state in ("unknown", "sending") and status.status in ("sent", "delivered", "read", "played"):
                    values.update(state="sent", sent_at=row.sent_at or now)
                if status.status == "failed" and status.errors:
                    first = status.errors[0] if isinstance(status.errors[0], dict) else {}
                    values.update(last_error_code=first.get("code"), last_error=str(first.get("title") or "")[:300])
                if values:
                    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values))
                status.applied = True
                applied += 1
        return applied

    async def _find(self, session: AsyncSession, status: MessageStatus) -> OutboxMessage | None:
        if status.biz_opaque_callback_data and status.biz_opaque_callback_data.isdigit():
            row = await session.get(OutboxMessage, int(status.biz_opaque_callback_data))
            if row is not None and row.phone_number_id == status.phone_number_id:
                return row
        return (
            await session.execute(select(OutboxMessage).where(OutboxMessage.wamid == status.wamid).limit(1))
        ).scalar_one_or_none()
