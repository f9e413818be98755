"""Rendering the examiner's report as HTML (Jinja2) and PDF (fpdf2, core fonts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape

from loket.audit.report import ExaminerReport

TEMPLATES = Path(__file__).with_name("templates")


def to_html(report: ExaminerReport) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template("report.html").render(**report.context())


def _latin(text: object) -> str:
    return str(text).encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    def heading(self, text: str) -> None:
        self.set_font("Helvetica", "B", 12)
        self.ln(3)
        self.cell(0, 8, _latin(text), new_x="LMARGIN", new_y="NEXT")

    def line_text(self, text: str, size: int = 9) -> None:
        self.set_font("Helvetica", "", size)
        self.multi_cell(0, 5, _latin(text), new_x="LMARGIN", new_y="NEXT")

    def table_rows(self, head: list[str], rows: list[list[Any]], widths: list[int]) -> None:
        self.set_font("Helvetica", "B", 9)
        for title, width in zip(head, widths, strict=True):
            self.cell(width, 6, _latin(title), border=1)
        self.ln()
        self.set_font("Helvetica", "", 9)
        if not rows:
            self.cell(sum(widths), 6, "none in this period", border=1, new_x="LMARGIN", new_y="NEXT")
        for row in rows:
            for value, width in zip(row, widths, strict=True):
                self.cell(width, 6, _latin(value if value is not None else "-")[:60], border=1)
            self.ln()


def to_pdf(report: ExaminerReport) -> bytes:
    c = report.context()
    pdf = _Pdf()
    pdf.set_title(f"Audit report {c['tenant']}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 10, _latin(f"Audit report: {c['tenant']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.line_text(f"Period {c['period'][0]} to {c['period'][1]}; generated {c['generated_at']}; {c['entries']} entries")
    cp = c["checkpoint"]
    pdf.line_text(
        f"Generated from the signed checkpoint {cp['origin']} tree size {cp['size']}, root {cp['root']}, "
        f"time {cp['time']}, key {cp['key_id']}. Verify with `loket audit verify`."
    )
    pdf.heading("Events per type")
    pdf.table_rows(["event type", "count"], [list(r) for r in c["by_type"]], [120, 40])
    pdf.heading("Personal data reveals per staff member")
    pdf.table_rows(
        ["staff", "reveals", "reasons"],
        [[s, n, ", ".join(f"{k} {v}" for k, v in reasons.items())] for s, n, reasons in c["reveals"]],
        [50, 25, 105],
    )
    pdf.heading("Policy-gate refusals per rule")
    pdf.table_rows(["rule", "refusals"], [list(r) for r in c["refusals"]], [120, 40])
    pdf.heading("Data-subject requests (3 x 24 hours)")
    pdf.line_text(", ".join(f"{k}: {v}" for k, v in c["dsr_summary"].items()) or "none")
    pdf.table_rows(
        ["request", "right", "received", "due", "completed", "status"],
        [
            [
                d["request"],
                d["right"],
                d["received_at"][:16],
                d["due_at"][:16],
                (d["completed_at"] or "")[:16],
                d["status"],
            ]
            for d in c["dsr"]
        ],
        [30, 22, 34, 34, 34, 26],
    )
    pdf.heading("Complaint milestones")
    pdf.table_rows(["milestone", "count"], [list(r) for r in c["complaints"]], [120, 40])
    return bytes(pdf.output())
