"""Fixtures of the complaints tests: two tenants, the desk, an installed audit log, a FakeClock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from complaints_support import MASTER, OTHER_TENANT, TENANT, wib

from loket.audit.canonical import Pseudonymizer
from loket.audit.log import AuditLog, install
from loket.clock import FakeClock
from loket.complaints.desk import ComplaintDesk
from loket.db.engine import Database
from loket.security.secretbox import SecretBox
from loket.tenancy.admin import TenantSpec, upsert_tenant


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wib(2026, 11, 2))


@pytest.fixture
async def tenants(db: Database) -> list[str]:
    await upsert_tenant(db, TenantSpec(TENANT, "bank", "PT Bank Nusantara Tbk", "Bank Nusantara", "KEP-1"))
    await upsert_tenant(db, TenantSpec(OTHER_TENANT, "bank", "PT Bank Lain Tbk", "Bank Lain", "KEP-2"))
    return [TENANT, OTHER_TENANT]


@pytest.fixture
async def audit(db: Database, clock: FakeClock) -> AsyncIterator[AuditLog]:
    log = AuditLog(db, Pseudonymizer(MASTER), clock=clock)
    install(log)
    yield log
    install(None)


@pytest.fixture
def desk(db: Database) -> ComplaintDesk:
    return ComplaintDesk(dialect=db.dialect, box=SecretBox(MASTER))
