"""The complaint report of a period, in the shape an institution reports to OJK: complaints received
in the period counted by product, cause, channel, status and timeliness, plus a register of every
complaint (codes, dates and amounts only: no names, no complaint text). CSV, XLSX and PDF.

Timeliness: a closed complaint is on time when it closed before its deadline (closing time of the due
day), late otherwise; an open one is `open_within_sla` or, past its deadline, `open_overdue`; one paused
for documents has no running deadline and counts as `open_within_sla`.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from fpdf import FPDF
from openpyxl import Workbook, load_workbook

from loket.complaints.model import FINAL, Status
from loket.complaints.sla import SlaPolicy, due_moment
from loket.complaints.tables import Complaint
from loket.i18n.formatting import rupiah

DIMENSIONS = ("product", "cause", "channel", "kind", "form", "status", "timeliness")
COUNTS = (
    "received",
    "resolved",
    "rejected",
    "unresolved",
    "open",
    "on_time",
    "late",
    "open_within_sla",
    "open_overdue",
)
REGISTER = (
    "reference",
    "received_date",
    "channel",
    "form",
    "kind",
    "product",
    "cause",
    "amount",
    "status",
    "due_date",
    "closed_date",
    "timeliness",
    "extended",
    "appk_ticket_id",
)
FORMATS = ("csv", "xlsx", "pdf")


@dataclass(frozen=True, slots=True)
class RegisterRow:
    reference: str
    received_date: date
    channel: str
    form: str
    kind: str
    product: str
    cause: str
    amount: int | None
    status: str
    due_date: date | None
    closed_date: date | None
    timeliness: str
    extended: bool
    appk_ticket_id: str | None

    def values(self) -> list[object]:
        return [getattr(self, name) for name in REGISTER]


def timeliness(row: Complaint, as_of: datetime, policy: SlaPolicy) -> str:
    due = due_moment(row.due_date, policy) if row.due_date is not None else None
    if Status(row.status) in FINAL:
        assert row.closed_at is not None
        return "on_time" if due is None or row.closed_at < due else "late"
    return "open_overdue" if due is not None and as_of >= due else "open_within_sla"


def register_row(row: Complaint, as_of: datetime, policy: SlaPolicy) -> RegisterRow:
    zone = policy.zone
    return RegisterRow(
        reference=row.reference,
        received_date=row.received_at.astimezone(zone).date(),
        channel=row.channel,
        form=row.form,
        kind=row.kind,
        product=row.product,
        cause=row.cause,
        amount=row.amount,
        status=row.status,
        due_date=row.due_date,
        closed_date=row.closed_at.astimezone(zone).date() if row.closed_at else None,
        timeliness=timeliness(row, as_of, policy),
        extended=bool((row.clock or {}).get("extension_days")),
        appk_ticket_id=row.appk_ticket_id,
    )


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, row: RegisterRow) -> None:
        self.counts["received"] += 1
        if row.status in {s.value for s in FINAL}:
            self.counts[row.status] += 1
        else:
            self.counts["open"] += 1
        self.counts[row.timeliness] += 1


@dataclass
class ComplaintReport:
    tenant: str
    institution: str
    start: date
    end: date  # inclusive
    generated_at: datetime
    rows: list[RegisterRow]
    total: Tally = field(default_factory=Tally)
    by: dict[str, dict[str, Tally]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        tenant: str,
        institution: str,
        start: date,
        end: date,
        complaints: Sequence[Complaint],
        generated_at: datetime,
        policy: SlaPolicy,
    ) -> ComplaintReport:
        rows = sorted((register_row(c, generated_at, policy) for c in complaints), key=lambda r: r.reference)
        report = cls(tenant, institution, start, end, generated_at, rows)
        report.by = {dimension: {} for dimension in DIMENSIONS}
        for row in rows:
            report.total.add(row)
            for dimension in DIMENSIONS:
                value = str(getattr(row, dimension))
                report.by[dimension].setdefault(value, Tally()).add(row)
        return report

    def summary_rows(self) -> list[list[object]]:
        """dimension, value, then COUNTS; the first row is the total."""
        out: list[list[object]] = [["total", "all", *(self.total.counts[c] for c in COUNTS)]]
        for dimension in DIMENSIONS:
            for value in sorted(self.by[dimension]):
                out.append([dimension, value, *(self.by[dimension][value].counts[c] for c in COUNTS)])
        return out

    # renderings

    def to_csv(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["tenant", self.tenant, "period", self.start.isoformat(), self.end.isoformat()])
        writer.writerow(["dimension", "value", *COUNTS])
        writer.writerows(self.summary_rows())
        writer.writerow([])
        writer.writerow(REGISTER)
        for row in self.rows:
            writer.writerow(["" if v is None else v for v in row.values()])
        return buffer.getvalue().encode("utf-8")

    def to_xlsx(self) -> bytes:
        book = Workbook()
        summary = book.active
        assert summary is not None
        summary.title = "Summary"
        summary.append(["Complaint report", self.institution, self.tenant])
        summary.append(["Period", self.start, self.end])
        summary.append(["Generated", self.generated_at.replace(tzinfo=None), "UTC"])
        summary.append([])
        summary.append(["dimension", "value", *COUNTS])
        for line in self.summary_rows():
            summary.append(line)
        register = book.create_sheet("Register")
        register.append(list(REGISTER))
        for row in self.rows:
            register.append(row.values())
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def to_pdf(self) -> bytes:
        pdf = FPDF(orientation="landscape", format="A4")
        pdf.set_auto_page_break(auto=True, margin=12)
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(0, 8, _latin(f"Complaint report - {self.institution}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(
            0,
            6,
            _latin(
                f"Tenant {self.tenant}; period {self.start.isoformat()} to {self.end.isoformat()}; "
                f"generated {self.generated_at.isoformat(timespec='minutes')}"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(2)
        _table(pdf, ["dimension", "value", *COUNTS], [[str(v) for v in r] for r in self.summary_rows()], first=30)
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, "Register", new_x="LMARGIN", new_y="NEXT")
        lines = [
            [
                r.reference,
                r.received_date.isoformat(),
                r.channel,
                r.form,
                r.kind,
                r.product,
                r.cause,
                rupiah(r.amount) if r.amount is not None else "",
                r.status,
                r.due_date.isoformat() if r.due_date else "",
                r.closed_date.isoformat() if r.closed_date else "",
                r.timeliness,
                "yes" if r.extended else "",
                r.appk_ticket_id or "",
            ]
            for r in self.rows
        ]
        _table(pdf, list(REGISTER), lines, first=28)
        return bytes(pdf.output())

    def render(self, fmt: str) -> bytes:
        if fmt == "csv":
            return self.to_csv()
        if fmt == "xlsx":
            return self.to_xlsx()
        if fmt == "pdf":
            return self.to_pdf()
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _table(pdf: FPDF, header: list[str], lines: list[list[str]], *, first: float) -> None:
    width = pdf.w - pdf.l_margin - pdf.r_margin
    other = (width - first) / max(len(header) - 1, 1)
    widths = [first, *([other] * (len(header) - 1))]
    pdf.set_font("Helvetica", "B", 6)
    for name, w in zip(header, widths, strict=True):
        pdf.cell(w, 5, _latin(name.replace("_", " ")), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 6)
    for line in lines:
        for value, w in zip(line, widths, strict=True):
            pdf.cell(w, 5, _latin(value)[:40], border=1)
        pdf.ln()


def read_xlsx_summary(data: bytes) -> list[list[object]]:
    """The summary table of an XLSX report (for tests and round-trip checks)."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    sheet = book["Summary"]
    rows: list[list[object]] = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r and r[0] == "dimension")
    return rows[header + 1 :]
