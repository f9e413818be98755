"""Read models of the complaints: the list with its SLA clocks, and the report of a period."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.complaints.desk import ComplaintDesk
from loket.complaints.report import ComplaintReport
from loket.complaints.sla import urgency
from loket.complaints.tables import Complaint
from loket.db.models import Tenant


async def listing_rows(
    session: AsyncSession, desk: ComplaintDesk, tenant_id: str, now: datetime, *, limit: int = 200
) -> list[dict[str, object]]:
    rows = await desk.listing(session, tenant_id, limit=limit)
    out: list[dict[str, object]] = []
    for row in rows:
        reading = desk.reading(row, now)
        out.append(
            {
                "reference": row.reference,
                "status": row.status,
                "kind": row.kind,
                "channel": row.channel,
                "form": row.form,
                "product": row.product,
                "cause": row.cause,
                "received_at": row.received_at.isoformat(),
                "due_date": reading.deadline.isoformat() if reading.deadline and row.closed_at is None else None,
                "documents_due": reading.documents_due.isoformat() if reading.documents_due else None,
                "remaining": reading.remaining if row.closed_at is None else None,
                "urgency": urgency(reading, desk.policy).value if row.closed_at is None else "closed",
                "appk_ticket_id": row.appk_ticket_id,
            }
        )
    return out


async def build_report(
    session: AsyncSession, desk: ComplaintDesk, tenant_id: str, first: date, last: date, now: datetime
) -> ComplaintReport:
    zone = desk.policy.zone
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    rows = (
        (
            await session.execute(
                select(Complaint).where(
                    Complaint.tenant_id == tenant_id, Complaint.received_at >= start, Complaint.received_at < end
                )
            )
        )
        .scalars()
        .all()
    )
    tenant = await session.get(Tenant, tenant_id)
    institution = tenant.legal_name if tenant is not None else tenant_id
    return ComplaintReport.build(tenant_id, institution, first, last, rows, now, desk.policy)
