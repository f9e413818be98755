"""`record()`: the one call every module uses to put a fact into the audit log.

Pass the session (or connection) of your own transaction and the entry commits or rolls back with
your business change; pass nothing and the log opens a transaction of its own.

    await audit.record(EventType.PII_REVEALED, tenant="bank-nusantara", actor="staff:42",
                       fields={"staff": "staff:42", "customer": wa_id, "field": "account_number",
                               "reason": "complaint"}, session=session)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from loket.audit.canonical import Pseudonymizer
from loket.audit.events import AuditEventError, EventType, check_ref, normalise
from loket.audit.store import Draft, Executor, Receipt, append
from loket.clock import Clock, system_clock
from loket.db.engine import Database


@dataclass(frozen=True)
class AuditEvent:
    """One event for `record_many`."""

    type: EventType
    tenant: str
    fields: Mapping[str, object] = field(default_factory=dict)
    actor: str | None = None
    at: datetime | None = None


class AuditLog:
    def __init__(self, db: Database, pseudonymizer: Pseudonymizer, *, clock: Clock = system_clock) -> None:
        self.db = db
        self.pseudonymizer = pseudonymizer
        self.clock = clock

    def draft(self, event: AuditEvent, now: datetime | None = None) -> Draft:
        """Validate against the catalogue and hash personal values; raises AuditEventError."""
        if not isinstance(event.type, EventType):
            raise AuditEventError(f"unknown event type {event.type!r}")
        check_ref("tenant", event.tenant)
        actor = None if event.actor is None else check_ref("actor", event.actor)
        at = event.at or now or self.clock.now()
        if at.tzinfo is None:
            raise AuditEventError("naive datetime: audit times must be timezone-aware")

        def pseudonym(value: str) -> str:
            return self.pseudonymizer.pseudonym(event.tenant, value)

        return Draft(event.type.value, at, actor, normalise(event.type, event.fields, pseudonym))

    async def record(
        self,
        event: EventType,
        *,
        tenant: str,
        fields: Mapping[str, object] | None = None,
        actor: str | None = None,
        at: datetime | None = None,
        session: Executor | None = None,
    ) -> Receipt:
        receipts = await self.record_many(
            [AuditEvent(event, tenant, fields or {}, actor, at)],
            session=session,
        )
        return receipts[0]

    async def record_many(self, events: Sequence[AuditEvent], *, session: Executor | None = None) -> list[Receipt]:
        """Append many events in one transaction: one head lock per tenant, bulk inserts."""
        by_tenant: dict[str, list[tuple[int, Draft]]] = defaultdict(list)
        now = self.clock.now()  # one timestamp for a batch's undated events
        for position, event in enumerate(events):
            by_tenant[event.tenant].append((position, self.draft(event, now)))
        if session is None:
            async with self.db.connect() as own:  # a Core connection in a transaction: no ORM overhead
                return await self._append(own, by_tenant, len(events))
        return await self._append(session, by_tenant, len(events))

    async def _append(
        self, ex: Executor, by_tenant: Mapping[str, list[tuple[int, Draft]]], count: int
    ) -> list[Receipt]:
        out: list[Receipt | None] = [None] * count
        now = self.clock.now()
        for tenant in sorted(by_tenant):  # a fixed lock order: no deadlock between two batches
            items = by_tenant[tenant]
            receipts = await append(ex, tenant, [draft for _, draft in items], now)
            for (position, _), receipt in zip(items, receipts, strict=True):
                out[position] = receipt
        return [r for r in out if r is not None]


_installed: AuditLog | None = None


def install(log: AuditLog | None) -> None:
    """Make `log` the process-wide log behind the module-level `record()` (Runtime.build does this)."""
    global _installed
    _installed = log


def current() -> AuditLog | None:
    """The installed log, or None in a process that has none (library use, some tests)."""
    return _installed


def installed() -> AuditLog:
    if _installed is None:
        raise RuntimeError("no audit log installed: call loket.audit.install(AuditLog(...)) at start-up")
    return _installed


async def record(
    event: EventType,
    *,
    tenant: str,
    fields: Mapping[str, object] | None = None,
    actor: str | None = None,
    at: datetime | None = None,
    session: Executor | None = None,
) -> Receipt:
    """Record one audit event with the installed log; see the module docstring."""
    return await installed().record(event, tenant=tenant, fields=fields, actor=actor, at=at, session=session)
