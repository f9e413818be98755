"""Access and copy (UU PDP Arts. 6-7, 13, 32: PDP-R2, PDP-R8): everything Loket holds about one person,
as JSON (machine-readable) and a readable PDF, plus the record of its processing (their audit entries,
found by the keyed pseudonym the audit log uses for them: PDP-7).

Collection walks the schema: every table with a tenant and a column naming the person (WhatsApp
number or customer id) contributes its rows, so tables added later (complaints, say) are included
without touching this module. Sealed columns are opened where Loket knows how (feedback comments);
any other ciphertext is listed as sealed, never dumped as bytes. Secrets never reach the export:
the secret shield redacted them before storage, and keys, tokens and hashes of credentials live in
tables that do not name customers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Column, String, Table, Text, bindparam, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit.tables import AuditEntry
from loket.db.base import Base
from loket.db.models import FeedbackEntry
from loket.flows.store import open_comment
from loket.inbox import sealing
from loket.security.keys import KeyErased
from loket.security.keystore import KeyStore
from loket.security.secretbox import SecretBox, SecretDecryptionError

EXPORT_VERSION = 1
PERSON_COLUMNS = ("wa_id", "to_wa_id", "contact_wa_id", "recipient_id")
CUSTOMER_COLUMNS = ("customer_id",)
# Not the person's data, or not theirs to see: audit entries come in their own section; legal holds
# may concern an investigation the person must not be tipped off about (UU PDP Art. 15, PDP-R10).
SKIPPED_TABLES = frozenset({"audit_entries", "privacy_legal_holds", "privacy_purge_runs"})
# Columns that are Loket's machinery, not information about the person.
SKIPPED_COLUMNS = frozenset({"claimed_by", "claimed_at", "idempotency_key", "token_sha256", "subject_hash"})
SEALED = "[sealed]"
MAX_ROWS_PER_TABLE = 20_000

Opener = Callable[[Mapping[Any, Any]], str | None]


@dataclass
class Export:
    tenant_id: str
    reference: str
    generated_at: datetime
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "loket_export_version": EXPORT_VERSION,
            "tenant": self.tenant_id,
            "request": self.reference,
            "generated_at": self.generated_at.isoformat(),
            "data": self.sections,
            "processing_record": self.audit,
        }

    def json_bytes(self) -> bytes:
        return orjson.dumps(self.to_json(), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)

    def row_count(self) -> int:
        return sum(len(rows) for rows in self.sections.values()) + len(self.audit)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return SEALED
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _quoted(pseudonym: str) -> Any:
    """A LIKE pattern for the pseudonym as a JSON string value; `_` and `%` taken literally."""
    escaped = pseudonym.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return bindparam("pseudonym", f'%"{escaped}"%', type_=String)


def _person_tables() -> list[tuple[Table, list[Column[Any]], list[Column[Any]]]]:
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name in SKIPPED_TABLES or "tenant_id" not in table.c:
            continue
        people = [table.c[name] for name in PERSON_COLUMNS if name in table.c]
        customers = [table.c[name] for name in CUSTOMER_COLUMNS if name in table.c]
        if people or customers:
            found.append((table, people, customers))
    return found


async def _open_inbound(keys: KeyStore, session: AsyncSession, raw: Mapping[Any, Any]) -> dict[str, Any]:
    """Text, payload and profile name of a sealed inbound message (loket.inbox.sealing)."""
    try:
        plain = await keys.open(session, raw["sealed"], table=sealing.INBOUND, column=sealing.SEALED, row=raw["wamid"])
    except KeyErased:
        return {"text": sealing.ERASED_TEXT}
    content = orjson.loads(plain)
    return {name: content.get(name) for name in ("text", "payload", "profile_name")}


def _openers(box: SecretBox | None) -> dict[tuple[str, str], Opener]:
    if box is None:
        return {}

    def feedback_comment(row: Mapping[Any, Any]) -> str | None:
        entry = FeedbackEntry(reference=row["reference"], comment_enc=row["comment_enc"])
        return open_comment(box, entry)

    def complaint_text(column: str) -> Opener:
        # loket.complaints seals its free text with the SecretBox, bound to "<tenant>:<reference>"
        def opener(row: Mapping[Any, Any]) -> str | None:
            return box.open(
                row[column], table="complaints", column=column, row=f"{row['tenant_id']}:{row['reference']}"
            )

        return opener

    found: dict[tuple[str, str], Opener] = {("feedback_entries", "comment_enc"): feedback_comment}
    for column in ("contact_enc", "summary_enc", "representative_enc", "final_answer_enc"):
        found[("complaints", column)] = complaint_text(column)
    return found


async def collect(
    session: AsyncSession,
    *,
    tenant_id: str,
    wa_id: str,
    customer_id: str | None,
    pseudonym: str,
    reference: str,
    now: datetime,
    box: SecretBox | None = None,
    keys: KeyStore | None = None,
) -> Export:
    """`box` opens feedback comments; `keys` opens what encryption at rest sealed (message contents)."""
    export = Export(tenant_id, reference, now)
    openers = _openers(box)
    for table, people, customers in _person_tables():
        matches = [column == wa_id for column in people]
        if customer_id is not None:
            matches += [column == customer_id for column in customers]
        if not matches:
            continue
        query = select(table).where(table.c.tenant_id == tenant_id, or_(*matches)).limit(MAX_ROWS_PER_TABLE)
        pk = list(table.primary_key.columns)
        if pk:
            query = query.order_by(*pk)
        rows = []
        for raw in (await session.execute(query)).mappings():
            item: dict[str, Any] = {}
            for key, value in raw.items():
                name = str(getattr(key, "name", key))  # table columns are quoted_name, a str subclass
                if name in SKIPPED_COLUMNS or name == "tenant_id":
                    continue
                opener = openers.get((table.name, name))
                if opener is not None and value is not None:
                    try:
                        item[name.removesuffix("_enc")] = opener(raw)
                    except SecretDecryptionError:  # sealed some other way: listed, never dumped
                        item[name] = SEALED
                else:
                    item[name] = _value(value)
            if keys is not None and table.name == sealing.INBOUND and isinstance(raw.get("sealed"), bytes):
                item.update(await _open_inbound(keys, session, raw))
                item.pop("sealed", None)
            rows.append(item)
        if rows:
            export.sections[str(table.name)] = rows
    # The record of processing: audit entries that name this person (by their pseudonym, never in clear).
    entries = await session.execute(
        select(AuditEntry)
        .where(AuditEntry.tenant_id == tenant_id, cast(AuditEntry.fields, Text).like(_quoted(pseudonym), escape="\\"))
        .order_by(AuditEntry.seq)
    )
    for entry in entries.scalars():
        export.audit.append(
            {
                "index": entry.seq,
                "type": entry.event_type,
                "at": entry.occurred_at.isoformat(),
                "actor": entry.actor,
                "fields": entry.fields,
            }
        )
    return export
