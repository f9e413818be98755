"""Pure parts of the report (timeliness, tallies, renderings read back) and of the APPK row parser."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from complaints_support import TENANT, wib
from pypdf import PdfReader

from loket.complaints.appk import ImportFileError, parse_row, read_rows
from loket.complaints.report import ComplaintReport, read_xlsx_summary, timeliness
from loket.complaints.sla import Form, SlaPolicy, new_clock
from loket.complaints.tables import Complaint

POLICY = SlaPolicy()
NOW = wib(2026, 11, 30)


def complaint(reference: str, status: str, due: date | None, closed: datetime | None, **extra: object) -> Complaint:
    values: dict[str, object] = {
        "tenant_id": TENANT,
        "reference": reference,
        "kind": "dispute",
        "product": "savings",
        "cause": "failed_transaction",
        "channel": "whatsapp",
        "form": "written",
        "status": status,
        "amount": 150_000,
        "received_at": wib(2026, 11, 2),
        "due_date": due,
        "closed_at": closed,
        "clock": new_clock(Form.WRITTEN, wib(2026, 11, 2)).to_json(),
        "appk_ticket_id": None,
    }
    values.update(extra)
    return Complaint(**values)


def test_timeliness_at_the_closing_time_of_the_due_day() -> None:
    due = date(2026, 11, 16)
    assert timeliness(complaint("A", "resolved", due, wib(2026, 11, 16, 16, 59)), NOW, POLICY) == "on_time"
    assert timeliness(complaint("B", "rejected", due, wib(2026, 11, 16, 17, 0)), NOW, POLICY) == "late"
    assert timeliness(complaint("C", "in_progress", due, None), wib(2026, 11, 16, 9), POLICY) == "open_within_sla"
    assert timeliness(complaint("D", "in_progress", due, None), NOW, POLICY) == "open_overdue"
    assert timeliness(complaint("E", "awaiting_documents", None, None), NOW, POLICY) == "open_within_sla"


def test_report_tallies_and_renderings() -> None:
    rows = [
        complaint("PGD-2026-000002", "resolved", date(2026, 11, 16), wib(2026, 11, 10), channel="phone"),
        complaint("PGD-2026-000001", "in_progress", date(2026, 11, 16), None, product="loan", amount=None),
        complaint("PGD-2026-000003", "unresolved", date(2026, 11, 16), wib(2026, 11, 17), appk_ticket_id="T-9"),
    ]
    report = ComplaintReport.build(
        TENANT, "PT Bank Nusantara Tbk", date(2026, 11, 1), date(2026, 11, 30), rows, NOW, POLICY
    )
    assert [r.reference for r in report.rows] == ["PGD-2026-000001", "PGD-2026-000002", "PGD-2026-000003"]
    summary = {(r[0], r[1]): r[2:] for r in report.summary_rows()}
    #                         received, resolved, rejected, unresolved, open, on_time, late, within, overdue
    assert summary[("total", "all")] == [3, 1, 0, 1, 1, 1, 1, 0, 1]
    assert summary[("channel", "whatsapp")] == [2, 0, 0, 1, 1, 0, 1, 0, 1]
    assert summary[("timeliness", "late")][0] == 1
    assert read_xlsx_summary(report.to_xlsx())[0] == ["total", "all", 3, 1, 0, 1, 1, 1, 1, 0, 1]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report.to_pdf())).pages)
    assert "PGD-2026-000003" in text and "T-9" in text and "Rp150.000" in text
    csv_text = report.to_csv().decode()
    assert csv_text.splitlines()[0] == "tenant,bank-nusantara,period,2026-11-01,2026-11-30"
    with pytest.raises(ValueError, match="format"):
        report.render("docx")


def test_appk_rows() -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    good = {
        "ticket_id": "APPK/2026/11/0001",
        "received_at": "28/11/2026 09:30",
        "kind": "Pelanggaran",
        "product": "fintech_lending",
        "cause": "collection_conduct",
        "description": "Penagih menelepon keluarga saya",
        "representative": "Siti (kakak)",
        "province": "Papua",
        "documents_complete": "tidak",
    }
    new, problems = parse_row(TENANT, good, now)
    assert problems == [] and new is not None
    assert new.received_at == wib(2026, 11, 28, 9, 30) and new.kind.value == "breach" and new.zone == "Asia/Jayapura"
    assert new.representative == "Siti (kakak)" and not new.power_of_attorney and new.documents
    bad = {
        **good,
        "ticket_id": "x y",
        "received_at": "2026-12-31 10:00",
        "power_of_attorney": "maybe",
        "language": "fr",
    }
    _, problems = parse_row(TENANT, bad, now)
    assert [p.split(":")[0] for p in problems] == ["ticket_id", "received_at", "power_of_attorney", "language"]


def test_appk_file_checks() -> None:
    with pytest.raises(ImportFileError, match="missing columns"):
        read_rows(b"ticket_id,kind\nA,dispute\n")
    with pytest.raises(ImportFileError, match="unknown columns"):
        read_rows(b"ticket_id,received_at,kind,product,cause,description,nik\n")
    with pytest.raises(ImportFileError, match="UTF-8"):
        read_rows(b"\xff\xfe\x00t")
    rows = read_rows(
        "\ufeffticket_id;received_at;kind;product;cause;description\nA;2026-11-01;dispute;savings;other;x\n".encode()
    )
    assert rows == [
        {
            "ticket_id": "A",
            "received_at": "2026-11-01",
            "kind": "dispute",
            "product": "savings",
            "cause": "other",
            "description": "x",
        }
    ]
