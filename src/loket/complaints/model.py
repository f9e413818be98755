"""What a complaint is, and which status changes the rules allow (CMP-1..CMP-7)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

REFERENCE_PREFIX = "PGD"
REFERENCE = re.compile(r"\bPGD[\s-]?(20\d{2})[\s-]?(\d{1,6})\b", re.IGNORECASE)


class Kind(enum.StrEnum):
    """OJK distinguishes disputes (a financial loss the consumer wants settled, may go to LAPS SJK)
    from breaches (a rule broken, which OJK itself may follow up) (CMP-7)."""

    DISPUTE = "dispute"
    BREACH = "breach"


class Channel(enum.StrEnum):
    WHATSAPP = "whatsapp"
    PHONE = "phone"
    BRANCH = "branch"
    EMAIL = "email"
    WALK_IN = "walk_in"
    APPK = "appk"  # an OJK portal ticket imported from its CSV (CMP-6)


class Status(enum.StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    AWAITING_DOCUMENTS = "awaiting_documents"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    UNRESOLVED = "unresolved"


OPEN = frozenset({Status.RECEIVED, Status.IN_PROGRESS, Status.AWAITING_DOCUMENTS})
FINAL = frozenset({Status.RESOLVED, Status.REJECTED, Status.UNRESOLVED})
# Final answers that must carry the escalation path (LAPS SJK, OJK 157 and its portal): CMP-7.
NEEDS_ESCALATION_PATH = frozenset({Status.REJECTED, Status.UNRESOLVED})

PRODUCTS = (
    "savings",
    "current_account",
    "time_deposit",
    "credit_card",
    "debit_card",
    "loan",
    "mortgage",
    "mobile_banking",
    "internet_banking",
    "transfer",
    "insurance_life",
    "insurance_general",
    "financing",
    "fintech_lending",
    "other",
)
CAUSES = (
    "failed_transaction",
    "unrecognised_transaction",
    "fees_and_interest",
    "service_quality",
    "information_mismatch",
    "collection_conduct",
    "fraud_or_scam",
    "claim_rejected",
    "personal_data",
    "other",
)


class TransitionError(ValueError):
    """A status change the rules do not allow from where the complaint is; the message says why."""


_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.IN_PROGRESS, Status.AWAITING_DOCUMENTS, *FINAL}),
    Status.IN_PROGRESS: frozenset({Status.AWAITING_DOCUMENTS, *FINAL}),
    # documents arrived -> back to work; or closed because they never did
    Status.AWAITING_DOCUMENTS: frozenset({Status.IN_PROGRESS, Status.REJECTED, Status.UNRESOLVED}),
}


def check_transition(current: Status, target: Status) -> None:
    if current in FINAL:
        raise TransitionError(f"the complaint is already {current.value}; it cannot change")
    if target not in _ALLOWED[current]:
        raise TransitionError(f"a complaint cannot go from {current.value} to {target.value}")


def format_reference(year: int, number: int) -> str:
    if not 0 < number < 1_000_000:
        raise ValueError("reference numbers run from 1 to 999999 per tenant and year")
    return f"{REFERENCE_PREFIX}-{year:04d}-{number:06d}"


def find_reference(text: str) -> str | None:
    """The first reference number in a text ("status pengaduan pgd-2026-000123"), normalised."""
    match = REFERENCE.search(text)
    return None if match is None else format_reference(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True, slots=True)
class Document:
    """A document the complaint needs (its type, never its content) and whether it arrived."""

    name: str
    received: bool = False
