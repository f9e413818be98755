"""Helpers of the complaints tests (imported by this name; constants, no fixtures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loket.complaints.desk import NewComplaint
from loket.complaints.model import Channel, Kind
from loket.complaints.sla import Form
from loket.compliance.zones import WIB

TENANT = "bank-nusantara"
OTHER_TENANT = "bank-lain"
MASTER = bytes(range(32))
WA_ID = "6281234567890"
PNID = "109876543210001"


def wib(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


def new_complaint(**changes: Any) -> NewComplaint:
    values: dict[str, Any] = {
        "tenant_id": TENANT,
        "kind": Kind.DISPUTE,
        "product": "savings",
        "cause": "failed_transaction",
        "channel": Channel.BRANCH,
        "form": Form.WRITTEN,
        "summary": "Transfer Rp500.000 gagal tetapi saldo terpotong",
        "received_at": wib(2026, 11, 2),
        "amount": 500_000,
    }
    values.update(changes)
    return NewComplaint(**values)
