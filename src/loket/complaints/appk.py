"""Import of OJK portal (APPK, kontak157.ojk.go.id) tickets from a CSV file (CMP-6).

The accepted columns are documented in docs/complaints.md. Every row is checked on its own: a bad
row gets its line number and every problem, the good rows are imported, and a ticket already
imported (same APPK ticket id for the tenant) is reported as a duplicate, never registered twice.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from loket.complaints.desk import ComplaintDesk, ComplaintError, NewComplaint, problems_of
from loket.complaints.model import Channel, Document, Kind
from loket.complaints.sla import Form
from loket.compliance.zones import WIB, resolve_zone

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
REQUIRED = ("ticket_id", "received_at", "kind", "product", "cause", "description")
OPTIONAL = (
    "form",
    "amount",
    "incident_date",
    "consumer_name",
    "consumer_contact",
    "representative",
    "power_of_attorney",
    "documents_complete",
    "language",
    "province",
)
_KINDS = {"dispute": Kind.DISPUTE, "sengketa": Kind.DISPUTE, "breach": Kind.BREACH, "pelanggaran": Kind.BREACH}
_FORMS = {"written": Form.WRITTEN, "tertulis": Form.WRITTEN, "oral": Form.ORAL, "lisan": Form.ORAL}
_YES = {"yes", "ya", "y", "true", "1"}
_NO = {"no", "tidak", "n", "false", "0", ""}
_TICKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,63}$")
_LOCAL_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d", "%d/%m/%Y")


class ImportFileError(ValueError):
    """The file as a whole is unusable (size, encoding, header); nothing was imported."""


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)  # references given
    duplicates: list[str] = field(default_factory=list)  # APPK ticket ids already imported
    errors: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, problems)

    def as_dict(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "errors": [{"line": line, "problems": problems} for line, problems in self.errors],
        }


def _moment(raw: str) -> datetime | None:
    text = raw.strip()
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is not None:
            return parsed
    except ValueError:
        pass
    for fmt in _LOCAL_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=WIB)  # APPK shows WIB times
        except ValueError:
            continue
    return None


def _amount(raw: str) -> int | None:
    digits = re.sub(r"^\s*rp\.?\s*", "", raw.strip(), flags=re.I).replace(".", "").replace(",", "")
    if not digits:
        return None
    if not digits.isdigit():
        raise ValueError(raw)
    return int(digits)


def _flag(raw: str, default: bool) -> bool:
    value = raw.strip().casefold()
    if not value:
        return default
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(raw)


def parse_row(tenant_id: str, row: Mapping[str, str], now: datetime) -> tuple[NewComplaint | None, list[str]]:
    problems: list[str] = []

    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    for name in REQUIRED:
        if not get(name):
            problems.append(f"{name}: required")
    ticket = get("ticket_id")
    if ticket and not _TICKET.match(ticket):
        problems.append("ticket_id: letters, digits and / _ . - only, at most 64")
    received = _moment(get("received_at")) if get("received_at") else None
    if get("received_at") and received is None:
        problems.append("received_at: ISO 8601 (with offset), or YYYY-MM-DD HH:MM in WIB")
    elif received is not None and received > now:
        problems.append("received_at: in the future")
    kind = _KINDS.get(get("kind").casefold())
    if get("kind") and kind is None:
        problems.append("kind: dispute or breach (sengketa / pelanggaran)")
    form = _FORMS.get(get("form").casefold() or "written")
    if form is None:
        problems.append("form: written or oral (tertulis / lisan)")
    amount: int | None = None
    try:
        amount = _amount(get("amount"))
    except ValueError:
        problems.append("amount: whole rupiah, e.g. 1250000 or Rp1.250.000")
    incident: date | None = None
    if get("incident_date"):
        try:
            incident = date.fromisoformat(get("incident_date"))
        except ValueError:
            problems.append("incident_date: YYYY-MM-DD")
    flags: dict[str, bool] = {}
    for name, default in (("power_of_attorney", False), ("documents_complete", True)):
        try:
            flags[name] = _flag(get(name), default)
        except ValueError:
            problems.append(f"{name}: yes or no")
    language = get("language").casefold() or "id"
    if language not in ("id", "en"):
        problems.append("language: id or en")
    if problems or received is None or kind is None or form is None:
        return None, problems
    contact = ", ".join(v for v in (get("consumer_name"), get("consumer_contact")) if v) or None
    documents = () if flags["documents_complete"] else (Document("appk_documents"),)
    new = NewComplaint(
        tenant_id=tenant_id,
        kind=kind,
        product=get("product"),
        cause=get("cause"),
        channel=Channel.APPK,
        form=form,
        summary=get("description"),
        received_at=received,
        language=language,
        zone=resolve_zone(province=get("province") or None).zones[0].key if get("province") else "Asia/Jakarta",
        amount=amount,
        incident_date=incident,
        contact=contact,
        representative=get("representative") or None,
        power_of_attorney=flags["power_of_attorney"],
        documents=documents,
        appk_ticket_id=ticket,
    )
    later = problems_of(new)
    return (None, later) if later else (new, [])


def read_rows(data: bytes) -> list[dict[str, str]]:
    if len(data) > MAX_BYTES:
        raise ImportFileError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError("the file is not UTF-8 text") from exc
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFileError(f"missing columns: {', '.join(missing)}")
    unknown = [h for h in header if h not in REQUIRED and h not in OPTIONAL]
    if unknown:
        raise ImportFileError(f"unknown columns: {', '.join(unknown)} (see docs/complaints.md)")
    rows = [{(k or "").strip(): (v or "") for k, v in row.items()} for row in reader]
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"at most {MAX_ROWS} rows per file")
    return rows


async def import_appk(
    session: AsyncSession, desk: ComplaintDesk, tenant_id: str, data: bytes, *, actor: str, now: datetime
) -> ImportResult:
    result = ImportResult()
    seen: set[str] = set()
    for line, row in enumerate(read_rows(data), start=2):  # line 1 is the header
        new, problems = parse_row(tenant_id, row, now)
        if new is None:
            result.errors.append((line, problems))
            continue
        assert new.appk_ticket_id is not None
        if new.appk_ticket_id in seen:
            result.errors.append((line, [f"ticket_id: {new.appk_ticket_id} appears twice in this file"]))
            continue
        seen.add(new.appk_ticket_id)
        try:
            complaint, created = await desk.register(session, new, actor=actor, now=now)
        except ComplaintError as exc:
            result.errors.append((line, exc.problems))
            continue
        if created:
            result.imported.append(complaint.reference)
        else:
            result.duplicates.append(new.appk_ticket_id)
    return result
