"""Fixtures of the privacy tests: a seeded database, a fake clock and an audit log."""

from __future__ import annotations

import base64

import pytest

from loket.audit.canonical import Pseudonymizer
from loket.audit.log import AuditLog
from loket.clock import FakeClock
from loket.db.engine import Database
from loket.demo import seed_tenants
from loket.security.secretbox import SecretBox
from support import TEST_MASTER_KEY

MASTER = base64.urlsafe_b64decode(TEST_MASTER_KEY)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(MASTER)


@pytest.fixture
def audit(db: Database, clock: FakeClock) -> AuditLog:
    return AuditLog(db, Pseudonymizer(MASTER), clock=clock)


@pytest.fixture
async def seeded(db: Database, box: SecretBox) -> Database:
    await seed_tenants(db, box)
    return db
