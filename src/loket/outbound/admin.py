"""Operator queries over the outbox: queue depth, dead letters, retry and cancel.

Listings show ids, purposes, states and error codes; a recipient appears only as its last four
digits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update

from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import OutboxMessage, PhoneNumber
from loket.outbound.metrics import OLDEST_DUE, QUEUE_ROWS
from loket.outbound.outbox import DEADLINE
from loket.outbound.policy_rules import Purpose
from loket.outbound.tables import OutboundWorker

RATE_WINDOW = timedelta(seconds=60)
RETRYABLE = ("dead", "failed", "unknown", "undeliverable", "refused")
CANCELLABLE = ("queued", "dead", "unknown")


@dataclass(frozen=True, slots=True)
class NumberRate:
    phone_number_id: str
    configured_mps: int
    sent_last_minute: int

    @property
    def rate(self) -> float:
        return self.sent_last_minute / RATE_WINDOW.total_seconds()


@dataclass(frozen=True, slots=True)
class QueueStatus:
    depth: dict[tuple[str, int], int]  # (state, priority) -> rows
    due_now: int
    scheduled_later: int
    oldest_due_seconds: float | None
    rates: list[NumberRate]
    workers: list[tuple[str, str, float, bool]]  # id, host:pid, seconds since heartbeat, stopped

    def as_dict(self) -> dict[str, Any]:
        return {
            "depth": [{"state": s, "priority": p, "rows": n} for (s, p), n in sorted(self.depth.items())],
            "due_now": self.due_now,
            "scheduled_later": self.scheduled_later,
            "oldest_due_seconds": self.oldest_due_seconds,
            "rates": [
                {"phone_number_id": r.phone_number_id, "configured_mps": r.configured_mps, "sent_per_second": r.rate}
                for r in self.rates
            ],
            "workers": [
                {"worker_id": w, "process": p, "heartbeat_age_seconds": a, "stopped": s} for w, p, a, s in self.workers
            ],
        }


async def queue_status(db: Database, *, clock: Clock = system_clock) -> QueueStatus:
    now = clock.now()
    async with db.sessions() as session:
        depth = {
            (state, int(priority)): int(count)
            for state, priority, count in await session.execute(
                select(OutboxMessage.state, OutboxMessage.priority, func.count()).group_by(
                    OutboxMessage.state, OutboxMessage.priority
                )
            )
        }
        due = await session.execute(
            select(func.count(), func.min(OutboxMessage.not_before)).where(
                OutboxMessage.state == "queued", OutboxMessage.not_before <= now
            )
        )
        due_now, oldest = due.one()
        later = await session.scalar(
            select(func.count()).where(OutboxMessage.state == "queued", OutboxMessage.not_before > now)
        )
        sent = dict(
            (
                await session.execute(
                    select(OutboxMessage.phone_number_id, func.count())
                    .where(OutboxMessage.state == "sent", OutboxMessage.sent_at > now - RATE_WINDOW)
                    .group_by(OutboxMessage.phone_number_id)
                )
            ).all()
        )
        numbers = (await session.execute(select(PhoneNumber.phone_number_id, PhoneNumber.messages_per_second))).all()
        workers = (await session.execute(select(OutboundWorker).order_by(OutboundWorker.started_at))).scalars().all()
    oldest_at = _aware(oldest)
    return QueueStatus(
        depth=depth,
        due_now=int(due_now or 0),
        scheduled_later=int(later or 0),
        oldest_due_seconds=(now - oldest_at).total_seconds() if oldest_at is not None else None,
        rates=[NumberRate(pnid, int(mps), int(sent.get(pnid, 0))) for pnid, mps in numbers],
        workers=[
            (
                w.worker_id,
                f"{w.hostname}:{w.pid}",
                (now - w.heartbeat_at).total_seconds(),
                w.stopped_at is not None,
            )
            for w in workers
        ],
    )


def _aware(value: object) -> datetime | None:
    """min() over a UTCDateTime column comes back raw on SQLite (a string)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def export_metrics(status: QueueStatus) -> None:
    """Set the queue gauges from a status sample (the worker samples every few seconds)."""
    QUEUE_ROWS.clear()
    for (state, priority), count in status.depth.items():
        if state in ("queued", "sending", "unknown", "dead"):
            QUEUE_ROWS.labels(state, str(priority)).set(count)
    OLDEST_DUE.set(status.oldest_due_seconds or 0.0)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    tenant_id: str
    phone_number_id: str
    recipient: str  # last four digits only
    purpose: str
    kind: str
    state: str
    attempts: int
    error_code: int | None
    reason: str | None
    created_at: datetime


async def dead_letters(
    db: Database, *, tenant_id: str | None = None, states: Sequence[str] = ("dead",), limit: int = 50
) -> list[DeadLetter]:
    query = select(OutboxMessage).where(OutboxMessage.state.in_(list(states)))
    if tenant_id is not None:
        query = query.where(OutboxMessage.tenant_id == tenant_id)
    async with db.sessions() as session:
        rows = (await session.execute(query.order_by(OutboxMessage.id.desc()).limit(limit))).scalars().all()
    return [
        DeadLetter(
            r.id,
            r.tenant_id,
            r.phone_number_id,
            "…" + r.to_wa_id[-4:],
            r.purpose,
            r.kind,
            r.state,
            r.attempts,
            r.last_error_code,
            r.last_error,
            r.created_at,
        )
        for r in rows
    ]


async def retry(
    db: Database,
    ids: Sequence[int] = (),
    *,
    all_dead: bool = False,
    tenant_id: str | None = None,
    clock: Clock = system_clock,
) -> int:
    """Queue again now, with a fresh attempt count and deadline: an operator's informed decision."""
    if not ids and not all_dead:
        return 0
    now = clock.now()
    where: list[ColumnElement[bool]] = [OutboxMessage.state.in_(RETRYABLE)]
    if ids:
        where.append(OutboxMessage.id.in_(list(ids)))
    else:
        where.append(OutboxMessage.state == "dead")
    if tenant_id is not None:
        where.append(OutboxMessage.tenant_id == tenant_id)
    changed = 0
    async with db.transaction() as session:
        for purpose in Purpose:
            result = await session.execute(
                update(OutboxMessage)
                .where(*where, OutboxMessage.purpose == purpose.value)
                .values(
                    state="queued",
                    not_before=now,
                    attempts=0,
                    deadline=now + DEADLINE[purpose],
                    claimed_by=None,
                    claimed_at=None,
                    policy_verdict=None,
                )
                .execution_options(synchronize_session=False)
            )
            changed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return changed


async def cancel(db: Database, ids: Sequence[int], *, clock: Clock = system_clock) -> int:
    if not ids:
        return 0
    async with db.transaction() as session:
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.state.in_(CANCELLABLE))
            .values(state="cancelled", last_error=f"cancelled by an operator at {clock.now().isoformat()}")
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
