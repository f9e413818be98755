"""The readable copy of an export: a PDF with one part per kind of record, the JSON attached inside
it (portability, PDP-R8), encrypted with the password the customer can derive (date of birth) when
it travels over WhatsApp. Pure: bytes in memory."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fpdf import FPDF

from loket.i18n.catalog import MissingMessage, t
from loket.journeys.statement_pdf import encrypt, latin1
from loket.privacy.export import Export

MAX_VALUE_CHARS = 400
LINE_HEIGHT = 5


def _section_title(language: str, table: str) -> str:
    try:
        return t(language, f"privacy.pdf.sections.{table}")
    except MissingMessage:
        return table.replace("_", " ").capitalize()


def _flat(value: Any) -> str:
    if isinstance(value, dict | list):
        text = orjson.dumps(value).decode()
    else:
        text = "-" if value is None else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def render(export: Export, *, institution: str, language: str, zone: str = "Asia/Jakarta") -> bytes:
    """The export as a PDF (not encrypted); the JSON is attached as `data.json`."""
    pdf = FPDF(format="A4")
    pdf.set_title(latin1(t(language, "privacy.pdf.title", institution=institution)))
    pdf.set_creator("Loket")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, latin1(t(language, "privacy.pdf.title", institution=institution)), new_x="LMARGIN")
    pdf.set_font("Helvetica", "", 9)
    made = export.generated_at.astimezone(ZoneInfo(zone)).strftime("%d-%m-%Y %H:%M %Z")
    intro = t(language, "privacy.pdf.intro", reference=export.reference, generated=made, rows=export.row_count())
    pdf.multi_cell(0, LINE_HEIGHT, latin1(intro), new_x="LMARGIN")
    if not export.sections and not export.audit:
        pdf.ln(3)
        pdf.multi_cell(0, LINE_HEIGHT, latin1(t(language, "privacy.pdf.empty")), new_x="LMARGIN")
    for table, rows in export.sections.items():
        _section(pdf, f"{_section_title(language, table)} ({len(rows)})", rows)
    if export.audit:
        _section(pdf, f"{t(language, 'privacy.pdf.processing_record')} ({len(export.audit)})", export.audit)
    pdf.embed_file(
        bytes=export.json_bytes(),
        basename="data.json",
        mime_type="application/json",
        modification_date=export.generated_at,
    )
    return bytes(pdf.output())


def _section(pdf: FPDF, title: str, rows: list[dict[str, Any]]) -> None:
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 7, latin1(title), new_x="LMARGIN")
    for number, row in enumerate(rows, start=1):
        pdf.set_font("Helvetica", "B", 8)
        pdf.multi_cell(0, LINE_HEIGHT, f"#{number}", new_x="LMARGIN")
        pdf.set_font("Helvetica", "", 8)
        for name, value in row.items():
            pdf.multi_cell(0, LINE_HEIGHT - 1, latin1(f"{name}: {_flat(value)}"), new_x="LMARGIN")


def protected(pdf_bytes: bytes, date_of_birth_password: str | None) -> bytes:
    """Encrypted for delivery by WhatsApp; without a password (no date of birth known) never sent there."""
    if not date_of_birth_password:
        raise ValueError("an export travels over WhatsApp only encrypted: no password available")
    return encrypt(pdf_bytes, date_of_birth_password)
