"""`loket complaints ...` as an operator runs it: APPK import with per-row errors, the list, the SLA
pass, and the OJK report as CSV, XLSX (read back) and PDF (read with pypdf), audited as exports."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from loket.audit.tables import AuditEntry
from loket.db.engine import Database
from support import TEST_MASTER_KEY

pytestmark = pytest.mark.usefixtures("tenants")
TENANT = "bank-nusantara"
CSV = (
    "ticket_id;received_at;kind;product;cause;description;amount;form;province\n"
    "APPK-7001;2026-10-29T09:15:00+07:00;dispute;credit_card;unrecognised_transaction;Tagihan ganda;"
    "Rp1.000.000;written;Bali\n"
    "APPK-7002;2026-10-30 10:00;breach;loan;collection_conduct;Ditagih malam hari;;oral;\n"
    "APPK-7003;2026-10-30 10:00;dispute;loan;other;Teks;;sometimes;\n"
)


def loket(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "loket.cli", "complaints", *args], capture_output=True, env=env, timeout=120, check=False
    )


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    values.update(
        LOKET_DATABASE_URL=database_url,
        LOKET_VAR_DIR=str(tmp_path / "var"),
        LOKET_MASTER_KEY=TEST_MASTER_KEY,
        LOKET_MODE="demo",
    )
    return values


async def test_import_list_sweep_and_report(env: dict[str, str], tmp_path: Path, db: Database) -> None:
    source = tmp_path / "appk.csv"
    source.write_text(CSV, encoding="utf-8")
    imported = loket(env, "import-appk", "--tenant", TENANT, str(source), "--by", "ops@bank.test")
    assert imported.returncode == 1, imported.stderr  # one bad row: reported, exit status 1
    result = json.loads(imported.stdout)
    assert result["imported"] == ["PGD-2026-000001", "PGD-2026-000002"]
    assert result["errors"] == [{"line": 4, "problems": ["form: written or oral (tertulis / lisan)"]}]
    again = json.loads(loket(env, "import-appk", "--tenant", TENANT, str(source), "--by", "ops@bank.test").stdout)
    assert again["imported"] == [] and again["duplicates"] == ["APPK-7001", "APPK-7002"]

    listed = json.loads(loket(env, "list", "--tenant", TENANT, "--json").stdout)
    assert [r["appk_ticket_id"] for r in listed] == ["APPK-7002", "APPK-7001"]  # oral: earlier deadline
    assert all(r["urgency"] == "breached" for r in listed)  # received a month ago, never answered
    swept = loket(env, "sweep")
    assert swept.returncode == 0 and "alert(s) made" in swept.stdout.decode()

    period = ("--tenant", TENANT, "--from", "2026-10-01", "--to", "2026-10-31", "--by", "compliance@bank.test")
    csv_out = loket(env, "report", *period)
    assert csv_out.returncode == 0, csv_out.stderr
    lines = csv_out.stdout.decode().splitlines()
    assert "total,all,2,0,0,0,2,0,0,0,2" in lines
    assert "channel,appk,2,0,0,0,2,0,0,0,2" in lines and "kind,breach,1,0,0,0,1,0,0,0,1" in lines
    xlsx = tmp_path / "report.xlsx"
    assert loket(env, "report", *period, "--format", "xlsx", "-o", str(xlsx)).returncode == 0
    book = load_workbook(io.BytesIO(xlsx.read_bytes()), read_only=True)
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    assert ["product", "credit_card", 1, 0, 0, 0, 1, 0, 0, 0, 1] in summary
    register = [list(r) for r in book["Register"].iter_rows(values_only=True)]
    assert [r[-1] for r in register[1:]] == ["APPK-7001", "APPK-7002"]
    pdf = tmp_path / "report.pdf"
    assert loket(env, "report", *period, "--format", "pdf", "-o", str(pdf)).returncode == 0
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "APPK-7001" in text and "Rp1.000.000" in text and "Tagihan ganda" not in text
    bad = loket(env, "report", "--tenant", TENANT, "--from", "2026-10-31", "--to", "2026-10-01", "--by", "x")
    assert bad.returncode == 2 and b"before" in bad.stderr

    async with db.transaction() as session:
        kinds = await session.execute(select(AuditEntry.fields).where(AuditEntry.event_type == "export.created"))
        exports = [f["kind"] for f in kinds.scalars()]
    assert sorted(exports) == ["complaint_report_csv", "complaint_report_pdf", "complaint_report_xlsx"]
