"""Personal data in the console: masked by default, revealed one field at a time with a reason.

A reveal needs `customers.pii.reveal`, a category from a fixed list and a free-text reason, and is
written to the audit log (`pii.revealed`: the staff member, the customer and the reason as keyed
hashes, the field and the category in clear) in the same transaction, before the value is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from loket import audit
from loket.audit import EventType

REASON_CATEGORIES = (
    "customer_request",
    "identity_check",
    "complaint_handling",
    "fraud_investigation",
    "legal_request",
    "other",
)
REASON_MIN = 5
REASON_MAX = 500
_FIELD = re.compile(r"(name|phone|email|account:[A-Za-z0-9_.-]{1,64}|policy:[A-Za-z0-9_.-]{1,64})")


class RevealRefused(ValueError):
    """The request to reveal is incomplete; `code` names what is missing (a catalog key suffix)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def mask_name(name: str) -> str:
    """ "Budi Santoso" -> "B*** S******": enough to greet, not enough to identify."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split() if word)


def mask_phone(wa_id: str) -> str:
    """ "6281234567890" -> "+62 812-****-7890"."""
    digits = "".join(char for char in wa_id if char.isdigit())
    if len(digits) < 9:
        return "****"
    if digits.startswith("62"):
        return f"+62 {digits[2:5]}-****-{digits[-4:]}"
    return f"+{digits[:2]} {digits[2:5]}-****-{digits[-4:]}"


def format_phone(wa_id: str) -> str:
    digits = "".join(char for char in wa_id if char.isdigit())
    if digits.startswith("62") and len(digits) >= 9:
        rest = digits[5:]
        return f"+62 {digits[2:5]}-{rest[:-4]}-{rest[-4:]}"
    return f"+{digits}"


def mask_number(number: str) -> str:
    """Account, policy and card numbers: the last four only."""
    digits = [char for char in number if char.isalnum()]
    return "**** " + "".join(digits[-4:]) if len(digits) > 4 else "****"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


@dataclass(frozen=True, slots=True)
class RevealRequest:
    field: str
    category: str
    reason: str

    @classmethod
    def parse(cls, field: str, category: str, reason: str) -> RevealRequest:
        reason = " ".join(reason.split())
        if not _FIELD.fullmatch(field):
            raise RevealRefused("field")
        if category not in REASON_CATEGORIES:
            raise RevealRefused("category")
        if len(reason) < REASON_MIN:
            raise RevealRefused("reason")
        if len(reason) > REASON_MAX:
            raise RevealRefused("reason_long")
        return cls(field, category, reason)

    @property
    def field_kind(self) -> str:
        return self.field.split(":", 1)[0]


async def record_reveal(
    session: AsyncSession,
    *,
    tenant_id: str,
    staff_id: str,
    wa_id: str,
    conversation_id: int,
    request: RevealRequest,
    at: datetime,
) -> None:
    """The audit entry, in the caller's transaction: the value is shown only once it commits."""
    await audit.record(
        EventType.PII_REVEALED,
        tenant=tenant_id,
        actor=f"staff:{staff_id}",
        at=at,
        fields={
            "staff": f"staff:{staff_id}",
            "customer": wa_id,
            "field": request.field_kind,
            "reason": request.category,
            "note": request.reason,
            "case": f"conversation:{conversation_id}",
        },
        session=session,
    )
