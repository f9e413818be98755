"""The examiner's view: a read-only summary of one tenant's period, pinned to a signed checkpoint."""

from __future__ import annotations

import base64
from collections import Counter, defaultdict
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loket.audit.canonical import Entry
from loket.audit.events import EventType, iso
from loket.audit.note import Checkpoint


@dataclass
class DsrRow:
    request: str
    right: str
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None = None
    outcome: str | None = None

    def status(self, now: datetime) -> str:
        if self.completed_at is None:
            return "open, overdue" if now > self.due_at else "open"
        return "on time" if self.completed_at <= self.due_at else "late"


@dataclass
class ExaminerReport:
    tenant: str
    start: datetime
    end: datetime
    generated_at: datetime
    checkpoint: Checkpoint
    key_id: str
    entries: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    reveals: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    refusals: Counter[str] = field(default_factory=Counter)
    dsr: dict[str, DsrRow] = field(default_factory=dict)
    complaints: Counter[str] = field(default_factory=Counter)

    def add(self, entry: Entry) -> None:
        if not self.start <= entry.at < self.end:
            return
        self.entries += 1
        self.by_type[entry.type] += 1
        f = entry.fields
        match entry.type:
            case EventType.PII_REVEALED:
                self.reveals[str(f["staff"])][str(f["reason"])] += 1
            case EventType.POLICY_DECISION if f.get("decision") == "blocked":
                self.refusals[str(f["rule"])] += 1
            case EventType.DSR_RECEIVED:
                due = datetime.fromisoformat(str(f["due_at"]))
                self.dsr[str(f["request"])] = DsrRow(str(f["request"]), str(f["right"]), entry.at, due)
            case EventType.DSR_COMPLETED if str(f["request"]) in self.dsr:
                row = self.dsr[str(f["request"])]
                row.completed_at, row.outcome = entry.at, str(f["outcome"])
            case EventType.COMPLAINT_MILESTONE:
                self.complaints[str(f["milestone"])] += 1
            case _:
                pass

    def dsr_summary(self) -> Counter[str]:
        return Counter(row.status(self.generated_at) for row in self.dsr.values())

    def context(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "period": (iso(self.start), iso(self.end)),
            "generated_at": iso(self.generated_at),
            "checkpoint": {
                "origin": self.checkpoint.origin,
                "size": self.checkpoint.size,
                "root": base64.b64encode(self.checkpoint.root).decode(),
                "time": self.checkpoint.time,
                "key_id": self.key_id,
            },
            "entries": self.entries,
            "by_type": sorted(self.by_type.items()),
            "reveals": sorted((staff, sum(c.values()), dict(sorted(c.items()))) for staff, c in self.reveals.items()),
            "refusals": sorted(self.refusals.items(), key=lambda kv: (-kv[1], kv[0])),
            "dsr": [
                {
                    "request": r.request,
                    "right": r.right,
                    "received_at": iso(r.received_at),
                    "due_at": iso(r.due_at),
                    "completed_at": iso(r.completed_at) if r.completed_at else None,
                    "outcome": r.outcome,
                    "status": r.status(self.generated_at),
                }
                for r in sorted(self.dsr.values(), key=lambda r: r.received_at)
            ],
            "dsr_summary": dict(sorted(self.dsr_summary().items())),
            "complaints": sorted(self.complaints.items()),
        }


def summarise_into(report: ExaminerReport, entries: Iterable[Entry]) -> ExaminerReport:
    for entry in entries:
        if entry.index < report.checkpoint.size:
            report.add(entry)
    return report


async def summarise_async(report: ExaminerReport, entries: AsyncIterable[Entry]) -> ExaminerReport:
    async for entry in entries:
        if entry.index < report.checkpoint.size:
            report.add(entry)
    return report
