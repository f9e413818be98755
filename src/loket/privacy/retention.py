"""Retention per data class with legal hold (UU PDP Art. 21(1)(d), 42-44: PDP-13, PDP-R4).

Each class has a period; the purge deletes (or, for outbox bodies, empties) what is older, tenant by
tenant, skipping what a legal hold covers: a tenant hold keeps everything of the tenant, a customer
hold keeps that customer's rows (and, for raw webhook envelopes, which mix customers, every envelope
of the tenant). The audit log is never purged. Every run leaves a report per tenant and class
(`privacy_purge_runs`) and an audit entry per class, dry runs included.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit import AuditLog, EventType
from loket.db.base import Base
from loket.db.engine import Database
from loket.db.models import PhoneNumber, Tenant
from loket.privacy.holds import Holds, active
from loket.privacy.tables import PurgeRun

PURGED_BODY: dict[str, Any] = {"purged": True}
OUTBOX_FINAL = ("sent", "failed", "dead", "unknown", "refused", "undeliverable", "cancelled")
PLATFORM = "platform"  # staff sessions of platform operators belong to no tenant
UNOWNED = "unowned"  # envelopes of a number no tenant owns
BATCH = 2_000


@dataclass(frozen=True, slots=True)
class DataClass:
    name: str
    table: str
    time_column: str
    person_column: str | None  # for customer holds; None: not about one customer
    action: str = "delete"  # delete, or blank (outbox bodies)
    description: str = ""


CLASSES: tuple[DataClass, ...] = (
    DataClass("messages", "inbound_messages", "received_at", "wa_id", description="messages customers sent"),
    DataClass("media", "outgoing_documents", "created_at", "to_wa_id", description="documents sent (files)"),
    DataClass("webhook_envelopes", "webhook_envelopes", "received_at", None, description="raw webhook bodies"),
    DataClass("outbox_bodies", "outbox", "created_at", "to_wa_id", "blank", "bodies of sent messages"),
    DataClass("flow_sessions", "flow_sessions", "expires_at", "wa_id", description="WhatsApp Flow sessions"),
    DataClass("staff_sessions", "staff_sessions", "expires_at", None, description="ended staff sessions"),
)
# Days; the audit log has no entry: it is never purged (append-only, verifiable: docs/audit.md).
DEFAULT_DAYS: dict[str, int] = {
    "messages": 365,
    "media": 30,
    "webhook_envelopes": 30,
    "outbox_bodies": 90,
    "flow_sessions": 90,
    "staff_sessions": 30,
}
NEVER_PURGED = ("audit_log",)


class RetentionError(ValueError):
    """A retention setting that cannot be applied; nothing was purged."""


def policy(overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    days = dict(DEFAULT_DAYS)
    for name, value in (overrides or {}).items():
        if name in NEVER_PURGED:
            raise RetentionError(f"{name} is never purged")
        if name not in days:
            raise RetentionError(f"unknown data class {name!r}; known: {', '.join(sorted(days))}")
        if not isinstance(value, int) or value < 1:
            raise RetentionError(f"{name}: the retention period is a whole number of days, at least 1")
        days[name] = value
    return days


@dataclass
class TenantReport:
    tenant_id: str
    counts: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)


@dataclass
class PurgeReport:
    run_id: str
    dry_run: bool
    started_at: datetime
    days: dict[str, int]
    tenants: dict[str, TenantReport] = field(default_factory=dict)

    def tenant(self, tenant_id: str) -> TenantReport:
        return self.tenants.setdefault(tenant_id, TenantReport(tenant_id))

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "retention_days": self.days,
            "never_purged": list(NEVER_PURGED),
            "tenants": {tid: {"purged": r.counts, "held": r.held} for tid, r in sorted(self.tenants.items())},
        }


def _rows(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _count(session: AsyncSession, table: Table, where: ColumnElement[bool]) -> int:
    return int((await session.execute(select(func.count()).select_from(table).where(where))).scalar_one())


async def _apply(session: AsyncSession, spec: DataClass, table: Table, where: ColumnElement[bool], dry: bool) -> int:
    if spec.action == "blank":
        # bodies already emptied are skipped in Python: JSON equality differs between the databases
        rows = (await session.execute(select(table.c.id, table.c.payload).where(where).order_by(table.c.id))).all()
        ids = [row.id for row in rows if row.payload != PURGED_BODY]
        if not dry:
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                await session.execute(update(table).where(table.c.id.in_(chunk)).values(payload=PURGED_BODY))
        return len(ids)
    if dry:
        return await _count(session, table, where)
    return _rows(await session.execute(delete(table).where(where)))


def _scope(spec: DataClass, table: Table, cutoff: datetime, tenant_id: str, pnids: list[str]) -> ColumnElement[bool]:
    old: ColumnElement[bool] = table.c[spec.time_column] < cutoff
    owner: ColumnElement[bool]
    if spec.name == "webhook_envelopes":
        if tenant_id == UNOWNED:
            known = table.c.phone_number_id.in_(select(PhoneNumber.phone_number_id))
            owner = or_(table.c.phone_number_id.is_(None), not_(known))
        else:
            owner = table.c.phone_number_id.in_(pnids)
    elif spec.name == "staff_sessions":
        owner = table.c.tenant_id.is_(None) if tenant_id == PLATFORM else table.c.tenant_id == tenant_id
    else:
        owner = table.c.tenant_id == tenant_id
    extra: dict[str, ColumnElement[bool]] = {
        "messages": table.c.state != "pending" if "state" in table.c else old,
        "media": table.c.status != "queued" if "status" in table.c else old,
        "outbox_bodies": table.c.state.in_(OUTBOX_FINAL) if "state" in table.c else old,
    }
    return and_(old, owner, extra.get(spec.name, old))


async def _purge_class(
    session: AsyncSession, spec: DataClass, cutoff: datetime, tenant_id: str, holds: Holds, pnids: list[str], dry: bool
) -> tuple[int, int]:
    table = Base.metadata.tables.get(spec.table)
    if table is None or spec.time_column not in table.c:
        return 0, 0
    where = _scope(spec, table, cutoff, tenant_id, pnids)
    if holds.tenant or (spec.person_column is None and spec.name == "webhook_envelopes" and holds.any):
        return 0, await _count(session, table, where)
    kept = 0
    if spec.person_column is not None and holds.customers:
        person = table.c[spec.person_column]
        kept = await _count(session, table, and_(where, person.in_(sorted(holds.customers))))
        where = and_(where, not_(person.in_(sorted(holds.customers))))
    return await _apply(session, spec, table, where, dry), kept


async def purge(
    db: Database,
    audit_log: AuditLog,
    *,
    now: datetime,
    dry_run: bool = False,
    days: Mapping[str, int] | None = None,
    tenants: list[str] | None = None,
    actor: str = "system:retention",
) -> PurgeReport:
    """One purge over every tenant (or `tenants`), one transaction per tenant."""
    periods = policy(days)
    report = PurgeReport("purge-" + secrets.token_hex(6), dry_run, now, periods)
    async with db.sessions() as session:
        known = list((await session.execute(select(Tenant.id).order_by(Tenant.id))).scalars())
    wanted = known if tenants is None else [t for t in known if t in tenants]
    if tenants is not None and (missing := sorted(set(tenants) - set(known))):
        raise RetentionError(f"unknown tenant(s): {', '.join(missing)}")
    scopes = wanted + ([PLATFORM, UNOWNED] if tenants is None else [])
    for tenant_id in scopes:
        async with db.transaction() as session:
            holds = Holds(False, frozenset()) if tenant_id in (PLATFORM, UNOWNED) else await active(session, tenant_id)
            pnids = list(
                (
                    await session.execute(select(PhoneNumber.phone_number_id).where(PhoneNumber.tenant_id == tenant_id))
                ).scalars()
            )
            entry = report.tenant(tenant_id)
            for spec in CLASSES:
                if tenant_id == PLATFORM and spec.name != "staff_sessions":
                    continue
                if tenant_id == UNOWNED and spec.name != "webhook_envelopes":
                    continue
                cutoff = now - timedelta(days=periods[spec.name])
                purged, kept = await _purge_class(session, spec, cutoff, tenant_id, holds, pnids, dry_run)
                entry.counts[spec.name], entry.held[spec.name] = purged, kept
                await audit_log.record(
                    EventType.RETENTION_PURGED,
                    tenant=tenant_id,
                    fields={
                        "run": report.run_id,
                        "data_class": spec.name,
                        "rows": purged,
                        "held": kept,
                        "dry_run": dry_run,
                    },
                    actor=actor,
                    session=session,
                )
            session.add(
                PurgeRun(
                    run_id=report.run_id,
                    tenant_id=tenant_id,
                    dry_run=dry_run,
                    started_at=now,
                    finished_at=now,
                    counts=entry.counts,
                    held=entry.held,
                    actor=actor,
                )
            )
    return report


async def last_runs(session: AsyncSession, tenant_id: str, limit: int = 20) -> list[PurgeRun]:
    query = select(PurgeRun).where(PurgeRun.tenant_id == tenant_id).order_by(PurgeRun.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


def run_json(row: PurgeRun) -> dict[str, Any]:
    return {
        "run": row.run_id,
        "dry_run": row.dry_run,
        "started_at": row.started_at.isoformat(),
        "purged": row.counts,
        "held": row.held,
        "actor": row.actor,
    }
