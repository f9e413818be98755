"""Withdrawing consent per purpose (UU PDP Art. 9, PDP-R7): the processing that rests on it stops at once.

- marketing: the recipient's marketing opt-out, which the policy gate honours (OFR-4).
- feedback_contact: feedback entries forget the number they may be contacted on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit import AuditLog, EventType
from loket.db.models import FeedbackEntry
from loket.outbound.settle import record_opt_out
from loket.privacy.model import Purpose


async def withdraw(
    session: AsyncSession,
    audit_log: AuditLog,
    *,
    dialect: str,
    tenant_id: str,
    wa_id: str,
    purpose: Purpose,
    channel: str,
    actor: str,
    now: datetime,
) -> int:
    """Apply the withdrawal; returns how many records changed. Audited as a consent change."""
    if purpose is Purpose.MARKETING:
        await record_opt_out(session, dialect, tenant_id, wa_id, now)
        changed = 1
    else:
        result = await session.execute(
            update(FeedbackEntry)
            .where(FeedbackEntry.tenant_id == tenant_id, FeedbackEntry.contact_wa_id == wa_id)
            .values(contact_wa_id=None, contact_consent=False)
        )
        changed = int(getattr(result, "rowcount", 0) or 0)
    await audit_log.record(
        EventType.CONSENT_CHANGED,
        tenant=tenant_id,
        fields={"customer": wa_id, "purpose": purpose.value, "granted": False, "channel": channel},
        actor=actor,
        session=session,
    )
    return changed
