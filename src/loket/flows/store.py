"""Flow sessions and feedback in the database.

Tokens are stored as their SHA-256: the table alone does not let anyone answer a Flow. A token is
live while it is open and unexpired; completing it is one conditional UPDATE, so it succeeds once
even when two requests race (on SQLite and on PostgreSQL alike).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.conversation.turn import FlowCompletion, NewFlowSession
from loket.db.models import FeedbackEntry, FlowSession, Tenant
from loket.journeys.feedback_flow import Submission
from loket.security.secretbox import SecretBox

OPEN = "open"
COMPLETED = "completed"
FEEDBACK_TABLE = "feedback_entries"
COMMENT_COLUMN = "comment"
REFERENCE_PREFIX = "KS-"
# Crockford's base32 alphabet: no I, L, O or U, so a reference read out over the phone is unambiguous.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_REFERENCE_CHARS = 10


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(_REFERENCE_CHARS))


@dataclass(frozen=True, slots=True)
class FoundFlow:
    """A Flow session and what its screens need to know; only a live one may be answered."""

    token_sha256: str
    flow: str
    tenant_id: str
    tenant_kind: str
    wa_id: str
    customer_id: str | None
    language: str
    status: str
    expires_at: datetime

    def is_live(self, now: datetime) -> bool:
        return self.status == OPEN and self.expires_at > now


async def open_flow_session(
    session: AsyncSession,
    new: NewFlowSession,
    *,
    tenant_id: str,
    wa_id: str,
    customer_id: str | None,
    language: str,
    now: datetime,
) -> None:
    session.add(
        FlowSession(
            token_sha256=token_digest(new.token),
            tenant_id=tenant_id,
            wa_id=wa_id,
            customer_id=customer_id,
            flow=new.flow,
            language=language,
            status=OPEN,
            created_at=now,
            expires_at=new.expires_at,
        )
    )
    await session.flush()


async def find_flow(session: AsyncSession, token: str) -> FoundFlow | None:
    row = (
        await session.execute(
            select(FlowSession, Tenant.kind)
            .join(Tenant, Tenant.id == FlowSession.tenant_id)
            .where(FlowSession.token_sha256 == token_digest(token))
        )
    ).first()
    if row is None:
        return None
    flow, kind = row
    return FoundFlow(
        token_sha256=flow.token_sha256,
        flow=flow.flow,
        tenant_id=flow.tenant_id,
        tenant_kind=kind,
        wa_id=flow.wa_id,
        customer_id=flow.customer_id,
        language=flow.language,
        status=flow.status,
        expires_at=flow.expires_at,
    )


async def complete_flow(session: AsyncSession, flow: FoundFlow, now: datetime, result: dict[str, Any]) -> bool:
    """Use the token up; False when another request did so first (or it expired meanwhile)."""
    done = await session.execute(
        update(FlowSession)
        .where(
            FlowSession.token_sha256 == flow.token_sha256,
            FlowSession.status == OPEN,
            FlowSession.expires_at > now,
        )
        .values(status=COMPLETED, completed_at=now, result=result)
    )
    return getattr(done, "rowcount", 0) == 1


async def completed_flow(session: AsyncSession, token: str, *, tenant_id: str, wa_id: str) -> FlowCompletion | None:
    """The recorded outcome of a Flow this customer of this tenant completed; None for any other token."""
    flow = (
        await session.execute(
            select(FlowSession).where(
                FlowSession.token_sha256 == token_digest(token),
                FlowSession.tenant_id == tenant_id,
                FlowSession.wa_id == wa_id,
                FlowSession.status == COMPLETED,
            )
        )
    ).scalar_one_or_none()
    if flow is None:
        return None
    return FlowCompletion(flow=flow.flow, result=dict(flow.result or {}))


async def store_feedback(
    session: AsyncSession, box: SecretBox, flow: FoundFlow, submission: Submission, *, reference: str, now: datetime
) -> None:
    comment = (
        box.seal(submission.comment, table=FEEDBACK_TABLE, column=COMMENT_COLUMN, row=reference)
        if submission.comment
        else None
    )
    session.add(
        FeedbackEntry(
            reference=reference,
            tenant_id=flow.tenant_id,
            customer_id=flow.customer_id,
            # The number is only kept when the customer asked to be contacted (data minimisation).
            contact_wa_id=flow.wa_id if submission.contact_ok else None,
            topic=submission.topic,
            rating=submission.rating,
            comment_enc=comment,
            contact_consent=submission.contact_ok,
            language=flow.language,
            created_at=now,
        )
    )
    await session.flush()


def open_comment(box: SecretBox, entry: FeedbackEntry) -> str | None:
    if entry.comment_enc is None:
        return None
    return box.open(entry.comment_enc, table=FEEDBACK_TABLE, column=COMMENT_COLUMN, row=entry.reference)
