"""Data-subject requests as a state machine with a legal clock. Pure: no storage, no framework.

Rights (UU 27/2022): access and copy (Arts. 6-7, 32: PDP-R2), correction (Art. 6, 30: PDP-R3),
erasure (Art. 8, 42-44: PDP-R4), withdrawal of consent per purpose (Art. 9, 40: PDP-R7) and
objection to automated decisions (Art. 10: PDP-R5). Each is a recorded application (Art. 14: PDP-R9)
with a clock of 3x24 hours counted in clock hours from receipt: weekends and holidays are not
skipped (TZ-9).

    received -> verifying -> in_progress -> completed
        |            |             |
        +------------+-------------+--> rejected (with a reason code)

Access and erasure need the person's identity verified (a step-up in the institution's app, or a
check by staff) before anything is delivered or destroyed; the other rights go straight to
in_progress.
"""

from __future__ import annotations

import enum
import re
import secrets
from datetime import datetime, timedelta

LEGAL_CLOCK = timedelta(hours=72)  # "3 x 24 jam" (UU PDP Arts. 30, 32, 40, 41): TZ-9


class Right(enum.StrEnum):
    ACCESS = "access"
    CORRECTION = "correction"
    ERASURE = "erasure"
    CONSENT_WITHDRAWAL = "consent_withdrawal"
    OBJECTION = "objection"


class Status(enum.StrEnum):
    RECEIVED = "received"
    VERIFYING = "verifying"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


class Purpose(enum.StrEnum):
    """Processing that rests on the customer's consent, and so can be withdrawn one by one."""

    MARKETING = "marketing"  # offers from the institution (OFR-2, PDP-5)
    FEEDBACK_CONTACT = "feedback_contact"  # being contacted about one's Kritik & saran


class Channel(enum.StrEnum):
    WHATSAPP = "whatsapp"
    CONSOLE = "console"
    CLI = "cli"


# Reason codes for a rejection: a fixed vocabulary, shown to staff and written to the audit log.
REJECTION_REASONS: dict[str, str] = {
    "identity_not_verified": "the person's identity could not be verified (step-up refused or expired)",
    "legal_hold": "a legal hold covers this customer's data (UU PDP Art. 8 subject to other laws)",
    "reveals_others": "access would reveal another person's personal data (UU PDP Art. 33)",
    "pdp_art15_fin_supervision": "UU PDP Art. 15 exception: financial-sector supervision (legal sign-off required)",
    "not_a_customer_record": "Loket holds nothing that the request is about",
    "withdrawn_by_customer": "the customer withdrew the request",
    "duplicate": "the same request is already open",
}

NEEDS_VERIFICATION = frozenset({Right.ACCESS, Right.ERASURE})
OPEN = frozenset({Status.RECEIVED, Status.VERIFYING, Status.IN_PROGRESS})
_NEXT: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.VERIFYING, Status.IN_PROGRESS, Status.REJECTED}),
    Status.VERIFYING: frozenset({Status.IN_PROGRESS, Status.REJECTED}),
    Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.REJECTED}),
    Status.COMPLETED: frozenset(),
    Status.REJECTED: frozenset(),
}
_REFERENCE = re.compile(r"PDP-[0-9A-Z]{10}")
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class TransitionError(ValueError):
    """A status change the state machine does not allow; nothing was changed."""


def due_at(received_at: datetime) -> datetime:
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    return received_at + LEGAL_CLOCK


def first_status(right: Right, *, verified: bool) -> Status:
    """Where a new request starts: verifying until the identity is known for access and erasure."""
    return Status.VERIFYING if right in NEEDS_VERIFICATION and not verified else Status.IN_PROGRESS


def check_transition(current: Status, target: Status, *, right: Right, verified: bool) -> None:
    if target not in _NEXT[current]:
        raise TransitionError(f"a request cannot go from {current.value} to {target.value}")
    if target in (Status.IN_PROGRESS, Status.COMPLETED) and right in NEEDS_VERIFICATION and not verified:
        raise TransitionError(f"{right.value} needs the person's identity verified first")


def check_reason(reason: str) -> str:
    if reason not in REJECTION_REASONS:
        known = ", ".join(sorted(REJECTION_REASONS))
        raise TransitionError(f"unknown rejection reason {reason!r}; use one of: {known}")
    return reason


def is_overdue(status: Status, due: datetime, now: datetime) -> bool:
    return status in OPEN and now >= due


def new_reference() -> str:
    return "PDP-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def valid_reference(value: str) -> bool:
    return bool(_REFERENCE.fullmatch(value))
