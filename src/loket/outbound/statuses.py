"""Applying delivery statuses to outbox rows: monotonic, whatever order Meta delivers them in.

A status is matched to its outbox row by biz_opaque_callback_data (the outbox id we sent) first,
then by wamid. A row whose send outcome was unknown learns its wamid this way: the reconciliation
path for a request that timed out after leaving, or that a crashed worker had in flight.

Failures reported asynchronously act like the same error at send time: 131026 makes the row
`undeliverable` and tells the institution; 131047 requeues the row with its approved template
(the message was not delivered, so this is not a duplicate); 131050 records a marketing opt-out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.channel.inbound_models import merge_status
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import MessageStatus, OutboxMessage
from loket.outbound.outcomes import MARKETING_OPT_OUT, UNDELIVERABLE
from loket.outbound.settle import Finished, OutcomeListener, record_opt_out
from loket.outbound.workers import UNKNOWN_PREFIX

UNMATCHED_GIVE_UP = timedelta(hours=1)
RE_ENGAGEMENT = 131047
_DELIVERED = ("sent", "delivered", "read", "played")


class StatusApplier:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = system_clock,
        batch: int = 500,
        listener: OutcomeListener | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._batch = batch
        self.listener = listener

    async def run_once(self) -> int:
        now = self._clock.now()
        applied = 0
        finished: list[Finished] = []
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
                values = self._values(row, status, now)
                if status.status == "failed" and merge_status(row.delivery_status, "failed") == "failed":
                    done = await self._failure(session, row, status, values)
                    if done is not None:
                        finished.append(done)
                if values:
                    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values))
                status.applied = True
                applied += 1
            if finished and self.listener is not None:
                await self.listener.messages_finished(session, finished)
        return applied

    @staticmethod
    def _values(row: OutboxMessage, status: MessageStatus, now: Any) -> dict[str, Any]:
        merged = merge_status(row.delivery_status, status.status)
        values: dict[str, Any] = {}
        if merged != row.delivery_status:
            values.update(delivery_status=merged, delivery_status_at=now)
        if row.wamid is None:
            values["wamid"] = status.wamid
        reconciled = row.state in ("unknown", "sending") or (
            row.state == "dead" and (row.last_error or "").startswith(UNKNOWN_PREFIX)
        )
        if reconciled and status.status in _DELIVERED:
            values.update(state="sent", sent_at=row.sent_at or now)
        return values

    async def _failure(
        self, session: AsyncSession, row: OutboxMessage, status: MessageStatus, values: dict[str, Any]
    ) -> Finished | None:
        first = status.errors[0] if status.errors and isinstance(status.errors[0], dict) else {}
        code = first.get("code") if isinstance(first.get("code"), int) else None
        reason = str(first.get("title") or first.get("message") or "failed")[:300]
        values.update(last_error_code=code, last_error=reason)
        if code == RE_ENGAGEMENT and row.fallback and row.payload != row.fallback:
            # Not delivered: sending the approved template instead is not a duplicate.
            values.update(
                state="queued",
                payload=row.fallback,
                kind="template",
                not_before=self._clock.now(),
                claimed_by=None,
                claimed_at=None,
                wamid=None,
                delivery_status=None,
            )
            return None
        if code == MARKETING_OPT_OUT:
            await record_opt_out(session, self._db.dialect, row.tenant_id, row.to_wa_id, self._clock.now())
        state = "undeliverable" if code == UNDELIVERABLE else "failed"
        if row.state in ("failed", "undeliverable"):
            return None  # a duplicate failure webhook: told once
        values["state"] = state
        kind = "message.undeliverable" if code == UNDELIVERABLE else "message.failed"
        return Finished(row.id, row.tenant_id, row.origin, state, kind, reason, code, row.wamid or status.wamid)

    async def _find(self, session: AsyncSession, status: MessageStatus) -> OutboxMessage | None:
        if status.biz_opaque_callback_data and status.biz_opaque_callback_data.isdigit():
            row = await session.get(OutboxMessage, int(status.biz_opaque_callback_data))
            if row is not None and row.phone_number_id == status.phone_number_id:
                return row
        return (
            await session.execute(select(OutboxMessage).where(OutboxMessage.wamid == status.wamid).limit(1))
        ).scalar_one_or_none()
