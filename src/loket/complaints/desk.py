"""The complaint desk: register, read and change complaints inside the caller's transaction.

Every change appends to the history (`complaint_events`), re-reads the SLA clock, records an audit
milestone, and queues the customer's notification in the outbox (same transaction) when the
complaint came with a WhatsApp number. Personal text is sealed with the SecretBox, bound to the
tenant and reference.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit import EventType
from loket.audit.log import current as audit_current
from loket.audit.log import installed as audit_installed
from loket.complaints import notices
from loket.complaints.model import (
    CAUSES,
    FINAL,
    OPEN,
    PRODUCTS,
    Channel,
    Document,
    Kind,
    Status,
    TransitionError,
    check_transition,
    format_reference,
)
from loket.complaints.records import MAX_TEXT, ComplaintError, ComplaintView, NewComplaint, NotFound, problems_of
from loket.complaints.sla import ClockState, Reading, SlaError, SlaPolicy, extend, new_clock, pause, read, resume
from loket.complaints.tables import Complaint, ComplaintEvent, ComplaintSequence
from loket.compliance.calendar import HolidayCalendar
from loket.db.models import PhoneNumber
from loket.db.upsert import insert_ignore
from loket.outbound.outbox import enqueue
from loket.outbound.policy_rules import Purpose
from loket.security.secretbox import SecretBox

__all__ = ["ComplaintDesk", "ComplaintError", "ComplaintView", "NewComplaint", "NotFound", "problems_of"]
log = logging.getLogger(__name__)
TABLE = "complaints"
POWER_OF_ATTORNEY = "power_of_attorney"


class ComplaintDesk:
    def __init__(
        self,
        *,
        dialect: str,
        box: SecretBox,
        calendar: HolidayCalendar | None = None,
        policy: SlaPolicy | None = None,
    ) -> None:
        self.dialect = dialect
        self.box = box
        self.calendar = calendar or HolidayCalendar()
        self.policy = policy or SlaPolicy()

    # sealing

    def _seal(self, row: Complaint | tuple[str, str], column: str, text: str | None) -> bytes | None:
        if text is None:
            return None
        tenant, reference = (row.tenant_id, row.reference) if isinstance(row, Complaint) else row
        return self.box.seal(text, table=TABLE, column=column, row=f"{tenant}:{reference}")

    def open_text(self, row: Complaint, column: str) -> str | None:
        blob = getattr(row, column)
        if blob is None:
            return None
        return self.box.open(blob, table=TABLE, column=column, row=f"{row.tenant_id}:{row.reference}")

    # reading

    def clock_of(self, row: Complaint) -> ClockState:
        return ClockState.from_json(row.clock)

    def reading(self, row: Complaint, now: datetime) -> Reading:
        return read(self.clock_of(row), now, self.calendar, self.policy)

    async def find(self, session: AsyncSession, tenant_id: str, reference: str) -> Complaint | None:
        query = select(Complaint).where(Complaint.tenant_id == tenant_id, Complaint.reference == reference.upper())
        return (await session.execute(query)).scalar_one_or_none()

    async def get(self, session: AsyncSession, tenant_id: str, reference: str) -> Complaint:
        row = await self.find(session, tenant_id, reference)
        if row is None:
            raise NotFound(f"no complaint {reference} for this tenant")
        return row

    async def view(self, session: AsyncSession, row: Complaint, now: datetime) -> ComplaintView:
        history = (
            (
                await session.execute(
                    select(ComplaintEvent).where(ComplaintEvent.complaint_id == row.id).order_by(ComplaintEvent.id)
                )
            )
            .scalars()
            .all()
        )
        return ComplaintView(
            row=row,
            reading=self.reading(row, now),
            summary=self.open_text(row, "summary_enc"),
            contact=self.open_text(row, "contact_enc"),
            representative=self.open_text(row, "representative_enc"),
            final_answer=self.open_text(row, "final_answer_enc"),
            history=tuple(history),
        )

    async def listing(
        self, session: AsyncSession, tenant_id: str, *, statuses: Sequence[Status] | None = None, limit: int = 200
    ) -> list[Complaint]:
        query = select(Complaint).where(Complaint.tenant_id == tenant_id)
        if statuses:
            query = query.where(Complaint.status.in_([s.value for s in statuses]))
        # open ones by deadline first (paused ones after them), then the newest closed ones
        query = query.order_by(
            Complaint.closed_at.is_not(None), Complaint.due_date.is_(None), Complaint.due_date, Complaint.id.desc()
        ).limit(limit)
        return list((await session.execute(query)).scalars().all())

    # registering

    async def _next_reference(self, session: AsyncSession, tenant_id: str, received_at: datetime) -> str:
        year = received_at.astimezone(self.policy.zone).year
        await session.execute(
            insert_ignore(self.dialect, ComplaintSequence, "tenant_id", "year").values(
                tenant_id=tenant_id, year=year, last=0
            )
        )
        number = (
            await session.execute(
                update(ComplaintSequence)
                .where(ComplaintSequence.tenant_id == tenant_id, ComplaintSequence.year == year)
                .values(last=ComplaintSequence.last + 1)
                .returning(ComplaintSequence.last)
            )
        ).scalar_one()
        return format_reference(year, int(number))

    async def _existing(self, session: AsyncSession, new: NewComplaint) -> Complaint | None:
        for column, value in ((Complaint.source_key, new.source_key), (Complaint.appk_ticket_id, new.appk_ticket_id)):
            if value:
                query = select(Complaint).where(Complaint.tenant_id == new.tenant_id, column == value)
                found = (await session.execute(query)).scalar_one_or_none()
                if found is not None:
                    return found
        return None

    async def register(
        self, session: AsyncSession, new: NewComplaint, *, actor: str | None = None, now: datetime | None = None
    ) -> tuple[Complaint, bool]:
        """The complaint and whether it is new (a repeated source key or APPK ticket gives the first one)."""
        problems = problems_of(new)
        if problems:
            raise ComplaintError(problems)
        existing = await self._existing(session, new)
        if existing is not None:
            return existing, False
        now = now or new.received_at
        documents = list(new.documents)
        if new.representative and not new.power_of_attorney and POWER_OF_ATTORNEY not in {d.name for d in documents}:
            documents.append(Document(POWER_OF_ATTORNEY))  # CMP-5: a representative needs a surat kuasa khusus
        complete = all(d.received for d in documents)
        clock = new_clock(new.form, new.received_at, documents_complete=complete)
        phone_number_id = new.phone_number_id
        if new.wa_id and phone_number_id is None:
            phone_number_id = await self._business_number(session, new.tenant_id)
        reference = await self._next_reference(session, new.tenant_id, new.received_at)
        key = (new.tenant_id, reference)
        status = Status.RECEIVED if not clock.paused else Status.AWAITING_DOCUMENTS
        row = Complaint(
            tenant_id=new.tenant_id,
            reference=reference,
            kind=new.kind.value,
            product=new.product,
            cause=new.cause,
            channel=new.channel.value,
            form=new.form.value,
            status=status.value,
            amount=new.amount,
            incident_date=new.incident_date,
            language=new.language,
            zone=new.zone,
            customer_id=new.customer_id,
            wa_id=new.wa_id,
            phone_number_id=phone_number_id,
            contact_enc=self._seal(key, "contact_enc", new.contact),
            summary_enc=self._seal(key, "summary_enc", new.summary),
            representative_enc=self._seal(key, "representative_enc", new.representative),
            power_of_attorney=new.power_of_attorney,
            documents=[{"name": d.name, "received": d.received} for d in documents],
            documents_complete=complete,
            clock=clock.to_json(),
            appk_ticket_id=new.appk_ticket_id,
            source_key=new.source_key,
            created_by=actor,
            received_at=new.received_at,
            updated_at=now,
        )
        self._refresh_due(row, clock, now)
        session.add(row)
        await session.flush()
        await self._history(session, row, "registered", None, status, actor, now, channel=new.channel.value)
        await self._audit(session, row, "registered", actor, now)
        if new.channel is not Channel.WHATSAPP:  # on WhatsApp the journey answers at once
            await self._notify(session, row, "registered", self.reading(row, now), now)
        log.info("complaint registered", extra={"complaint_id": row.id, "channel": row.channel})
        return row, True

    async def _business_number(self, session: AsyncSession, tenant_id: str) -> str | None:
        """The number to tell a customer from when the complaint did not come over WhatsApp."""
        first = await session.execute(
            select(PhoneNumber.phone_number_id)
            .where(PhoneNumber.tenant_id == tenant_id, PhoneNumber.status == "active")
            .order_by(PhoneNumber.created_at)
            .limit(1)
        )
        number = first.scalar_one_or_none()
        return None if number is None else str(number)

    # changes

    def _refresh_due(self, row: Complaint, clock: ClockState, now: datetime) -> Reading:
        row.clock = clock.to_json()
        reading = read(clock, now, self.calendar, self.policy)
        row.due_date = reading.deadline
        return reading

    async def _history(
        self,
        session: AsyncSession,
        row: Complaint,
        kind: str,
        before: Status | None,
        after: Status | None,
        actor: str | None,
        now: datetime,
        **detail: Any,
    ) -> None:
        session.add(
            ComplaintEvent(
                tenant_id=row.tenant_id,
                complaint_id=row.id,
                kind=kind,
                from_status=before.value if before else None,
                to_status=after.value if after else None,
                actor=actor,
                detail=detail,
                at=now,
            )
        )

    async def _audit(
        self, session: AsyncSession, row: Complaint, milestone: str, actor: str | None, now: datetime
    ) -> None:
        audit = audit_installed() if actor is not None else audit_current()
        if audit is None:
            return
        fields: dict[str, object] = {"complaint": row.reference, "milestone": milestone}
        if row.due_date is not None:
            fields["due_at"] = notices.due_moment(row.due_date, self.policy)
        if actor is not None:
            fields["by"] = actor
        await audit.record(
            EventType.COMPLAINT_MILESTONE, tenant=row.tenant_id, fields=fields, actor=actor, at=now, session=session
        )

    async def _change(
        self,
        session: AsyncSession,
        row: Complaint,
        target: Status,
        kind: str,
        actor: str,
        now: datetime,
        clock: ClockState | None = None,
        **detail: Any,
    ) -> None:
        before = Status(row.status)
        if target != before:
            check_transition(before, target)
        row.status = target.value
        row.updated_at = now
        reading = self._refresh_due(row, clock or self.clock_of(row), now)
        if target in FINAL:
            row.closed_at = now
        await self._history(session, row, kind, before, target, actor, now, **detail)
        await self._audit(session, row, kind, actor, now)
        await self._notify(session, row, kind, reading, now)

    async def _notify(self, session: AsyncSession, row: Complaint, kind: str, reading: Reading, now: datetime) -> None:
        if row.wa_id is None or row.phone_number_id is None:
            return
        message = notices.status_notice(
            row, kind, reading, self.policy, final_answer=self.open_text(row, "final_answer_enc")
        )
        if message is None:
            return
        await enqueue(
            session,
            dialect=self.dialect,
            tenant_id=row.tenant_id,
            phone_number_id=row.phone_number_id,
            to_wa_id=row.wa_id,
            payload=dict(message.to_payload()),
            purpose=Purpose.SERVICE,
            idempotency_key=f"complaint:{row.id}:{kind}:{now.isoformat()}",
            now=now,
            # outside the 24-hour window: the approved generic update template, pointing to the status
            fallback=dict(notices.update_template(row).to_payload()),
        )

    async def reclassify(
        self, session: AsyncSession, row: Complaint, *, kind: Kind, product: str, cause: str, actor: str, now: datetime
    ) -> None:
        """Correct kind, product or cause (the bot guesses the kind from the amount); the clock is unchanged."""
        if Status(row.status) not in OPEN:
            raise TransitionError(f"the complaint is already {row.status}")
        problems = [f"product: one of {', '.join(PRODUCTS)}"] if product not in PRODUCTS else []
        problems += [f"cause: one of {', '.join(CAUSES)}"] if cause not in CAUSES else []
        if problems:
            raise ComplaintError(problems)
        previous = {"kind": row.kind, "product": row.product, "cause": row.cause}
        row.kind, row.product, row.cause, row.updated_at = kind.value, product, cause, now
        await self._history(session, row, "reclassified", None, None, actor, now, previous=previous)
        await self._audit(session, row, "reclassified", actor, now)

    async def start_work(self, session: AsyncSession, row: Complaint, *, actor: str, now: datetime) -> None:
        row.assigned_to = actor
        await self._change(session, row, Status.IN_PROGRESS, "in_progress", actor, now)

    async def request_documents(
        self, session: AsyncSession, row: Complaint, names: Sequence[str], *, actor: str, now: datetime
    ) -> None:
        wanted = [n.strip() for n in names if n.strip()]
        if not wanted:
            raise ComplaintError(["documents: name at least one document"])
        if any(len(n) > 80 for n in wanted):
            raise ComplaintError(["documents: a document name has at most 80 characters"])
        if Status(row.status) not in OPEN or Status(row.status) is Status.AWAITING_DOCUMENTS:
            raise TransitionError(f"documents cannot be requested while the complaint is {row.status}")
        try:
            clock = pause(self.clock_of(row), now)
        except SlaError as exc:
            raise TransitionError(str(exc)) from exc
        known = {d["name"] for d in row.documents}
        row.documents = [*row.documents, *({"name": n, "received": False} for n in wanted if n not in known)]
        row.documents_complete = False
        await self._change(
            session, row, Status.AWAITING_DOCUMENTS, "documents_requested", actor, now, clock, documents=wanted
        )

    async def documents_received(self, session: AsyncSession, row: Complaint, *, actor: str, now: datetime) -> None:
        if Status(row.status) is not Status.AWAITING_DOCUMENTS:
            raise TransitionError("the complaint is not waiting for documents")
        clock = resume(self.clock_of(row), now)
        row.documents = [{**d, "received": True} for d in row.documents]
        row.documents_complete = True
        await self._change(session, row, Status.IN_PROGRESS, "documents_completed", actor, now, clock)

    async def send_extension_notice(self, session: AsyncSession, row: Complaint, *, actor: str, now: datetime) -> None:
        """Tell the customer the answer needs more time (the notice must precede the first deadline)."""
        if Status(row.status) not in OPEN:
            raise TransitionError(f"the complaint is already {row.status}")
        await self._history(session, row, "extension_notice", None, None, actor, now)
        await self._audit(session, row, "extension_notice", actor, now)
        await self._notify(session, row, "extension_notice", self.reading(row, now), now)

    async def last_extension_notice(self, session: AsyncSession, row: Complaint) -> datetime | None:
        query = select(func.min(ComplaintEvent.at)).where(
            ComplaintEvent.complaint_id == row.id, ComplaintEvent.kind == "extension_notice"
        )
        return (await session.execute(query)).scalar_one_or_none()

    async def record_extension(
        self,
        session: AsyncSession,
        row: Complaint,
        days: int,
        *,
        actor: str,
        now: datetime,
        notified_at: datetime | None = None,
    ) -> None:
        """Extend once; `notified_at` is when the customer was told (a letter), else Loket's own notice."""
        if Status(row.status) not in OPEN:
            raise TransitionError(f"the complaint is already {row.status}")
        notified = notified_at or await self.last_extension_notice(session, row)
        if notified is not None and notified > now:
            raise ComplaintError(["notified_at: cannot be in the future"])
        try:
            clock = extend(self.clock_of(row), days, notified, self.calendar, self.policy)
        except SlaError as exc:
            raise TransitionError(f"extension not allowed: {exc}") from exc
        await self._change(session, row, Status(row.status), "extended", actor, now, clock, days=days)

    async def close(
        self, session: AsyncSession, row: Complaint, outcome: Status, answer: str, *, actor: str, now: datetime
    ) -> None:
        if outcome not in FINAL:
            raise ComplaintError([f"outcome: one of {', '.join(sorted(s.value for s in FINAL))}"])
        if not answer.strip() or len(answer) > MAX_TEXT:
            raise ComplaintError([f"answer: the final answer to the customer, 1..{MAX_TEXT} characters"])
        check_transition(Status(row.status), outcome)
        row.final_answer_enc = self._seal(row, "final_answer_enc", answer.strip())
        await self._change(session, row, outcome, outcome.value, actor, now)
