"""Legal holds: set and lifted by a compliance officer (`dsr.manage`), audited, and honoured by
erasure and by the retention purge (UU PDP Art. 8 and 43-44 yield to other laws: PDP-R4, PDP-13)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit import AuditLog, EventType
from loket.privacy.tables import LegalHold

_REASON = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,47}")


class HoldError(ValueError):
    """A hold that cannot be set or lifted as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Holds:
    """The active holds of one tenant: the whole tenant, or these customers."""

    tenant: bool
    customers: frozenset[str]

    def covers(self, wa_id: str | None) -> bool:
        return self.tenant or (wa_id is not None and wa_id in self.customers)

    @property
    def any(self) -> bool:
        return self.tenant or bool(self.customers)


async def active(session: AsyncSession, tenant_id: str) -> Holds:
    rows = (
        await session.execute(
            select(LegalHold.wa_id).where(LegalHold.tenant_id == tenant_id, LegalHold.lifted_at.is_(None))
        )
    ).scalars()
    values = list(rows)
    return Holds(any(value is None for value in values), frozenset(v for v in values if v is not None))


async def held(session: AsyncSession, tenant_id: str, wa_id: str) -> bool:
    found = await session.execute(
        select(LegalHold.id)
        .where(
            LegalHold.tenant_id == tenant_id,
            LegalHold.lifted_at.is_(None),
            or_(LegalHold.wa_id.is_(None), LegalHold.wa_id == wa_id),
        )
        .limit(1)
    )
    return found.scalar_one_or_none() is not None


async def set_hold(
    session: AsyncSession,
    audit_log: AuditLog,
    *,
    tenant_id: str,
    wa_id: str | None,
    reason: str,
    case_ref: str | None,
    actor: str,
    now: datetime,
) -> LegalHold:
    if not _REASON.fullmatch(reason):
        raise HoldError("the reason is a short code such as 'litigation' or 'ojk_examination'")
    if case_ref is not None and not (0 < len(case_ref) <= 100 and case_ref.isprintable()):
        raise HoldError("the case reference is 1..100 printable characters")
    row = LegalHold(
        tenant_id=tenant_id,
        wa_id=wa_id,
        subject_hash=audit_log.pseudonymizer.pseudonym(tenant_id, wa_id) if wa_id else None,
        reason=reason,
        case_ref=case_ref,
        set_by=actor,
        set_at=now,
    )
    session.add(row)
    await session.flush()
    await _audit(session, audit_log, row, "set", actor)
    return row


async def lift_hold(
    session: AsyncSession, audit_log: AuditLog, *, tenant_id: str, hold_id: int, actor: str, now: datetime
) -> LegalHold:
    row = (
        await session.execute(select(LegalHold).where(LegalHold.tenant_id == tenant_id, LegalHold.id == hold_id))
    ).scalar_one_or_none()
    if row is None:
        raise HoldError(f"no legal hold {hold_id} in tenant {tenant_id}")
    if row.lifted_at is not None:
        raise HoldError(f"legal hold {hold_id} was already lifted")
    row.lifted_at, row.lifted_by = now, actor
    await _audit(session, audit_log, row, "lifted", actor)
    return row


async def _audit(session: AsyncSession, audit_log: AuditLog, row: LegalHold, action: str, actor: str) -> None:
    fields: dict[str, object] = {
        "hold": f"hold:{row.id}",
        "action": action,
        "scope": "tenant" if row.wa_id is None else "customer",
        "reason": row.reason,
        "by": actor,
    }
    if row.wa_id is not None:
        fields["customer"] = row.wa_id
    await audit_log.record(
        EventType.LEGAL_HOLD_CHANGED, tenant=row.tenant_id, fields=fields, actor=actor, session=session
    )


async def list_holds(session: AsyncSession, tenant_id: str, *, include_lifted: bool = False) -> list[LegalHold]:
    query = select(LegalHold).where(LegalHold.tenant_id == tenant_id)
    if not include_lifted:
        query = query.where(LegalHold.lifted_at.is_(None))
    return list((await session.execute(query.order_by(LegalHold.id))).scalars())


def hold_json(row: LegalHold) -> dict[str, Any]:
    return {
        "id": row.id,
        "scope": "tenant" if row.wa_id is None else "customer",
        "subject": row.subject_hash,
        "reason": row.reason,
        "case_ref": row.case_ref,
        "set_by": row.set_by,
        "set_at": row.set_at.isoformat(),
        "lifted_by": row.lifted_by,
        "lifted_at": row.lifted_at.isoformat() if row.lifted_at else None,
    }
