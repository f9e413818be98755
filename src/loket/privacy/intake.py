"""Recording what a conversation turn asked for (PrivacyAsk) in the turn's own transaction.

`open`: a new request with its reference and clock; a withdrawal of consent is applied and completed
at once. `verified`: the step-up approved in the institution's app verifies the customer's requests
waiting for it; the privacy worker then builds the export or erases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit import AuditLog, installed
from loket.conversation.turn import PrivacyAsk
from loket.privacy import consent, requests
from loket.privacy.model import Channel, Purpose, Right, Status

CUSTOMER_ACTOR = "customer:whatsapp"


async def record_turn(
    session: AsyncSession,
    asks: Sequence[PrivacyAsk],
    *,
    dialect: str,
    tenant_id: str,
    wa_id: str,
    customer_id: str | None,
    language: str,
    now: datetime,
    audit_log: AuditLog | None = None,
) -> list[str]:
    """Returns the references touched. Needs the audit log: a request nobody can prove is not recorded."""
    log = audit_log or installed()
    subject = requests.Subject(tenant_id, wa_id, customer_id)
    touched: list[str] = []
    for ask in asks:
        if ask.action == "open":
            right = Right(ask.right)
            purpose = Purpose(ask.purpose) if ask.purpose else None
            row = await requests.open_request(
                session,
                log,
                subject,
                right,
                channel=Channel.WHATSAPP,
                actor=CUSTOMER_ACTOR,
                now=now,
                language=language,
                purpose=purpose,
                reference=ask.reference,
            )
            if right is Right.CONSENT_WITHDRAWAL and purpose is not None:
                changed = await consent.withdraw(
                    session,
                    log,
                    dialect=dialect,
                    tenant_id=tenant_id,
                    wa_id=wa_id,
                    purpose=purpose,
                    channel="whatsapp",
                    actor=CUSTOMER_ACTOR,
                    now=now,
                )
                await requests.advance(
                    session,
                    log,
                    row,
                    Status.COMPLETED,
                    actor="system:privacy",
                    now=now,
                    step="consent_withdrawn",
                    rows=changed,
                )
            touched.append(row.reference)
        elif ask.action == "verified":
            for row in await requests.open_for_subject(session, tenant_id, wa_id, (Status.RECEIVED, Status.VERIFYING)):
                await requests.verify(session, log, row, method="step_up", actor=CUSTOMER_ACTOR, now=now)
                touched.append(row.reference)
        else:
            raise ValueError(f"unknown privacy action {ask.action!r}")
    return touched
