"""Writing what happened to claimed rows, many rows per transaction.

Each send task hands over a `Settle` and waits for it to be committed; a flusher writes whatever
has gathered in one transaction: the row updates (grouped by the columns they set, one executemany
per group, each guarded by `claimed_by` so a row recovered by another worker is not overwritten),
the policy decisions that are not plain Allows, marketing opt-outs learnt from 131050, the
listener's follow-ups (callbacks to the institution) and the audit entries. If the database is
down the batch is kept and retried: the rows stay `sending` meanwhile, and only a crash makes them
`unknown`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.db.upsert import insert_ignore
from loket.i18n.formatting import ZONE_ABBREVIATIONS
from loket.outbound.metrics import AUDIT_FAILED, SETTLE_BATCH, SETTLED
from loket.outbound.policy_rules import Decision, Purpose, Verdict
from loket.outbound.tables import PolicyDecisionLog, Recipient

log = logging.getLogger(__name__)

OUTBOX: Table = cast(Table, OutboxMessage.__table__)
AUDITED_ALLOWS = frozenset({Purpose.MARKETING, Purpose.COLLECTION})  # AUD-1: offers and collection


@dataclass(frozen=True, slots=True)
class Finished:
    """A row that reached a state the institution may care about."""

    outbox_id: int
    tenant_id: str
    origin: str | None
    state: str
    notify: str | None  # callback kind, e.g. message.undeliverable
    reason: str | None
    error_code: int | None
    wamid: str | None


class OutcomeListener(Protocol):
    async def messages_finished(self, session: AsyncSession, finished: Sequence[Finished]) -> None: ...


@dataclass(slots=True)
class Settle:
    outbox_id: int
    tenant_id: str
    wa_id: str
    origin: str | None
    values: dict[str, Any]
    decisions: list[Decision] = field(default_factory=list)  # in order; the last one is the row's
    opt_out: bool = False
    notify: str | None = None
    done: asyncio.Future[None] | None = field(default=None)


def _audit_decision(decision: Decision) -> bool:
    return decision.verdict is not Verdict.ALLOW or decision.evaluation.purpose in AUDITED_ALLOWS


def _zone_code(decision: Decision) -> str:
    local = decision.evaluation.local_time
    key = getattr(local.tzinfo, "key", None) if local is not None else None
    return ZONE_ABBREVIATIONS.get(str(key), "unknown").lower()


_AUDIT_VERDICT = {
    Verdict.ALLOW: "allowed",
    Verdict.DEFER: "queued",
    Verdict.REFUSE: "blocked",
    Verdict.SWITCH_TO_TEMPLATE: "switched_to_template",
}


class SettleWriter:
    def __init__(
        self,
        db: Database,
        worker_id: str,
        *,
        clock: Clock = system_clock,
        listener: OutcomeListener | None = None,
        max_batch: int = 500,
        linger: float = 0.002,
    ) -> None:
        self._db = db
        self._worker_id = worker_id
        self._clock = clock
        self.listener = listener
        self._max_batch = max_batch
        self._linger = linger
        self._pending: list[Settle] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def submit(self, item: Settle) -> asyncio.Future[None]:
        """Hand over a settle; the future resolves once it is committed. The caller need not wait:
        the row stays `sending` (so nothing else touches it) until then."""
        item.done = asyncio.get_running_loop().create_future()
        self._pending.append(item)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="outbox-settle")
        return item.done

    async def settle(self, item: Settle) -> None:
        await self.submit(item)

    async def flushed(self) -> None:
        """Wait until everything handed over so far is committed."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        while self._pending:
            if len(self._pending) < self._max_batch and self._linger:
                await asyncio.sleep(self._linger)  # let the batch gather
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            delay = 0.1
            while True:
                try:
                    await self._write(batch)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("settling %d outbox rows failed; retrying in %.1f s", len(batch), delay)
                    await asyncio.sleep(delay)
                    delay = min(5.0, delay * 2)
            for item in batch:
                if item.done is not None and not item.done.done():
                    item.done.set_result(None)

    async def close(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _write(self, batch: list[Settle]) -> None:
        now = self._clock.now()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for item in batch:
            keys = tuple(sorted(item.values))
            params = {f"v_{key}": value for key, value in item.values.items()}
            params.update(b_id=item.outbox_id, b_worker=self._worker_id)
            groups[keys].append(params)
        table = OUTBOX
        async with self._db.transaction() as session:
            for keys, group in groups.items():
                statement = (
                    update(table)
                    .where(table.c.id == bindparam("b_id"), table.c.claimed_by == bindparam("b_worker"))
                    .values({key: bindparam(f"v_{key}") for key in keys})
                )
                await session.execute(statement, group)
            decisions = [(item, decision) for item in batch for decision in item.decisions]
            logged = [
                PolicyDecisionLog(
                    outbox_id=item.outbox_id,
                    tenant_id=item.tenant_id,
                    decided_at=decision.evaluation.at,
                    verdict=decision.verdict.value,
                    rule_id=decision.rule_id,
                    record=decision.as_record(),
                )
                for item, decision in decisions
                if decision.verdict is not Verdict.ALLOW
            ]
            if logged:
                session.add_all(logged)
            for item in batch:
                if item.opt_out:
                    await record_opt_out(session, self._db.dialect, item.tenant_id, item.wa_id, now)
            await self._audit(session, [(item, decision) for item, decision in decisions if _audit_decision(decision)])
            finished = [
                Finished(
                    item.outbox_id,
                    item.tenant_id,
                    item.origin,
                    str(item.values.get("state")),
                    item.notify,
                    item.values.get("last_error"),
                    item.values.get("last_error_code"),
                    item.values.get("wamid"),
                )
                for item in batch
                if item.values.get("state") not in (None, "queued")
            ]
            if finished and self.listener is not None:
                await self.listener.messages_finished(session, finished)
        SETTLE_BATCH.observe(len(batch))
        for item in batch:
            SETTLED.labels(str(item.values.get("state", "queued"))).inc()

    async def _audit(self, session: AsyncSession, items: list[tuple[Settle, Decision]]) -> None:
        if not items:
            return
        try:
            from loket.audit import AuditEvent, EventType, installed
        except ImportError:  # the audit package is optional in a stripped-down build
            return
        try:
            audit_log = installed()
        except RuntimeError:
            return  # no audit log in this process (tests, tools)
        events = []
        for item, decision in items:
            local = decision.evaluation.local_time
            events.append(
                AuditEvent(
                    EventType.POLICY_DECISION,
                    item.tenant_id,
                    {
                        "rule": decision.rule_id,
                        "decision": _AUDIT_VERDICT[decision.verdict],
                        "message_class": decision.evaluation.purpose.value,
                        "subject": f"outbox:{item.outbox_id}",
                        "zone": _zone_code(decision),
                        "local_time": local,
                        "calendar_version": decision.evaluation.calendar_version,
                    },
                    actor="system:policy-gate",
                    at=decision.evaluation.at,
                )
            )
        try:
            # In a savepoint: a failing audit write must not abort the settle, or the rows it
            # settles would stay `sending` and their sends be re-examined forever. The decision
            # stays on the row (`policy_record`) and, unless an Allow, in `outbound_decisions`.
            if self._db.is_postgres:
                async with session.begin_nested():
                    await audit_log.record_many(events, session=session)
            else:  # SQLite: one writer, and the driver's savepoints are not to be relied on
                await audit_log.record_many(events, session=session)
        except ValueError:  # AuditEventError: a field the catalogue refuses; the decision is on the row
            log.exception("policy decisions could not be put in the audit log")
        except Exception:  # the database refused the audit write (e.g. SQLAlchemy's or the driver's own error)
            AUDIT_FAILED.inc(len(events))
            log.exception("%d policy decisions could not be written to the audit log", len(events))


async def record_opt_out(session: AsyncSession, dialect: str, tenant_id: str, wa_id: str, at: datetime) -> None:
    """A marketing opt-out (Meta's 131050, the user_preferences "stop"): acts at once (OFR-4)."""
    await session.execute(
        insert_ignore(dialect, Recipient, "tenant_id", "wa_id").values(tenant_id=tenant_id, wa_id=wa_id, updated_at=at)
    )
    await session.execute(
        update(Recipient)
        .where(Recipient.tenant_id == tenant_id, Recipient.wa_id == wa_id)
        .values(marketing_opt_out_at=at, updated_at=at)
    )
