"""What staff identity reports to the audit log, and the port it reports through.

`loket.staff.audit_bridge.LoketAudit` carries them into the verifiable audit log (`loket.audit`); a
service built without a sink records nothing. Events carry ids, never passwords, codes, keys or email
addresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

Detail = str | int | bool | None


@dataclass(frozen=True)
class AuditEvent:
    action: str  # e.g. staff.login, staff.totp.enrolled, staff.role.changed, apikey.rotated
    at: datetime
    actor_id: str | None  # the staff user acting; None for anonymous attempts and the CLI
    tenant_id: str | None
    target_type: str | None = None
    target_id: str | None = None
    outcome: str = "ok"  # ok, denied, failed
    details: Mapping[str, Detail] = field(default_factory=dict)


class AuditSink(Protocol):
    async def record(self, event: AuditEvent, *, session: AsyncSession | None = None) -> None:
        """Record `event`; with `session`, inside that transaction (it commits or rolls back with it)."""
        ...


class NoAudit:
    async def record(self, event: AuditEvent, *, session: AsyncSession | None = None) -> None:
        return None


class MemoryAudit:
    """Keeps events in a list: for tests and the demo."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def record(self, event: AuditEvent, *, session: AsyncSession | None = None) -> None:
        self.events.append(event)

    def actions(self) -> list[str]:
        return [event.action for event in self.events]
