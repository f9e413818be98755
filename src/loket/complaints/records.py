"""What is given to register a complaint, how it is checked, and what a reader of one gets back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from loket.complaints.model import CAUSES, PRODUCTS, Channel, Document, Kind
from loket.complaints.sla import Form, Reading
from loket.complaints.tables import Complaint, ComplaintEvent

MAX_TEXT = 4000


class ComplaintError(ValueError):
    """Bad input for a complaint; `problems` names every field to fix (nothing was stored)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class NotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class NewComplaint:
    tenant_id: str
    kind: Kind
    product: str
    cause: str
    channel: Channel
    form: Form
    summary: str = field(repr=False)
    received_at: datetime
    language: str = "id"
    zone: str = "Asia/Jakarta"
    amount: int | None = None
    incident_date: date | None = None
    customer_id: str | None = None
    wa_id: str | None = None
    phone_number_id: str | None = None
    contact: str | None = field(default=None, repr=False)
    representative: str | None = field(default=None, repr=False)
    power_of_attorney: bool = False
    documents: tuple[Document, ...] = ()
    appk_ticket_id: str | None = None
    source_key: str | None = None


def problems_of(new: NewComplaint) -> list[str]:
    found = []
    if new.product not in PRODUCTS:
        found.append(f"product: one of {', '.join(PRODUCTS)}")
    if new.cause not in CAUSES:
        found.append(f"cause: one of {', '.join(CAUSES)}")
    if not new.summary.strip():
        found.append("summary: say what happened")
    elif len(new.summary) > MAX_TEXT:
        found.append(f"summary: at most {MAX_TEXT} characters")
    if new.amount is not None and new.amount < 0:
        found.append("amount: rupiah, not negative")
    if new.received_at.tzinfo is None:
        found.append("received_at: needs a time zone")
    if new.representative and not new.representative.strip():
        found.append("representative: give the name or leave it out")
    return found


@dataclass(frozen=True, slots=True)
class ComplaintView:
    row: Complaint
    reading: Reading
    summary: str | None = field(repr=False)
    contact: str | None = field(repr=False)
    representative: str | None = field(repr=False)
    final_answer: str | None = field(repr=False)
    history: tuple[ComplaintEvent, ...] = ()
