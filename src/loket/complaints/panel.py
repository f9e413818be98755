"""The complaints adapter of the console's customer panel (loket.console.complaints_port)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from loket.complaints.desk import ComplaintDesk
from loket.complaints.model import OPEN
from loket.complaints.tables import Complaint
from loket.console.complaints_port import ComplaintSummary
from loket.db.engine import Database


class DeskComplaints:
    known = True

    def __init__(self, db: Database, desk: ComplaintDesk) -> None:
        self.db = db
        self.desk = desk

    @classmethod
    def from_runtime(cls, runtime: Any) -> DeskComplaints:
        return cls(runtime.db, runtime.complaints.desk)

    async def open_for(self, tenant_id: str, wa_id: str, customer_id: str | None) -> list[ComplaintSummary]:
        who = [Complaint.wa_id == wa_id]
        if customer_id is not None:
            who.append(Complaint.customer_id == customer_id)
        async with self.db.tenant_session(tenant_id) as session:
            rows = (
                await session.execute(
                    select(Complaint)
                    .where(
                        Complaint.tenant_id == tenant_id,
                        Complaint.status.in_([s.value for s in OPEN]),
                        or_(*who),
                    )
                    .order_by(Complaint.due_date)
                )
            ).scalars()
            return [ComplaintSummary(r.reference, r.status, r.product, r.due_date) for r in rows]
