"""Recording data-subject requests and moving them through their states, every step audited.

Callers pass their own session: a request opened from WhatsApp is written in the same transaction
as the reply that gives its reference; a staff step commits with the staff member's action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit import AuditLog, EventType
from loket.privacy.model import (
    OPEN,
    Channel,
    Purpose,
    Right,
    Status,
    TransitionError,
    check_reason,
    check_transition,
    due_at,
    first_status,
    new_reference,
    valid_reference,
)
from loket.privacy.tables import PrivacyRequest

MAX_EVIDENCE = 200
ERASED_STEP = "erased"  # the only way an erasure request completes (loket.privacy.erasure)


class RequestNotFound(LookupError):
    """No request with that reference in this tenant."""


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a request is about: the WhatsApp number and, when known, the institution's customer id."""

    tenant_id: str
    wa_id: str
    customer_id: str | None = None


def subject_hash(audit_log: AuditLog, tenant_id: str, wa_id: str) -> str:
    """The same keyed hash the audit log uses for this person, so their entries can be found by it."""
    return audit_log.pseudonymizer.pseudonym(tenant_id, wa_id)


async def _step(
    session: AsyncSession,
    audit_log: AuditLog,
    row: PrivacyRequest,
    step: str,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    sha256: str | None = None,
    rows: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    fields: dict[str, object] = {"request": row.reference, "step": step, "status": row.status, "by": actor}
    if reason is not None:
        fields["reason"] = reason
    if sha256 is not None:
        fields["sha256"] = sha256
    if rows is not None:
        fields["rows"] = rows
    receipt = await audit_log.record(
        EventType.DSR_STEP, tenant=row.tenant_id, fields=fields, actor=actor, session=session
    )
    entry: dict[str, Any] = {"at": now.isoformat(), "step": step, "status": row.status, "by": actor}
    entry["audit_index"] = receipt.index
    entry.update({k: v for k, v in (("reason", reason), ("sha256", sha256), ("rows", rows)) if v is not None})
    if detail:
        entry["detail"] = detail
    row.evidence = [*(row.evidence or [])[-(MAX_EVIDENCE - 1) :], entry]
    row.updated_at = now


async def open_request(
    session: AsyncSession,
    audit_log: AuditLog,
    subject: Subject,
    right: Right,
    *,
    channel: Channel,
    actor: str,
    now: datetime,
    language: str = "id",
    purpose: Purpose | None = None,
    reference: str | None = None,
    verification: str | None = None,
) -> PrivacyRequest:
    """Record a request with its clock started at `now` (PDP-R9); `verification` when the identity is
    already established (a staff check at a branch, say), so it starts in progress."""
    if right is Right.CONSENT_WITHDRAWAL and purpose is None:
        raise TransitionError("a consent withdrawal names the purpose it withdraws")
    if reference is not None and not valid_reference(reference):
        raise TransitionError(f"malformed request reference {reference!r}")
    status = first_status(right, verified=verification is not None)
    row = PrivacyRequest(
        reference=reference or new_reference(),
        tenant_id=subject.tenant_id,
        wa_id=subject.wa_id,
        subject_hash=subject_hash(audit_log, subject.tenant_id, subject.wa_id),
        customer_id=subject.customer_id,
        right=right.value,
        purpose=purpose.value if purpose else None,
        channel=channel.value,
        status=status.value,
        received_at=now,
        due_at=due_at(now),
        verified_at=now if verification else None,
        verification=verification,
        created_by=actor,
        language=language,
        evidence=[],
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await audit_log.record(
        EventType.DSR_RECEIVED,
        tenant=subject.tenant_id,
        fields={"request": row.reference, "right": right.value, "customer": subject.wa_id, "due_at": row.due_at},
        actor=actor,
        session=session,
    )
    await _step(session, audit_log, row, "received", actor=actor, now=now, detail={"channel": channel.value})
    return row


async def verify(
    session: AsyncSession, audit_log: AuditLog, row: PrivacyRequest, *, method: str, actor: str, now: datetime
) -> None:
    """The person's identity is established (`step_up` in the app, or `staff_checked`)."""
    current = Status(row.status)
    if current not in (Status.RECEIVED, Status.VERIFYING):
        raise TransitionError(f"request {row.reference} is {current.value}: nothing to verify")
    row.verified_at, row.verification = now, method
    row.status = Status.IN_PROGRESS.value
    await _step(session, audit_log, row, "verified", actor=actor, now=now, reason=method)


async def advance(
    session: AsyncSession,
    audit_log: AuditLog,
    row: PrivacyRequest,
    target: Status,
    *,
    actor: str,
    now: datetime,
    step: str | None = None,
    reason: str | None = None,
    sha256: str | None = None,
    rows: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Move to `target` (checked by the state machine); completing or rejecting closes the clock."""
    check_transition(Status(row.status), target, right=Right(row.right), verified=row.verified_at is not None)
    if target is Status.COMPLETED and Right(row.right) is Right.ERASURE and step != ERASED_STEP:
        raise TransitionError("an erasure is completed by carrying it out (erase), not by marking it done")
    if target is Status.REJECTED:
        check_reason(reason or "")
        row.rejection_reason = reason
    row.status = target.value
    if target in (Status.COMPLETED, Status.REJECTED):
        row.completed_at = now
    await _step(
        session,
        audit_log,
        row,
        step or target.value,
        actor=actor,
        now=now,
        reason=reason,
        sha256=sha256,
        rows=rows,
        detail=detail,
    )
    if target in (Status.COMPLETED, Status.REJECTED):
        outcome = target.value if target is Status.COMPLETED else f"rejected:{reason}"
        await audit_log.record(
            EventType.DSR_COMPLETED,
            tenant=row.tenant_id,
            fields={"request": row.reference, "outcome": outcome, "by": actor},
            actor=actor,
            session=session,
        )


async def note(
    session: AsyncSession,
    audit_log: AuditLog,
    row: PrivacyRequest,
    step: str,
    *,
    actor: str,
    now: datetime,
    sha256: str | None = None,
    rows: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Evidence without a status change (an export built, a document queued)."""
    await _step(session, audit_log, row, step, actor=actor, now=now, sha256=sha256, rows=rows, detail=detail)


async def get(session: AsyncSession, tenant_id: str, reference: str, *, lock: bool = False) -> PrivacyRequest:
    query = select(PrivacyRequest).where(PrivacyRequest.tenant_id == tenant_id, PrivacyRequest.reference == reference)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise RequestNotFound(f"no data-subject request {reference} in tenant {tenant_id}")
    return row


async def find(
    session: AsyncSession,
    tenant_id: str | None = None,
    *,
    statuses: Sequence[Status] = (),
    rights: Sequence[Right] = (),
    overdue_at: datetime | None = None,
    limit: int = 200,
) -> list[PrivacyRequest]:
    """Requests, oldest deadline first; `overdue_at`: only open ones whose clock ran out by then."""
    query = select(PrivacyRequest)
    if tenant_id is not None:
        query = query.where(PrivacyRequest.tenant_id == tenant_id)
    if statuses:
        query = query.where(PrivacyRequest.status.in_([s.value for s in statuses]))
    if rights:
        query = query.where(PrivacyRequest.right.in_([r.value for r in rights]))
    if overdue_at is not None:
        query = query.where(PrivacyRequest.status.in_([s.value for s in OPEN]), PrivacyRequest.due_at <= overdue_at)
    query = query.order_by(PrivacyRequest.due_at, PrivacyRequest.id).limit(limit)
    return list((await session.execute(query)).scalars())


async def open_for_subject(
    session: AsyncSession, tenant_id: str, wa_id: str, statuses: Sequence[Status]
) -> list[PrivacyRequest]:
    query = (
        select(PrivacyRequest)
        .where(
            PrivacyRequest.tenant_id == tenant_id,
            PrivacyRequest.wa_id == wa_id,
            PrivacyRequest.status.in_([s.value for s in statuses]),
        )
        .order_by(PrivacyRequest.id)
    )
    return list((await session.execute(query)).scalars())


def request_json(row: PrivacyRequest, now: datetime) -> dict[str, Any]:
    """What staff see: no WhatsApp number (they reveal it through the audited PII reveal)."""
    return {
        "reference": row.reference,
        "tenant_id": row.tenant_id,
        "right": row.right,
        "purpose": row.purpose,
        "channel": row.channel,
        "status": row.status,
        "customer_id": row.customer_id,
        "subject": row.subject_hash,
        "received_at": row.received_at.isoformat(),
        "due_at": row.due_at.isoformat(),
        "overdue": Status(row.status) in OPEN and now >= row.due_at,
        "overdue_flagged_at": row.overdue_at.isoformat() if row.overdue_at else None,
        "verified_at": row.verified_at.isoformat() if row.verified_at else None,
        "verification": row.verification,
        "completed_at": row.completed_at.isoformat() if row.completed_at else None,
        "rejection_reason": row.rejection_reason,
        "created_by": row.created_by,
        "evidence": list(row.evidence or []),
    }
