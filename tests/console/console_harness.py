"""Harness for the console tests: the staff API and the console in-process on the test database,
two tenants, a FakeClock, cheap argon2, the real audit log, and helpers to sign people in and to put
handoffs in the queue. Imported by this name (`conftest` is not a unique module name in the tree)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.types import Receive, Scope, Send

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "staff"))

from staff_harness import (
    FAST_HASHING,
    MASTER_KEY,
    TENANT_A,
    TENANT_B,
    Client,
    Reply,
    World,
    seed_tenants,
)

from loket.audit import AuditLog, Pseudonymizer
from loket.audit import log as audit_log_module
from loket.audit.tables import AuditEntry
from loket.clock import FakeClock
from loket.console.app import install_console
from loket.console.bus import InboxBus
from loket.db.engine import Database
from loket.dialogue.tables import Handoff
from loket.staff.audit import MemoryAudit
from loket.staff.permissions import Role
from loket.staff.service import StaffService
from loket.staff.web import install_staff

__all__ = ["TENANT_A", "TENANT_B", "Client", "ConsoleWorld", "console_world"]


@dataclass
class ConsoleClient(Client):
    """The staff harness's client, with query strings (`/console/inbox?tab=mine`) passed on."""

    async def request(self, method: str, path: str, **kw: Any) -> Reply:
        bare, _, query = path.partition("?")
        app = self.app

        async def with_query(scope: Scope, receive: Receive, send: Send) -> None:
            await app({**scope, "query_string": query.encode()}, receive, send)

        self.app = with_query  # type: ignore[assignment]
        headers = {"accept": "text/html,application/xhtml+xml", **(kw.pop("headers", None) or {})}
        try:
            return await super().request(method, bare, headers=headers, **kw)
        finally:
            self.app = app


@dataclass
class ConsoleWorld(World):
    bus: InboxBus | None = None
    log: AuditLog | None = None
    _wa: int = 0

    def client(self, address: str = "198.51.100.7") -> Client:
        return ConsoleClient(self.app, address=address)

    async def member(self, email: str, role: Role, tenant: str | None = TENANT_A) -> tuple[str, Client]:
        """A signed-in staff member (first sign-in done): (user id, client with cookies and CSRF)."""
        user_id = await self.add_user(email, role, tenant)
        return user_id, await self.sign_in(email)

    async def handoff(
        self, tenant: str = TENANT_A, *, reason: str = "customer_request", age_minutes: int = 0, status: str = "waiting"
    ) -> int:
        self._wa += 1
        async with self.db.transaction() as session:
            row = Handoff(
                tenant_id=tenant,
                phone_number_id="1000" + tenant[-1],
                wa_id=f"6281200{self._wa:06d}",
                customer_id=None,
                language="id",
                reason=reason,
                summary="Nasabah minta bicara dengan petugas",
                status=status,
                created_at=self.clock.now() - timedelta(minutes=age_minutes),
            )
            session.add(row)
            await session.flush()
            return int(row.id)

    async def assignee(self, handoff_id: int) -> str | None:
        async with self.db.sessions() as session:
            return await session.scalar(select(Handoff.assigned_to).where(Handoff.id == handoff_id))

    async def audit_kinds(self, tenant: str = TENANT_A) -> list[str]:
        async with self.db.sessions() as session:
            rows = await session.execute(select(AuditEntry.event_type).where(AuditEntry.tenant_id == tenant))
            return [str(kind) for kind in rows.scalars()]


@pytest.fixture
async def console_world(db: Database) -> AsyncIterator[ConsoleWorld]:
    clock = FakeClock()
    await seed_tenants(db, clock)
    log = AuditLog(db, Pseudonymizer(MASTER_KEY), clock=clock)
    previous = audit_log_module.current()
    audit_log_module.install(log)
    staff = StaffService.build(db, MASTER_KEY, clock=clock, hashing=FAST_HASHING, audit=MemoryAudit())
    app = FastAPI()
    install_staff(app, staff)
    bus = InboxBus()
    install_console(app, bus=bus)
    try:
        yield ConsoleWorld(db=db, clock=clock, audit=MemoryAudit(), staff=staff, app=app, bus=bus, log=log)
    finally:
        assigner = getattr(app.state, "console_assigner", None)
        if assigner is not None:
            await assigner.stop()
        audit_log_module.install(previous)
