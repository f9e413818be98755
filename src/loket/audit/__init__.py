"""The verifiable audit trail: `record()` events into a per-tenant RFC 6962 Merkle log with signed
checkpoints, proofs, offline verification and evidence bundles (docs/audit.md)."""

from __future__ import annotations

from loket.audit.canonical import Entry, Pseudonymizer
from loket.audit.events import CATALOGUE, AuditEventError, EventType
from loket.audit.log import AuditEvent, AuditLog, install, installed, record
from loket.audit.store import Receipt

__all__ = [
    "CATALOGUE",
    "AuditEvent",
    "AuditEventError",
    "AuditLog",
    "Entry",
    "EventType",
    "Pseudonymizer",
    "Receipt",
    "install",
    "installed",
    "record",
]
