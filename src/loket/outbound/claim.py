"""Claiming due outbox rows: the one query every dispatcher runs, many times a second.

Rows are claimed in (priority, id) order, `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one
writer), and only the oldest unsettled row per recipient, so messages to one person go out in
order; a row the policy gate deferred to a later slot does not hold the others back. The claim
sets `sending` and the worker's id in the same statement that returns the rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import aliased

from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.outbound.outbox import DEADLINE
from loket.outbound.policy_rules import Purpose, Verdict

OUTBOX = cast(Table, OutboxMessage.__table__)
_QUEUED: ColumnClause[str] = literal_column("'queued'")
_SENDING: ColumnClause[str] = literal_column("'sending'")
_CLAIM_PLAN = text("SELECT set_config('enable_sort', 'off', true), set_config('enable_incremental_sort', 'off', true)")
_CLAIM_COLUMNS = tuple(
    OUTBOX.c[name]
    for name in (
        "id",
        "tenant_id",
        "phone_number_id",
        "to_wa_id",
        "kind",
        "payload",
        "attempts",
        "context_message_id",
        "purpose",
        "fallback",
        "origin",
        "deadline",
        "created_at",
    )
)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    tenant_id: str
    phone_number_id: str
    to_wa_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    context_message_id: str | None
    purpose: str
    fallback: dict[str, Any] | None
    origin: str | None
    deadline: datetime | None
    created_at: datetime

    @property
    def purpose_enum(self) -> Purpose:
        try:
            return Purpose(self.purpose)
        except ValueError:
            return Purpose.SERVICE

    def due_by(self) -> datetime:
        return self.deadline or self.created_at + DEADLINE[self.purpose_enum]


def _due(now: ColumnElement[datetime] | datetime, due: Any) -> ColumnElement[bool]:
    """The claim's condition on the candidate row `due`: due now, and heading its recipient's queue
    (earlier messages to the same person go first, except ones the gate deferred to a later slot).

    The states are written into the SQL, not bound: a partial index (ix_outbox_claim,
    ix_outbox_recipient) is only usable when the planner sees the state, and SQLite (and a generic
    PostgreSQL plan) cannot see through a parameter.
    """
    earlier = aliased(OutboxMessage, name="earlier")
    blocked = exists().where(
        and_(
            earlier.phone_number_id == due.phone_number_id,
            earlier.to_wa_id == due.to_wa_id,
            earlier.id < due.id,
            earlier.state.in_((_QUEUED, _SENDING)),
            or_(
                earlier.state == _SENDING,
                earlier.policy_verdict.is_(None),
                earlier.policy_verdict != Verdict.DEFER.value,
                earlier.not_before <= now,
            ),
        )
    )
    return and_(due.state == _QUEUED, due.not_before <= now, ~blocked)


def due_rows(now: datetime, limit: int) -> Select[Any]:
    """The ids of up to `limit` rows a claim would take now (for a look without claiming)."""
    return (
        select(OutboxMessage.id)
        .where(_due(now, OutboxMessage))
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(limit)
    )


def _claim_statement(postgres: bool) -> Any:
    """One statement, built once: lock the due rows (SKIP LOCKED: other workers take others), mark
    them `sending` for this worker, and return them. Parameters: now, lim, worker.

    On PostgreSQL the ids come from a MATERIALIZED CTE: as a plain `IN (subquery)` the planner may
    run the locking subquery once per outer row and claim more than `lim` rows.
    """
    due = aliased(OutboxMessage, name="due")
    now = bindparam("now", type_=OUTBOX.c.not_before.type)
    ids = (
        select(due.id)
        .where(_due(now, due))
        .order_by(due.priority, due.id)
        .limit(bindparam("lim", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    claim = update(OUTBOX).values(state="sending", claimed_by=bindparam("worker"), claimed_at=now)
    if postgres:
        chosen = ids.cte("claimable").prefix_with("MATERIALIZED")
        claim = claim.where(OUTBOX.c.id == chosen.c.id)
    else:
        claim = claim.where(OUTBOX.c.id.in_(ids.scalar_subquery()))
    return claim.where(OUTBOX.c.state == _QUEUED).returning(*_CLAIM_COLUMNS)


_CLAIM = {True: _claim_statement(True), False: _claim_statement(False)}


async def claim_rows(db: Database, worker_id: str, now: datetime, limit: int) -> list[Claimed]:
    """Up to `limit` due rows, now `sending` and claimed by `worker_id`, oldest first."""
    async with db.transaction() as session:
        if db.is_postgres:
            # Walk ix_outbox_claim in order and stop at the limit, even when a burst has just made
            # the statistics stale (the planner would otherwise anti-join and sort every queued row).
            await session.execute(_CLAIM_PLAN)
        rows = (await session.execute(_CLAIM[db.is_postgres], {"now": now, "lim": limit, "worker": worker_id})).all()
    return sorted((Claimed(*row) for row in rows), key=lambda row: row.id)


async def release_claims(db: Database, worker_id: str, *, keep: Collection[int] = ()) -> int:
    """Back to the queue: rows claimed by `worker_id` still `sending`, except the ids in `keep` (the
    ones it holds). Only for rows whose request never left: at shutdown, or a claim lost in transit."""
    condition = and_(OUTBOX.c.claimed_by == worker_id, OUTBOX.c.state == _SENDING)
    if keep:
        condition = and_(condition, OUTBOX.c.id.not_in(list(keep)))
    async with db.transaction() as session:
        result = await session.execute(
            update(OUTBOX).where(condition).values(state="queued", claimed_by=None, claimed_at=None)
        )
    return int(getattr(result, "rowcount", 0) or 0)
