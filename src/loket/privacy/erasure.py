"""Erasure (UU PDP Art. 8, 43-44: PDP-R4): crypto-shredding plus deletion where the law allows.

1. A legal hold on the customer or the tenant stops it (the request is rejected with `legal_hold`).
2. The customer's data key is destroyed through the shredding port (loket.security.shredding), so
   every ciphertext of theirs is unreadable everywhere, backups included.
3. What exists only to serve the conversation is deleted: dialogue state, preferences, marketing
   data, pending step-ups, Flow sessions, documents waiting to be sent, queued messages.
4. What the law requires to be kept keeps a minimal, non-personal form (docs/privacy.md lists each with
   its legal basis): the WhatsApp number is replaced by an erasure marker derived from the keyed hash,
   message contents are emptied, and the audit log is untouched (it holds pseudonyms only, and stays
   verifiable).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.db.base import Base
from loket.db.engine import Database
from loket.privacy.export import PERSON_COLUMNS

# Tables whose rows exist only to serve the conversation: deleted outright.
DELETED = (
    ("conversations", "wa_id"),
    ("flow_sessions", "wa_id"),
    ("step_up_watches", "wa_id"),
    ("outgoing_documents", "to_wa_id"),
    ("outbound_recipients", "wa_id"),
    ("alert_digest_items", "wa_id"),
)
DELETED_BY_CUSTOMER = ("alert_preferences",)
# Records kept in a minimal form: these columns are emptied (value given), the number replaced.
BLANKED: dict[str, dict[str, Any]] = {
    "inbound_messages": {"text": None, "payload": {}, "profile_name": None, "reply_id": None, "sealed": None},
    "outbox": {"payload": {}, "fallback": None, "sealed": None},
    "handoffs": {"summary": ""},
    "confirmations": {"shown": {}, "payee": ""},
    "feedback_entries": {"comment_enc": None, "contact_consent": False},
    "security_signals": {"detail": {}},
    # The complaint record stays (POJK 22/2023 complaint handling and reporting); who to contact goes.
    "complaints": {"contact_enc": None, "representative_enc": None},
}
NULLED = (("feedback_entries", "contact_wa_id"), ("privacy_requests", "wa_id"))
SKIPPED = frozenset({"privacy_legal_holds", "audit_entries"})
QUEUED_OUTBOX = ("queued", "sending")


class Shredder(Protocol):
    def __call__(self, db: Database, tenant_id: str, wa_id: str) -> Awaitable[object]: ...


def installed_shredder() -> Shredder | None:
    """H3's `shred_customer`, when this build has it (docs/encryption.md)."""
    try:
        from loket.security import shredding
    except ImportError:
        return None
    shred = getattr(shredding, "shred_customer", None)
    return shred if callable(shred) else None


def report_json(report: object) -> dict[str, Any]:
    """The shredding report as evidence: scalars, times as ISO text, tuples of ids as lists."""
    items: dict[str, Any] = {}
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        items = {f.name: getattr(report, f.name) for f in dataclasses.fields(report)}
    elif hasattr(report, "__dict__"):
        items = dict(vars(report))
    out: dict[str, Any] = {}
    for key, value in items.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif isinstance(value, tuple | list) and all(isinstance(v, int | str) for v in value):
            out[key] = list(value)
        elif isinstance(value, str | int | bool | float) or value is None:
            out[key] = value
    return out


def erased_marker(subject_hash: str) -> str:
    """What replaces the number in kept records: stable per person, meaningless without the master key."""
    return "erased:" + hashlib.sha256(subject_hash.encode()).hexdigest()[:24]


@dataclass
class ErasureReport:
    deleted: dict[str, int] = dataclasses.field(default_factory=dict)
    minimised: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.deleted.values()) + sum(self.minimised.values())

    def to_json(self) -> dict[str, Any]:
        return {"deleted": dict(self.deleted), "minimised": dict(self.minimised)}


def _table(name: str) -> Table | None:
    return Base.metadata.tables.get(name)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def erase_records(
    session: AsyncSession, *, tenant_id: str, wa_id: str, customer_id: str | None, subject_hash: str
) -> ErasureReport:
    """Steps 3 and 4, in the caller's transaction."""
    report = ErasureReport()
    marker = erased_marker(subject_hash)
    outbox = _table("outbox")
    if outbox is not None:  # nothing more is sent to this number
        result = await session.execute(
            update(outbox)
            .where(outbox.c.tenant_id == tenant_id, outbox.c.to_wa_id == wa_id, outbox.c.state.in_(QUEUED_OUTBOX))
            .values(state="cancelled", last_error="erased on the customer's request")
        )
        report.minimised["outbox_cancelled"] = _count(result)
    for name, column in DELETED:
        table = _table(name)
        if table is not None and column in table.c:
            result = await session.execute(
                delete(table).where(table.c.tenant_id == tenant_id, table.c[column] == wa_id)
            )
            report.deleted[name] = report.deleted.get(name, 0) + _count(result)
    if customer_id is not None:
        for name in DELETED_BY_CUSTOMER:
            table = _table(name)
            if table is not None and "customer_id" in table.c:
                result = await session.execute(
                    delete(table).where(table.c.tenant_id == tenant_id, table.c.customer_id == customer_id)
                )
                report.deleted[name] = _count(result)
    for name, column in NULLED:
        table = _table(name)
        if table is not None and column in table.c:
            values = {column: None, **{k: v for k, v in BLANKED.get(name, {}).items() if k in table.c}}
            result = await session.execute(
                update(table).where(table.c.tenant_id == tenant_id, table.c[column] == wa_id).values(**values)
            )
            report.minimised[name] = report.minimised.get(name, 0) + _count(result)
    handled = {name for name, _ in DELETED} | {name for name, _ in NULLED}
    for table in Base.metadata.sorted_tables:
        if table.name in handled or table.name in SKIPPED or "tenant_id" not in table.c:
            continue
        for column in (c for c in PERSON_COLUMNS if c in table.c):
            values = {column: marker, **{k: v for k, v in BLANKED.get(table.name, {}).items() if k in table.c}}
            result = await session.execute(
                update(table).where(table.c.tenant_id == tenant_id, table.c[column] == wa_id).values(**values)
            )
            if count := _count(result):
                report.minimised[table.name] = report.minimised.get(table.name, 0) + count
    return report
