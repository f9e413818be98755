"""The customer panel's view of open complaints, as a port: the complaints package (issue 6, part C)
supplies the adapter. Until it is wired in, `NoComplaintsYet` answers an empty list, and the panel
says "no open complaints" only when a real adapter said so (`known` is False otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ComplaintSummary:
    reference: str
    status: str
    product: str
    due_date: date | None


class ComplaintsPort(Protocol):
    known: bool  # False: no complaints source is wired in, the panel says so

    async def open_for(self, tenant_id: str, wa_id: str, customer_id: str | None) -> list[ComplaintSummary]: ...


class NoComplaintsYet:
    """The empty-list adapter, until `loket.complaints` exposes its queries."""

    known = False

    async def open_for(self, tenant_id: str, wa_id: str, customer_id: str | None) -> list[ComplaintSummary]:
        return []


def complaints_port() -> ComplaintsPort:
    return NoComplaintsYet()
