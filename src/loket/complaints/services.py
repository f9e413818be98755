"""The complaints work of one process: the desk, the WhatsApp intake, and the scheduled SLA pass that
makes staff reminders before each deadline and escalations when one is breached (record + audit; the
console shows the open ones as a badge)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit import EventType
from loket.audit.log import current as audit_current
from loket.clock import Clock, system_clock
from loket.complaints.desk import ComplaintDesk
from loket.complaints.intake import ComplaintIntake
from loket.complaints.model import OPEN
from loket.complaints.sla import SlaPolicy, due_alerts, due_moment
from loket.complaints.tables import Complaint, ComplaintAlert, ComplaintEvent
from loket.compliance.calendar import HolidayCalendar
from loket.config import Settings
from loket.db.engine import Database
from loket.db.scope import SystemReason, system_scope
from loket.db.upsert import insert_ignore
from loket.security.secretbox import SecretBox

log = logging.getLogger(__name__)
BATCH = 500


def policy_from_settings(settings: Settings) -> SlaPolicy:
    return SlaPolicy(office_close=time(settings.complaint_office_close_hour, 0))


def calendar_from_settings(settings: Settings) -> HolidayCalendar:
    if settings.holiday_calendar_file:
        return HolidayCalendar.from_toml(settings.holiday_calendar_file)
    return HolidayCalendar()


async def sweep(session: AsyncSession, desk: ComplaintDesk, now: datetime, *, after_id: int = 0) -> tuple[int, int]:
    """One batch of open complaints: insert the alerts now due (once each). (alerts made, last id)."""
    rows = (
        (
            await session.execute(
                select(Complaint)
                .where(Complaint.status.in_([s.value for s in OPEN]), Complaint.id > after_id)
                .order_by(Complaint.id)
                .limit(BATCH)
            )
        )
        .scalars()
        .all()
    )
    made = 0
    for row in rows:
        reading = desk.reading(row, now)
        for alert in due_alerts(reading, now, desk.calendar, desk.policy):
            inserted = await session.execute(
                insert_ignore(desk.dialect, ComplaintAlert, "complaint_id", "key").values(
                    tenant_id=row.tenant_id,
                    complaint_id=row.id,
                    key=alert.key,
                    kind=alert.kind,
                    deadline=alert.deadline,
                    created_at=now,
                )
            )
            if not getattr(inserted, "rowcount", 0):
                continue
            made += 1
            if alert.kind == "breach" and row.breached_at is None:
                row.breached_at = now
            session.add(
                ComplaintEvent(
                    tenant_id=row.tenant_id,
                    complaint_id=row.id,
                    kind=alert.kind,
                    actor=None,
                    detail={"deadline": alert.deadline.isoformat(), "key": alert.key},
                    at=now,
                )
            )
            audit = audit_current()
            if audit is not None:
                await audit.record(
                    EventType.COMPLAINT_MILESTONE,
                    tenant=row.tenant_id,
                    fields={
                        "complaint": row.reference,
                        "milestone": alert.kind,
                        "due_at": due_moment(alert.deadline, desk.policy),
                    },
                    at=now,
                    session=session,
                )
    return made, rows[-1].id if rows else 0


async def open_alerts(session: AsyncSession, tenant_id: str) -> int:
    """The console badge: reminders and escalations nobody has acknowledged yet."""
    query = (
        select(func.count())
        .select_from(ComplaintAlert)
        .where(ComplaintAlert.tenant_id == tenant_id, ComplaintAlert.acknowledged_at.is_(None))
    )
    return int((await session.execute(query)).scalar_one())


@dataclass
class ComplaintServices:
    db: Database
    desk: ComplaintDesk
    clock: Clock = system_clock
    interval_seconds: float = 60.0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    @classmethod
    def build(
        cls, settings: Settings, *, db: Database, box: SecretBox, clock: Clock = system_clock
    ) -> ComplaintServices:
        desk = ComplaintDesk(
            dialect=db.dialect,
            box=box,
            calendar=calendar_from_settings(settings),
            policy=policy_from_settings(settings),
        )
        return cls(db=db, desk=desk, clock=clock, interval_seconds=settings.complaint_sweep_seconds)

    @property
    def intake(self) -> ComplaintIntake:
        return ComplaintIntake(self.desk)

    async def run_once(self) -> int:
        now, made, after = self.clock.now(), 0, 0
        with system_scope(SystemReason.SCHEDULER):
            while True:
                async with self.db.transaction() as session:
                    count, after = await sweep(session, self.desk, now, after_id=after)
                made += count
                if not after:
                    break
        if made:
            log.info("complaint alerts made", extra={"count": made})
        return made

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("complaint SLA pass failed; retrying")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.interval_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name="complaint-sla")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
